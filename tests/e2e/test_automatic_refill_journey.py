"""An owner sets an automatic refill in the browser and sees it buy after a checkout takes the
balance below the threshold and the job runs."""

import pytest
from playwright.sync_api import Page, expect

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
from tuition.autorefills.models import RefillFiring, RefillRule
from tuition.checkout import services as checkout
from tuition.checkout.services import PaymentChoice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_owner_sets_a_threshold_refill_and_sees_it_buy(
    page: Page, live_server, sign_in, csp_violations
):
    # given: Acme with 500.00 and its owner signed in on the Purchase refill page
    usd()
    account = AccountFactory(name="Acme Corp")
    owner = UserFactory(email="olga@acme.test", name="Olga Owner")
    MembershipFactory(account=account, user=owner, role=Membership.Role.OWNER)
    credit = make_credit(account, 50000)
    course = make_activity(title="Cloud Fundamentals", price=30000)
    sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/manage/{account.pk}/refill/")
    section = page.locator("#automatic")
    expect(section).to_contain_text("No automatic refills yet.")

    # when: they set "below 400.00, buy 500.00 by card"
    section.get_by_role("textbox", name="Threshold").fill("400.00")
    section.get_by_label("Amount each time").fill("500.00")
    section.get_by_label("Card number").fill("4242 4242 4242 4242")
    section.get_by_role("button", name="Save automatic refill").click()

    # then: the rule is shown, waiting for the balance to fall
    expect(page.locator(".notice")).to_contain_text("Automatic refill saved")
    card = page.locator("#automatic-USD")
    expect(card).to_contain_text("Below $400.00, buy $500.00")
    expect(card).to_contain_text("Card ending 4242")
    expect(card).to_contain_text("None yet")

    # when: a learner's 300.00 checkout takes the balance to 200.00, and the job runs
    checkout.checkout(
        learner_email="ben@acme.test",
        activity_id=course.pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="user:ben@acme.test",
    )
    assert autorefills.run_automatic_refills() == 1
    assert autorefills.run_automatic_refills() == 0

    # then: the owner sees the refill it bought, and the balance
    page.reload()
    firing = RefillFiring.objects.get()
    card = page.locator("#automatic-USD")
    expect(card).to_contain_text(f"$500.00, order {firing.order.number}")
    expect(card).to_contain_text("Paid by card")
    page.get_by_role("link", name=f"$500.00, order {firing.order.number}").click()
    expect(page.get_by_role("heading", name="Refill complete")).to_be_visible()
    page.goto(f"{live_server.url}/manage/{account.pk}/")
    expect(page.locator(".stats")).to_contain_text("$700.00")

    # when: they pause it
    page.goto(f"{live_server.url}/manage/{account.pk}/refill/")
    page.locator("#automatic-USD").get_by_role("button", name="Pause").click()
    expect(page.locator("#automatic-USD")).to_contain_text("Nothing while paused.")
    assert RefillRule.objects.get().pause_reason == "owner"
    assert csp_violations == []


def test_the_automatic_refills_section_has_no_serious_accessibility_violation(
    axe_page: Page, live_server, sign_in, axe_violations
):
    # given: one rule that bought, one the card provider paused
    from tuition.autorefills.services import RuleInput
    from tuition.catalog import services as catalog
    from tuition.checkout.payments import DECLINED_CARD, SUCCESS_CARD
    from tuition.ledger.models import Unit

    usd()
    tokens = Unit.objects.create(code="TT", name="Training Token", decimals=0)
    catalog.set_refill_price(unit=tokens, unit_price=9900, actor="test")
    account = AccountFactory(name="Acme Corp")
    owner = UserFactory(email="olga@acme.test", name="Olga Owner")
    MembershipFactory(account=account, user=owner, role=Membership.Role.OWNER)
    for unit, card in ((usd(), SUCCESS_CARD), (tokens, DECLINED_CARD)):
        autorefills.set_rule(
            account_id=account.pk,
            unit=unit,
            rule=RuleInput(
                kind="threshold", threshold=5, amount=500, provider="sandbox", card_number=card
            ),
            buyer=owner,
            actor="test",
        )
    autorefills.run_automatic_refills()
    sign_in(axe_page, live_server, owner)

    # when / then, at desktop and phone width
    for width in (1366, 390):
        axe_page.set_viewport_size({"width": width, "height": 900})
        axe_page.goto(f"{live_server.url}/manage/{account.pk}/refill/")
        expect(axe_page.locator("#automatic-TT")).to_contain_text("Paused: card declined")
        expect(axe_page.locator("#automatic-USD")).to_contain_text("Paid by card")
        assert axe_violations(axe_page) == [], width
