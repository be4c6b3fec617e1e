"""The approval journey in headless Chromium (SPEC §7): a member's checkout waits for approval,
the owner approves it on the approvals page, the member finds the registration."""

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
from tuition.checkout import approvals
from tuition.checkout.models import Order, Registration
from tuition.ledger.models import Hold

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme():  # type: ignore[no-untyped-def]
    from tuition.codes import services as codes

    unit = usd()
    account = AccountFactory(name="Acme Corp")
    owner = UserFactory(email="olga@acme.test", name="Olga Owner")
    MembershipFactory(
        account=account, user=owner, role=Membership.Role.OWNER, can_view_balance=True
    )
    member = UserFactory(email="ben@acme.test", name="Ben Brown")
    MembershipFactory(account=account, user=member)
    make_credit(account, 50000)
    codes.create_pool_code(account_id=account.pk, unit=unit, code="ACME-TEAM", actor="test")
    course = make_activity(title="Cloud Fundamentals", price=30000, is_dated=True)
    make_session(course, days=10, capacity=5, location="Berlin")
    approvals.set_rules(
        account_id=account.pk, above={"USD": 10000}, items=[], hold_hours=48, actor="test"
    )
    return {"account": account, "owner": owner, "member": member, "course": course}


def test_a_members_checkout_waits_the_owner_approves_the_member_is_registered(
    page: Page, browser, live_server, acme, sign_in, csp_violations
):
    # given the member pays 300.00 with the account's code, above the 100.00 limit
    sign_in(page, live_server, acme["member"])
    page.goto(f"{live_server.url}/catalog/activity/{acme['course'].pk}/")
    page.get_by_role("link", name=re.compile("^Enroll on")).first.click()
    page.get_by_label("Training credit").check()
    page.get_by_label("Code", exact=True).fill("acme team")
    # the quote says, before anything is paid, that an owner decides
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#quote .approval-note")).to_contain_text(
        "This needs the approval of an owner of Acme Corp."
    )
    page.get_by_role("button", name="Request approval").click()

    # then the checkout waits for the owner, and My learning says so
    expect(
        page.get_by_role("heading", name="Waiting for approval from your account owner")
    ).to_be_visible()
    assert Order.objects.get().status == "awaiting_approval"
    page.get_by_role("link", name="Go to My learning").click()
    expect(page.locator("#waiting-title")).to_have_count(1)
    expect(
        page.get_by_text("Waiting for approval from your account owner at Acme Corp")
    ).to_be_visible()

    # when the owner approves it on the approvals page
    owner_context = browser.new_context()
    owner_page = owner_context.new_page()
    sign_in(owner_page, live_server, acme["owner"])
    owner_page.goto(f"{live_server.url}/manage/{acme['account'].pk}/")
    expect(owner_page.locator(".stats")).to_contain_text("$300.00 held for approval")
    owner_page.get_by_role("link", name="Approvals", exact=True).click()
    row = owner_page.locator("li.card", has_text="ben@acme.test")
    expect(row).to_contain_text("Cloud Fundamentals")
    expect(row).to_contain_text("$300.00")
    row.get_by_role("button", name=re.compile("^Approve")).click()
    expect(owner_page.locator(".messages")).to_contain_text("Approved: ben@acme.test")
    expect(owner_page.get_by_text("Nothing is waiting for your approval.")).to_be_visible()
    owner_context.close()

    # then the member sees the registration with its booking
    page.reload()
    expect(page.locator("#waiting-title")).to_have_count(0)
    expect(page.locator(".registrations")).to_contain_text("Cloud Fundamentals")
    expect(page.locator(".registrations")).to_contain_text("Berlin")
    assert Hold.objects.get().status == "captured"
    assert Registration.objects.get(learner=acme["member"]).status == "active"
    assert csp_violations == []


def test_the_approval_pages_have_no_serious_accessibility_violation(
    axe_page: Page, live_server, acme, sign_in, axe_violations
):
    # given a member's checkout waiting for the owner
    from tuition.checkout import services as checkout

    waiting = checkout.checkout(
        learner_email=acme["member"].email,
        actor="test",
        activity_id=acme["course"].pk,
        session_id=acme["course"].sessions.get().pk,
        payment=checkout.PaymentChoice(method="code", code="ACME-TEAM"),
    )
    account = acme["account"].pk
    problems = {}

    # when the member and then the owner open the pages, at desktop and phone width
    for user, paths in [
        (acme["member"], [f"/orders/{waiting.order.number}/", "/learning/"]),
        (
            acme["owner"],
            [
                f"/manage/{account}/",
                f"/manage/{account}/approvals/",
                f"/manage/{account}/approvals/rules/",
            ],
        ),
    ]:
        sign_in(axe_page, live_server, user)
        for width in (1366, 390):
            axe_page.set_viewport_size({"width": width, "height": 900})
            for path in paths:
                axe_page.goto(live_server.url + path)
                if found := axe_violations(axe_page):
                    problems[f"{path} ({width})"] = found

    # then
    assert problems == {}, problems
