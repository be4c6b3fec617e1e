"""Automatic refills: setting rules, threshold and allowance firings, pause, declined cards."""

from datetime import UTC, datetime

import pytest
import time_machine

from tests.factories import issue, usd
from tuition.autorefills import services as autorefills
from tuition.autorefills.models import RefillFiring, RefillRule
from tuition.autorefills.services import RuleInput
from tuition.checkout.models import Invoice, Order
from tuition.checkout.payments import DECLINED_CARD, SUCCESS_CARD
from tuition.core.errors import ValidationError
from tuition.ledger.models import Lot
from tuition.ledger.selectors import available_balance
from tuition.notifications.models import NotificationEvent

CARD_THRESHOLD = RuleInput(
    kind="threshold", threshold=10000, amount=50000, provider="sandbox", card_number=SUCCESS_CARD
)


def debit(account, amount: int) -> None:
    """Take `amount` USD out of the account's lots (an adjustment, as staff would)."""
    from tuition.ledger import services as ledger

    for lot in Lot.objects.filter(account=account, remaining__gt=0).order_by("pk"):
        take = min(lot.remaining, amount)
        ledger.adjust_lot(lot_id=lot.pk, delta=-take, reason="used", actor="test")
        amount -= take
        if not amount:
            return


def test_setting_a_card_rule_stores_a_token_never_the_card_number(acme, owner):
    # when
    rule = autorefills.set_rule(
        account_id=acme.pk, unit=usd(), rule=CARD_THRESHOLD, buyer=owner, actor="user:1"
    )

    # then
    stored = RefillRule.objects.get(pk=rule.pk)
    assert stored.card_last4 == "4242"
    assert SUCCESS_CARD not in stored.card_reference
    assert stored.armed and not stored.is_paused


def test_setting_the_rule_again_replaces_it_and_keeps_the_card(acme, owner):
    # given
    first = autorefills.set_rule(
        account_id=acme.pk, unit=usd(), rule=CARD_THRESHOLD, buyer=owner, actor="user:1"
    )

    # when
    again = autorefills.set_rule(
        account_id=acme.pk,
        unit=usd(),
        rule=RuleInput(kind="threshold", threshold=20000, amount=30000, provider="sandbox"),
        buyer=owner,
        actor="user:1",
    )

    # then
    assert again.pk == first.pk
    assert RefillRule.objects.filter(account=acme).count() == 1
    stored = RefillRule.objects.get(pk=first.pk)
    assert (stored.threshold, stored.amount, stored.card_last4) == (20000, 30000, "4242")


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (RuleInput(kind="threshold", threshold=None, amount=100, provider="invoice"), "threshold"),
        (RuleInput(kind="threshold", threshold=100, amount=0, provider="invoice"), "amount"),
        (RuleInput(kind="allowance", threshold=5, amount=100, provider="invoice"), "threshold"),
        (RuleInput(kind="weekly", amount=100, provider="invoice"), "kind"),
        (RuleInput(kind="allowance", amount=100, provider="sandbox"), "card_number"),
    ],
)
def test_bad_rules_are_refused_and_nothing_is_stored(acme, owner, rule, field):
    with pytest.raises(ValidationError) as refused:
        autorefills.set_rule(account_id=acme.pk, unit=usd(), rule=rule, buyer=owner, actor="u")
    assert refused.value.details.get("field") == field
    assert not RefillRule.objects.exists()


def test_threshold_rule_buys_once_when_the_balance_falls_below_and_rearms_above(acme, owner):
    # given: 200.00 available and a rule "below 100.00 buy 500.00 by card"
    issue(acme, 20000)
    rule = autorefills.set_rule(
        account_id=acme.pk, unit=usd(), rule=CARD_THRESHOLD, buyer=owner, actor="user:1"
    )
    assert autorefills.run_automatic_refills() == 0

    # when: the balance falls to 50.00 and the job runs twice
    debit(acme, 15000)
    first = autorefills.run_automatic_refills()
    rule.refresh_from_db()
    assert not rule.armed and rule.firings == 1
    second = autorefills.run_automatic_refills()

    # then: one refill, paid by card, lot issued, rule disarmed, owners told
    assert (first, second) == (1, 0)
    firing = RefillFiring.objects.get(rule=rule)
    assert (firing.key, firing.outcome, firing.balance_before) == ("threshold:1", "paid", 5000)
    order = firing.order
    assert order.status == Order.Status.PAID and order.actor == autorefills.JOB_ACTOR
    assert Lot.objects.get(pk=order.refill_lot_id).redeemable_value == 50000
    assert available_balance(account_id=acme.pk, unit_id=usd().pk) == 55000
    assert NotificationEvent.objects.filter(kind="refill.automatic").count() == 1
    # the second run saw the balance back above the threshold (the refill did that): re-armed
    rule.refresh_from_db()
    assert rule.armed

    # when: it falls again
    debit(acme, 50000)
    assert autorefills.run_automatic_refills() == 1

    # then: the second crossing bought a second time
    assert list(RefillFiring.objects.order_by("pk").values_list("key", flat=True)) == [
        "threshold:1",
        "threshold:2",
    ]


def test_invoice_threshold_rule_buys_once_while_the_invoice_is_unpaid(acme, owner):
    # given
    rule = autorefills.set_rule(
        account_id=acme.pk,
        unit=usd(),
        rule=RuleInput(kind="threshold", threshold=10000, amount=50000, provider="invoice"),
        buyer=owner,
        actor="user:1",
    )

    # when: the balance stays below (nothing arrives until the invoice is paid)
    runs = [autorefills.run_automatic_refills() for _ in range(3)]

    # then
    assert runs == [1, 0, 0]
    firing = RefillFiring.objects.get(rule=rule)
    assert firing.outcome == "invoiced"
    assert firing.order.status == Order.Status.PENDING_PAYMENT
    assert Invoice.objects.filter(order=firing.order).count() == 1
    assert firing.order.refill_lot_id is None


def test_paused_rule_never_fires_and_resumed_rule_does(acme, owner):
    # given
    rule = autorefills.set_rule(
        account_id=acme.pk, unit=usd(), rule=CARD_THRESHOLD, buyer=owner, actor="user:1"
    )
    autorefills.pause_rule(rule_id=rule.pk, actor="user:1")

    # when / then
    assert autorefills.run_automatic_refills() == 0
    assert not RefillFiring.objects.exists()
    autorefills.resume_rule(rule_id=rule.pk, actor="user:1")
    assert autorefills.run_automatic_refills() == 1
    assert RefillFiring.objects.filter(rule=rule, outcome="paid").count() == 1


def test_declined_card_pauses_the_rule_tells_the_owners_and_buys_nothing(acme, owner):
    # given
    rule = autorefills.set_rule(
        account_id=acme.pk,
        unit=usd(),
        rule=RuleInput(
            kind="threshold",
            threshold=10000,
            amount=50000,
            provider="sandbox",
            card_number=DECLINED_CARD,
        ),
        buyer=owner,
        actor="user:1",
    )

    # when
    bought = [autorefills.run_automatic_refills() for _ in range(2)]

    # then
    assert bought == [0, 0]
    rule.refresh_from_db()
    assert rule.pause_reason == RefillRule.PauseReason.CARD_DECLINED
    assert rule.armed  # resumed with a good card, it buys at once
    attempt = RefillFiring.objects.get(rule=rule)
    assert (attempt.outcome, attempt.key, attempt.order) == ("declined", None, None)
    assert not Order.objects.exists()
    assert NotificationEvent.objects.filter(kind="refill.automatic_paused").count() == 1


def test_allowance_buys_on_the_first_of_each_month_once(acme, owner):
    # given: an allowance set on 15 November
    with time_machine.travel(datetime(2026, 11, 15, 10, tzinfo=UTC), tick=False):
        rule = autorefills.set_rule(
            account_id=acme.pk,
            unit=usd(),
            rule=RuleInput(kind="allowance", amount=20000, provider="invoice"),
            buyer=owner,
            actor="user:1",
        )
        # then: nothing in November (set after the first)
        assert autorefills.run_automatic_refills() == 0

    # when: December comes, the job runs twice
    with time_machine.travel(datetime(2026, 12, 1, 0, 1, tzinfo=UTC), tick=False):
        assert [autorefills.run_automatic_refills() for _ in range(2)] == [1, 0]
    with time_machine.travel(datetime(2026, 12, 20, tzinfo=UTC), tick=False):
        assert autorefills.run_automatic_refills() == 0
    # and January
    with time_machine.travel(datetime(2027, 1, 1, 8, tzinfo=UTC), tick=False):
        assert [autorefills.run_automatic_refills() for _ in range(2)] == [1, 0]

    # then
    keys = list(RefillFiring.objects.filter(rule=rule).order_by("pk").values_list("key", flat=True))
    assert keys == ["allowance:2026-12", "allowance:2027-01"]
    assert Order.objects.filter(item_kind="refill").count() == 2


def test_deleted_rule_never_fires_and_its_firings_stay(acme, owner):
    rule = autorefills.set_rule(
        account_id=acme.pk, unit=usd(), rule=CARD_THRESHOLD, buyer=owner, actor="user:1"
    )
    assert autorefills.run_automatic_refills() == 1
    autorefills.delete_rule(rule_id=rule.pk, actor="user:1")
    assert autorefills.run_automatic_refills() == 0
    assert RefillFiring.objects.filter(rule=rule).count() == 1
