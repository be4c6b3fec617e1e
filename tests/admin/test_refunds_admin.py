"""The staff order page: refund part of an order after a review step; the account page shows
the forecast."""

import pytest
from django.urls import reverse

from tests.factories import make_activity, make_credit
from tuition.checkout import services as checkout
from tuition.checkout.models import CreditNote, Order
from tuition.checkout.services import PaymentChoice
from tuition.ledger.models import Lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(account):  # type: ignore[no-untyped-def]
    credit = make_credit(account, 50000)
    order = checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=make_activity(price=30000).pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="test",
    ).order
    return order, credit.lot


def test_staff_review_then_confirm_a_partial_refund(client, superuser, paid):
    order, lot = paid
    client.force_login(superuser)
    page = client.get(reverse("admin:checkout_order_change", args=[order.pk])).content.decode()
    assert "Refund part of this order" in page and "$300.00" in page
    url = reverse("admin:checkout_order_refund", args=[order.pk])
    # when: the first submit only shows what would happen
    review = client.post(url, {"amount": "45.50", "reason": "Session price dropped"})
    # then nothing is written yet
    assert review.status_code == 200 and "Confirm refund of $45.50" in review.content.decode()
    assert CreditNote.objects.count() == 0
    # when confirmed
    done = client.post(
        url, {"amount": "45.50", "reason": "Session price dropped", "confirmed": "on"}
    )
    # then
    assert done.status_code == 302
    note = CreditNote.objects.get()
    assert (note.amount, note.reason, note.actor) == (
        4550,
        "Session price dropped",
        f"user:{superuser.pk}@admin",
    )
    assert Lot.objects.get(pk=lot.pk).remaining == 20000 + 4550
    page = client.get(done["Location"]).content.decode()
    assert note.number in page and "$254.50" in page


def test_staff_over_refund_is_shown_in_the_form(client, superuser, paid):
    order, _ = paid
    client.force_login(superuser)
    url = reverse("admin:checkout_order_refund", args=[order.pk])
    response = client.post(url, {"amount": "300.01", "reason": "x", "confirmed": "on"})
    assert response.status_code == 200
    assert "Only $300.00 of this order is left to refund." in response.content.decode()
    bad = client.post(url, {"amount": "abc", "reason": "x", "confirmed": "on"})
    assert bad.status_code == 200 and CreditNote.objects.count() == 0
    assert Order.objects.get(pk=order.pk).refunded_amount == 0


def test_a_viewer_may_not_refund(client, viewer, paid):
    order, _ = paid
    client.force_login(viewer)
    url = reverse("admin:checkout_order_refund", args=[order.pk])
    response = client.post(url, {"amount": "1.00", "reason": "x", "confirmed": "on"})
    assert response.status_code == 403 and CreditNote.objects.count() == 0


def test_staff_account_page_shows_the_forecast(client, superuser, account):
    make_credit(account, 10000, days=30)
    client.force_login(superuser)
    page = client.get(
        reverse("admin:accounts_trainingaccount_change", args=[account.pk])
    ).content.decode()
    assert "does not run out at the current rate" in page
    assert "will expire unused" in page
