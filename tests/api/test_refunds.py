"""POST /api/v1/orders/{id}/refunds: partial refunds with an Idempotency-Key, and their list."""

import pytest

from tests.api_support import Api, error_code
from tests.factories import AccountFactory, UserFactory, make_activity, make_credit
from tuition.checkout import services as checkout
from tuition.checkout.models import CreditNote, Order
from tuition.checkout.services import PaymentChoice
from tuition.ledger.models import Lot, Transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid():
    """A 300.00 order paid from a 500.00 credit."""
    course = make_activity(price=30000)
    credit = make_credit(AccountFactory(), 50000)
    order = checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=course.pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="test",
    ).order
    return order, credit.lot


def test_refund_part_of_an_order_and_replay_it(api: Api, paid):
    order, lot = paid
    body = {"amount": "45.50", "reason": "Session price dropped"}
    # when
    first = api.post(f"orders/{order.pk}/refunds", body, key="refund-1")
    again = api.post(f"orders/{order.pk}/refunds", body, key="refund-1")
    # then
    assert first.status_code == 201, first.json()
    refund = first.json()
    assert refund["amount"] == {"amount": "45.50", "unit": "USD"}
    assert refund["credit_note"].startswith("CN-") and refund["reason"] == body["reason"]
    assert again.status_code == 201 and again.json() == refund
    assert again.headers["Idempotent-Replayed"] == "true"
    assert CreditNote.objects.count() == 1
    assert Lot.objects.get(pk=lot.pk).remaining == 20000 + 4550
    # the same key with another body is refused
    other = api.post(f"orders/{order.pk}/refunds", {**body, "amount": "1.00"}, key="refund-1")
    assert error_code(other) == "idempotency_key_reused"
    # and the list shows it with what is left
    listed = api.get(f"orders/{order.pk}/refunds").json()
    assert listed["charged"]["amount"] == "300.00" and listed["refunded"]["amount"] == "45.50"
    assert listed["refundable"] == {"amount": "254.50", "unit": "USD"}
    assert [r["credit_note"] for r in listed["refunds"]] == [refund["credit_note"]]
    assert api.get(f"orders/{order.pk}").json()["refunded"]["amount"] == "45.50"


def test_over_refund_is_a_validation_error_and_writes_nothing(api: Api, paid):
    order, lot = paid
    ok = api.post(f"orders/{order.pk}/refunds", {"amount": "300.00", "reason": "all of it"})
    assert Lot.objects.get(pk=lot.pk).remaining == 50000
    assert ok.status_code == 201
    # when
    response = api.post(f"orders/{order.pk}/refunds", {"amount": "0.01", "reason": "more"})
    # then
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert response.json()["error"]["details"]["refundable"] == "0.00"
    assert Transfer.objects.filter(kind="reverse").count() == 1
    assert Order.objects.get(pk=order.pk).refunded_amount == 30000


@pytest.mark.parametrize(
    "amount", ["0", "-1.00", "NaN", "Infinity", "1e3", "1.001", "99999999999999999999.00", 5]
)
def test_bad_amounts_are_refused_with_400(api: Api, paid, amount):
    order, lot = paid
    response = api.post(f"orders/{order.pk}/refunds", {"amount": amount, "reason": "x"})
    assert response.status_code == 400, response.json()
    assert error_code(response) == "validation_error"
    assert CreditNote.objects.count() == 0 and Lot.objects.get(pk=lot.pk).remaining == 20000


def test_learners_may_not_refund(session_api, paid):
    order, _ = paid
    learner = Api(session_api(order.learner).client)
    response = learner.post(f"orders/{order.pk}/refunds", {"amount": "1.00", "reason": "x"})
    assert response.status_code == 403
    stranger = session_api(UserFactory())
    assert stranger.get(f"orders/{order.pk}/refunds").status_code in (403, 404)
    assert CreditNote.objects.count() == 0


def test_forecast_of_an_account(api: Api):
    from datetime import timedelta

    import time_machine

    from tests.factories import issue, usd
    from tuition.core import clock
    from tuition.ledger import services as ledger

    # given 90.00 used in the last 90 days (1.00 a day) and 30.00 left without expiry
    account = AccountFactory()
    issue(account, 12000, days=None)
    with time_machine.travel(clock.now() - timedelta(days=10), tick=False):
        ledger.debit(account_id=account.pk, unit=usd(), amount=9000, actor="t")
    # when
    response = api.get(f"accounts/{account.pk}/forecast")
    # then
    assert response.status_code == 200, response.json()
    (usd_forecast,) = response.json()
    assert usd_forecast["available"] == {"amount": "30.00", "unit": "USD"}
    assert usd_forecast["usage_90_days"]["amount"] == "90.00"
    expected = (clock.now() + timedelta(days=30)).date().isoformat()
    assert usd_forecast["runs_out_on"] == expected and usd_forecast["expiring"] == []
    assert api.get("accounts/999999/forecast").status_code == 404
