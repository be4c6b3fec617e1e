"""Holds under concurrency: simultaneous checkouts that need approval never hold more than the
balance; approvals, declines and the expiry job racing on the same holds end each exactly once.
Same on SQLite and PostgreSQL."""

from collections import Counter
from datetime import timedelta

import pytest

from tests.concurrency.parallel import run_in_parallel
from tests.factories import AccountFactory, make_activity, make_credit, usd
from tuition.checkout import approvals
from tuition.checkout import services as checkout
from tuition.checkout.models import Order, Registration
from tuition.checkout.services import PaymentChoice
from tuition.checkout.verify import CHECKS as CHECKOUT_CHECKS
from tuition.core import clock
from tuition.ledger.models import Hold, Lot, Transfer
from tuition.ledger.verify import CHECKS as LEDGER_CHECKS

pytestmark = pytest.mark.django_db(transaction=True)


def problems() -> list[str]:
    return [p for check in [*LEDGER_CHECKS, *CHECKOUT_CHECKS] for p in check()]


def held_or_paid(result: object) -> str:
    return "held" if isinstance(result, approvals.AwaitingApproval) else "paid"


def test_30_checkouts_needing_approval_on_a_balance_for_10_hold_exactly_10():
    # given: every redemption needs approval, and the credit covers 10 of them
    usd()
    course = make_activity(price=5000)
    account = AccountFactory()
    issued = make_credit(account, 5000 * 10)
    approvals.set_rules(
        account_id=account.pk, above={"USD": 0}, items=[], hold_hours=24, actor="owner"
    )

    # when
    outcomes = run_in_parallel(
        lambda i: held_or_paid(
            checkout.checkout(
                learner_email=f"learner{i}@race.test",
                activity_id=course.pk,
                payment=PaymentChoice(method="code", code=issued.code_text),
                actor=f"w{i}",
            )
        ),
        30,
    )

    # then
    assert Counter(outcomes) == {"held": 10, "insufficient_balance": 20}, outcomes
    assert Hold.objects.filter(status="pending").count() == 10
    assert Order.objects.filter(status="awaiting_approval").count() == 10
    assert Registration.objects.count() == 0
    assert Transfer.objects.filter(kind="redeem").count() == 0
    assert Lot.objects.get(pk=issued.lot.pk).remaining == 0
    assert problems() == []


def test_approvals_declines_and_expiry_racing_end_every_hold_exactly_once():
    # given: 12 holds; the time of the first 6 has run out (the expiry job may take them)
    usd()
    account = AccountFactory()
    issued = make_credit(account, 1000 * 12 + 500)
    approvals.set_rules(
        account_id=account.pk, above={"USD": 0}, items=[], hold_hours=24, actor="owner"
    )
    hold_ids = []
    for i in range(12):
        course = make_activity(title=f"Course {i}", price=1000)
        waiting = checkout.checkout(
            learner_email=f"learner{i}@race.test",
            activity_id=course.pk,
            payment=PaymentChoice(method="code", code=issued.code_text),
            actor="setup",
        )
        hold_ids.append(waiting.hold.pk)
    Hold.objects.filter(pk__in=hold_ids[:6]).update(expires_at=clock.now() - timedelta(seconds=1))

    # when: for every hold an approval and a decline, plus three expiry jobs, all at once
    def act(i: int) -> object:
        if i >= 24:
            return f"expired {approvals.expire_overdue_holds()}"
        hold_id = hold_ids[i % 12]
        if i < 12:
            return approvals.approve(hold_id=hold_id, actor=f"owner{i}")
        return approvals.decline(hold_id=hold_id, actor=f"owner{i}")

    outcomes = run_in_parallel(act, 27)

    # then: each hold ended once, by exactly one of the deciders that raced on it
    holds = {h.pk: h for h in Hold.objects.all()}
    assert all(h.status != "pending" for h in holds.values())
    expired_by_jobs = sum(int(o.split()[1]) for o in outcomes[24:])
    for index, hold_id in enumerate(hold_ids):
        mine = [outcomes[index], outcomes[index + 12]]
        won = mine.count("ok") + (1 if holds[hold_id].status == "expired" else 0)
        assert won == 1, (hold_id, mine, holds[hold_id].status)
        assert all(o in ("ok", "hold_not_pending") for o in mine), mine
    for hold_id in hold_ids[:6]:
        assert holds[hold_id].status in ("released", "expired")
    assert expired_by_jobs == sum(1 for h in holds.values() if h.status == "expired")
    assert Transfer.objects.filter(kind="release").count() == 12
    captured = [h for h in holds.values() if h.status == "captured"]
    assert Transfer.objects.filter(kind="redeem").count() == len(captured)
    assert Registration.objects.count() == len(captured)
    assert Lot.objects.get(pk=issued.lot.pk).remaining == 12500 - 1000 * len(captured)
    assert problems() == []
