"""In headless Chromium: staff refund part of an order (review, confirm, credit note on the
order page), and the owner reads the forecast on the account page; axe finds nothing serious."""

import pytest
from playwright.sync_api import Page, expect

from tests.factories import (
    AccountFactory,
    MembershipFactory,
    UserFactory,
    make_activity,
    make_credit,
)
from tuition.accounts.models import Membership
from tuition.checkout import services as checkout
from tuition.checkout.models import CreditNote
from tuition.checkout.services import PaymentChoice

from .staff_helpers import shoot

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_refund_part_of_an_order_and_the_owner_sees_the_forecast(  # type: ignore[no-untyped-def]
    axe_page: Page, live_server, sign_in, axe_violations
):
    page = axe_page
    # given a 300.00 order paid from Acme's 500.00 credit
    account = AccountFactory(name="Acme Corp")
    owner = UserFactory(email="olga@acme.test")
    MembershipFactory(account=account, user=owner, role=Membership.Role.OWNER)
    credit = make_credit(account, 50000, days=60)
    order = checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=make_activity(price=30000).pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="test",
    ).order
    staff = UserFactory(email="root@northwind.test", is_staff=True, is_superuser=True)
    sign_in(page, live_server, staff)
    page.set_viewport_size({"width": 1366, "height": 900})

    # when staff open the order and refund 45.50 of it
    page.goto(f"{live_server.url}/admin/checkout/order/{order.pk}/change/")
    page.get_by_role("link", name="Refund part of this order").click()
    page.get_by_label("Amount").fill("45.50")
    page.get_by_label("Reason").fill("Session price dropped")
    page.get_by_role("button", name="Review refund").click()
    expect(page.get_by_role("alert")).to_contain_text("Refund $45.50 of order")
    shoot(page, "refund-review")
    assert CreditNote.objects.count() == 0
    page.get_by_role("button", name="Confirm refund of $45.50").click()

    # then the order page lists the credit note and what is left
    note = CreditNote.objects.get()
    expect(page.locator("#refunds")).to_contain_text(note.number)
    expect(page.locator("#refunds")).to_contain_text("$254.50")
    page.reload()  # axe on the page itself, without the one-off success message
    assert axe_violations(page) == []

    # and the owner's account page shows the forecast
    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/manage/{account.pk}/")
    forecast = page.locator(".forecast").first
    # (the 300.00 redemption less the 45.50 refund is the last 90 days' use)
    expect(forecast).to_contain_text("In the last 90 days this account used $254.50.")
    expect(forecast).to_contain_text("will expire unused")
    expect(page.locator("svg.forecast-chart").first).to_be_visible()
    shoot(page, "owner-forecast")
    assert axe_violations(page) == []
