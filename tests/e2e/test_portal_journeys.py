"""Owner and learner journeys through the portal in headless Chromium, and an axe-core check
of every page."""

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import (
    AccountFactory,
    MembershipFactory,
    UserFactory,
    make_activity,
    make_credit,
    make_session,
    usd,
)
from tuition.accounts.models import Membership
from tuition.checkout.models import Order, Registration
from tuition.ledger.models import Lot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"


@pytest.fixture
def acme():  # type: ignore[no-untyped-def]
    from tuition.codes import services as codes

    unit = usd()
    account = AccountFactory(name="Acme Corp")
    owner = UserFactory(email="olga@acme.test", name="Olga Owner")
    owner.set_password(PASSWORD)
    owner.save()
    MembershipFactory(
        account=account, user=owner, role=Membership.Role.OWNER, can_view_balance=True
    )
    member = UserFactory(email="ben@acme.test", name="Ben Brown")
    MembershipFactory(account=account, user=member)
    make_credit(account, 50000)
    codes.create_pool_code(account_id=account.pk, unit=unit, code="ACME-TEAM", actor="test")
    course = make_activity(
        title="Cloud Fundamentals", price=30000, is_dated=True, refund_window_days=14
    )
    first = make_session(course, days=10, capacity=5, location="Berlin")
    second = make_session(course, days=40, capacity=5, location="Online")
    return {
        "account": account,
        "owner": owner,
        "member": member,
        "course": course,
        "first": first,
        "second": second,
    }


def test_owner_signs_in_and_buys_a_refill(page: Page, live_server, acme, csp_violations):
    # given the owner signs in with the real form
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("olga@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("link", name="Owner view")).to_be_visible()

    # when they buy 250.00 of credits by card from the account page
    page.get_by_role("link", name="Owner view").click()
    expect(page.get_by_role("heading", name="Acme Corp")).to_be_visible()
    page.get_by_role("link", name="Purchase refill").first.click()
    # (the page also holds the automatic refill form, with fields of the same names)
    page.get_by_label("Amount", exact=True).fill("250.00")
    page.locator("#id_card_number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Buy refill").click()

    # then the refill is confirmed and the balance shows it
    expect(page.get_by_role("heading", name="Refill complete")).to_be_visible()
    page.get_by_role("link", name="Back to the training account").click()
    expect(page.locator(".stats")).to_contain_text("$750.00")
    assert Lot.objects.filter(source=Lot.Source.PURCHASE, remaining=25000).count() == 1
    assert csp_violations == []


def test_member_redeems_the_account_code_for_a_dated_course_and_moves_it(
    page: Page, live_server, acme, sign_in, csp_violations
):
    sign_in(page, live_server, acme["member"])

    # when the member picks the first date and pays with the account's code
    page.goto(f"{live_server.url}/catalog/activity/{acme['course'].pk}/")
    page.get_by_role("link", name=re.compile("^Enroll on")).first.click()
    page.get_by_label("Training credit").check()
    page.get_by_label("Code", exact=True).fill("acme team")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#quote")).to_contain_text("Code applied")
    expect(page.locator("#quote")).to_contain_text("$300.00")
    page.get_by_role("button", name="Pay and enroll").click()

    # then the confirmation shows the receipt and invoice
    expect(page.get_by_role("heading", name="You're enrolled")).to_be_visible()
    order = Order.objects.get()
    expect(page.get_by_role("link", name=order.receipt.number)).to_be_visible()
    expect(page.get_by_role("link", name=order.invoice.number)).to_be_visible()

    # and My learning lists it; Find Another Time moves it to the second date
    page.get_by_role("link", name="Go to My learning").click()
    expect(page.locator(".registrations")).to_contain_text("Cloud Fundamentals")
    expect(page.locator(".registrations")).to_contain_text("Berlin")
    page.get_by_role("link", name="Find another time").click()
    page.locator(f"#session-{acme['second'].pk}").check()
    page.get_by_role("button", name="Move to this date").click()
    expect(page.locator(".registrations")).to_contain_text("Online")
    registration = Registration.objects.get()
    assert registration.bookings.get(status="active").session_id == acme["second"].pk
    assert csp_violations == []


def test_insufficient_balance_shows_the_error_and_charges_nothing(
    page: Page, live_server, acme, sign_in
):
    dear = make_activity(title="Expensive Bootcamp", price=90000)
    sign_in(page, live_server, acme["member"])

    page.goto(f"{live_server.url}/checkout/activity/{dear.pk}/")
    page.get_by_label("Training credit").check()
    page.get_by_label("Code", exact=True).fill("ACME-TEAM")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#quote [role=alert]")).to_be_visible()
    page.get_by_role("button", name="Pay and enroll").click()

    expect(page.locator("#code-error")).to_be_visible()
    assert "500.00" not in page.content()
    assert not Order.objects.exists()
    assert sum(Lot.objects.values_list("remaining", flat=True)) == 50000


def test_a_non_owner_cannot_open_the_account_pages(page: Page, live_server, acme, sign_in):
    sign_in(page, live_server, acme["member"])
    for path in [
        "manage/{}/",
        "manage/{}/usage/",
        "manage/{}/codes/",
        "manage/{}/members/",
        "manage/{}/refill/",
        "reports/accounts/{}/statement",
    ]:
        response = page.goto(f"{live_server.url}/{path.format(acme['account'].pk)}")
        assert response is not None and response.status == 404, path
    expect(page.get_by_role("link", name="Owner view")).to_have_count(0)


def test_every_page_has_no_serious_accessibility_violation(
    axe_page: Page, live_server, acme, sign_in, axe_violations
):
    from tuition.checkout import services as checkout

    result = checkout.checkout(
        learner_email=acme["owner"].email,
        actor="test",
        activity_id=acme["course"].pk,
        session_id=acme["first"].pk,
        payment=checkout.PaymentChoice(method="code", code="ACME-TEAM"),
    )
    account, course = acme["account"].pk, acme["course"].pk
    public = [
        "/",
        "/catalog/",
        f"/catalog/activity/{course}/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
    ]
    signed_in = [
        f"/checkout/activity/{course}/",
        f"/checkout/activity/{course}/?session={acme['second'].pk}",
        f"/orders/{result.order.number}/",
        f"/orders/{result.order.number}/receipt/",
        "/learning/",
        f"/learning/{result.registration.pk}/activity/{course}/sessions/",
        f"/manage/{account}/",
        f"/manage/{account}/transactions/",
        f"/manage/{account}/usage/",
        f"/manage/{account}/refill/",
        f"/manage/{account}/members/",
        f"/manage/{account}/codes/",
        f"/manage/{account}/book/?activity={course}",
    ]
    problems = {}
    for path in public:
        axe_page.goto(live_server.url + path)
        if found := axe_violations(axe_page):
            problems[path] = found
    sign_in(axe_page, live_server, acme["owner"])
    for path in signed_in:
        axe_page.goto(live_server.url + path)
        if found := axe_violations(axe_page):
            problems[path] = found
    # phone width too: the layout must not hide or squeeze anything into a violation
    axe_page.set_viewport_size({"width": 390, "height": 844})
    for path in ["/", f"/manage/{account}/usage/", f"/checkout/activity/{course}/"]:
        axe_page.goto(live_server.url + path)
        if found := axe_violations(axe_page):
            problems[f"{path} (phone)"] = found
    assert problems == {}, json.dumps(problems, indent=1)
