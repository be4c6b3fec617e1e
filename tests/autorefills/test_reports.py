"""The Purchases report marks the refills an automatic refill bought."""

from decimal import Decimal

import pytest

from tests.autorefills.test_rules import CARD_THRESHOLD
from tests.factories import usd
from tuition.autorefills import services as autorefills
from tuition.checkout.refills import purchase_refill
from tuition.reports import runner

pytestmark = pytest.mark.django_db


def test_purchases_report_marks_automatic_refills(acme, owner):
    # given: one refill bought by hand, one by a threshold rule
    purchase_refill(
        account_id=acme.pk,
        unit=usd(),
        amount=5000,
        buyer_email=owner.email,
        actor="user:olga@acme.test",
        provider="invoice",
    )
    autorefills.set_rule(
        account_id=acme.pk, unit=usd(), rule=CARD_THRESHOLD, buyer=owner, actor="user:1"
    )
    assert autorefills.run_automatic_refills() == 1

    # when
    spec = runner.prepare(
        report_type="purchases", columns=["amount", "method", "automatic_refill"], filters={}
    )
    rows = [[c.get(row) for c in spec.columns] for row in runner.rows(spec)]

    # then
    assert rows == [
        [Decimal("50.00"), "Invoice", ""],
        [Decimal("500.00"), "Card", "threshold, crossing 1"],
    ]
