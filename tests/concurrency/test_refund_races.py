"""Simultaneous partial refunds of one order never return more than it charged."""

from collections import Counter

import pytest

from tests.concurrency.parallel import run_in_parallel
from tests.factories import AccountFactory, make_activity, make_credit, usd
from tuition.checkout import services as checkout
from tuition.checkout.models import CreditNote, Order
from tuition.checkout.refunds import refund_part
from tuition.checkout.services import PaymentChoice
from tuition.checkout.verify import CHECKS as CHECKOUT_CHECKS
from tuition.ledger.models import Lot, Transfer
from tuition.ledger.verify import CHECKS as LEDGER_CHECKS

pytestmark = pytest.mark.django_db(transaction=True)


def test_10_partial_refunds_of_30_percent_at_once_exactly_3_succeed():
    # given a 100.00 order paid from a 100.00 credit (nothing left on it)
    usd()
    course = make_activity(price=10000)
    account = AccountFactory()
    credit = make_credit(account, 10000)
    order = checkout.checkout(
        learner_email="ana@race.test",
        activity_id=course.pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="test",
    ).order

    # when ten staff members refund 30.00 each at the same moment
    outcomes = run_in_parallel(
        lambda i: refund_part(
            order_id=order.pk, amount=3000, reason="price dropped", actor=f"staff:{i}"
        ),
        10,
    )

    # then exactly three fit in the 100.00 charged
    assert Counter(outcomes) == {"ok": 3, "validation_error": 7}, outcomes
    assert Order.objects.get(pk=order.pk).refunded_amount == 9000
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 9000
    assert CreditNote.objects.filter(order=order).count() == 3
    assert sorted(CreditNote.objects.values_list("sequence", flat=True)) == [1, 2, 3]
    assert Transfer.objects.filter(kind="reverse").count() == 3
    assert [p for check in [*LEDGER_CHECKS, *CHECKOUT_CHECKS] for p in check()] == []
