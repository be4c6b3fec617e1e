"""Automatic refills under concurrency: a threshold crossed by 20 simultaneous checkouts buys
once; the job run by several workers at once buys once; a monthly allowance run twice or at
once in the same month buys once, and again next month. Same on SQLite and PostgreSQL."""

from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine

from tests.concurrency.parallel import run_in_parallel
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    UserFactory,
    make_activity,
    make_credit,
    usd,
)
from tuition.accounts.models import Membership
from tuition.autorefills import services as autorefills
from tuition.autorefills.models import RefillFiring
from tuition.autorefills.services import RuleInput
from tuition.checkout import services as checkout
from tuition.checkout.models import Order
from tuition.checkout.payments import SUCCESS_CARD
from tuition.checkout.services import PaymentChoice
from tuition.checkout.verify import CHECKS as CHECKOUT_CHECKS
from tuition.codes import services as codes
from tuition.ledger.models import Lot
from tuition.ledger.selectors import available_balance
from tuition.ledger.verify import CHECKS as LEDGER_CHECKS
from tuition.notifications.models import NotificationEvent

pytestmark = pytest.mark.django_db(transaction=True)


def problems() -> list[str]:
    return [p for check in [*LEDGER_CHECKS, *CHECKOUT_CHECKS] for p in check()]


def owned_account():
    usd()
    owner = UserFactory(email="olga@race.test")
    account = AccountFactory(name="Acme")
    MembershipFactory(account=account, user=owner, role=Membership.Role.OWNER)
    return account, owner


def test_20_checkouts_crossing_the_threshold_buy_one_refill_even_checked_by_many_workers():
    # given: 400.00 in a pool, a 10.00 course, and "below 300.00 buy 500.00 by card"
    account, owner = owned_account()
    course = make_activity(price=1000)
    make_credit(account, 40000)
    pool = codes.create_pool_code(account_id=account.pk, unit=usd(), actor="owner")
    rule = autorefills.set_rule(
        account_id=account.pk,
        unit=usd(),
        rule=RuleInput(
            kind="threshold",
            threshold=30000,
            amount=50000,
            provider="sandbox",
            card_number=SUCCESS_CARD,
        ),
        buyer=owner,
        actor="owner",
    )

    # when: 20 learners check out at once, each then checking the thresholds (as the worker
    # does after the fan-out), and then 8 workers check at once again
    def buy_and_check(i: int) -> str:
        checkout.checkout(
            learner_email=f"learner{i}@race.test",
            activity_id=course.pk,
            payment=PaymentChoice(method="code", code=pool.code_text),
            actor=f"w{i}",
        )
        bought = autorefills.run_automatic_refills(account_ids=[account.pk])
        return f"ok+{bought}"

    outcomes = run_in_parallel(buy_and_check, 20)
    again = run_in_parallel(
        lambda i: str(autorefills.run_automatic_refills(account_ids=[account.pk])), 8
    )

    # then: every checkout paid, the balance crossed 300.00 once, one refill was bought
    assert all(o.startswith("ok+") for o in outcomes), outcomes
    assert sum(int(o.split("+")[1]) for o in outcomes) == 1, outcomes
    assert Counter(again) == {"0": 8}, again
    firing = RefillFiring.objects.get(rule=rule)
    assert (firing.key, firing.outcome) == ("threshold:1", "paid")
    assert Order.objects.filter(item_kind="refill").count() == 1
    assert Lot.objects.filter(account=account, source=Lot.Source.PURCHASE).count() == 1
    assert available_balance(account_id=account.pk, unit_id=usd().pk) == 40000 - 20000 + 50000
    assert NotificationEvent.objects.filter(kind="refill.automatic").count() == 1
    assert problems() == []


def test_allowance_run_at_once_by_many_workers_buys_once_a_month():
    # given: a monthly allowance of 200.00 by invoice, set in November
    account, owner = owned_account()
    with time_machine.travel(datetime(2026, 11, 20, tzinfo=UTC), tick=False):
        rule = autorefills.set_rule(
            account_id=account.pk,
            unit=usd(),
            rule=RuleInput(kind="allowance", amount=20000, provider="invoice"),
            buyer=owner,
            actor="owner",
        )

    def run_job(month: datetime):
        def job(i: int) -> str:
            with time_machine.travel(month, tick=False):
                return str(autorefills.run_automatic_refills())

        return job

    # when: December's first minute, 6 workers at once, then twice more
    december = run_in_parallel(run_job(datetime(2026, 12, 1, 0, 1, tzinfo=UTC)), 6)
    later = [run_job(datetime(2026, 12, 9, tzinfo=UTC))(0) for _ in range(2)]
    january = run_in_parallel(run_job(datetime(2027, 1, 1, 0, 1, tzinfo=UTC)), 6)

    # then
    assert Counter(december) == {"1": 1, "0": 5}, december
    assert later == ["0", "0"]
    assert Counter(january) == {"1": 1, "0": 5}, january
    keys = sorted(RefillFiring.objects.filter(rule=rule).values_list("key", flat=True))
    assert keys == ["allowance:2026-12", "allowance:2027-01"]
    assert Order.objects.filter(item_kind="refill", status="pending_payment").count() == 2
    assert problems() == []
