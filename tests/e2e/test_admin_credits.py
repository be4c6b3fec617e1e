"""Staff journeys through the credits admin in headless Chromium."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from playwright.sync_api import Page, expect

from tests.factories import AccountFactory, UserFactory, make_activity, make_credit, usd
from tuition.accounts.admin_roles import COMMERCE_MANAGER, VIEWER, ensure_staff_roles
from tuition.checkout.services import PaymentChoice, checkout
from tuition.codes.errors import CodeInactiveError
from tuition.ledger.models import Lot

pytestmark = pytest.mark.django_db(transaction=True)


def _login(page: Page, live_server, role: str | None) -> None:  # type: ignore[no-untyped-def]
    ensure_staff_roles()
    user = UserFactory(
        email=f"{(role or 'root').split()[0].lower()}@northwind.test",
        is_staff=True,
        is_superuser=role is None,
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


@pytest.fixture
def account():  # type: ignore[no-untyped-def]
    usd()
    return AccountFactory(name="Acme Corp")


def _credits(live_server, query: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"{live_server.url}/admin/ledger/lot/{query}"


def _select_rows(page: Page, codes: list[str]) -> None:
    for code in codes:
        page.locator("#result_list tr", has_text=code).locator("input.action-select").check()


def test_create_a_credit_with_a_blank_code_and_see_the_generated_code(
    page: Page, live_server, account
):
    _login(page, live_server, COMMERCE_MANAGER)
    page.goto(_credits(live_server, "add/"))
    page.select_option("#id_account", label="Acme Corp")
    page.select_option("#id_unit", label="USD")
    page.fill("#id_redeemable_value", "150.00")
    page.fill("#id_purchase_price", "120.00")
    page.fill("#id_notes", "Q4 deal")
    page.click("input[name=_save]")
    message = page.locator(".messagelist")
    expect(message).to_contain_text("Its redemption code is")
    code = re.search(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", message.inner_text()).group(0)
    expect(page.locator("#result_list")).to_contain_text(code)
    lot = Lot.objects.get()
    assert (lot.redeemable_value, lot.purchase_price, lot.notes) == (15000, 12000, "Q4 deal")


def test_bulk_deactivate_two_find_them_and_reactivate_one(page: Page, live_server, account):
    one, two, three = (make_credit(account, 1000 * n) for n in (1, 2, 3))
    _login(page, live_server, COMMERCE_MANAGER)
    page.goto(_credits(live_server))
    _select_rows(page, [one.code_text, two.code_text])
    page.select_option("select[name=action]", "deactivate_credits")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("2 training credits deactivated")

    page.get_by_role("link", name="Inactive").first.click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).not_to_contain_text(three.code_text)

    _select_rows(page, [one.code_text])
    page.select_option("select[name=action]", "activate_credits")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("1 training credit activated")
    assert dict(Lot.objects.values_list("pk", "status")) == {
        one.lot.pk: "active",
        two.lot.pk: "inactive",
        three.lot.pk: "active",
    }


def test_edit_one_and_see_its_change_history(page: Page, live_server, account):
    issued = make_credit(account, 5000)
    _login(page, live_server, COMMERCE_MANAGER)
    page.goto(_credits(live_server, f"{issued.lot.pk}/change/"))
    expect(page.locator("select[name=scope_kind]")).to_have_count(0)  # fixed after creation
    page.select_option("#id_status", "inactive")
    page.fill("#id_notes", "Paused by finance")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    page.goto(_credits(live_server, f"{issued.lot.pk}/change/"))
    history = page.locator("table.credit-history")
    expect(history).to_contain_text("Status: active → inactive")
    expect(history).to_contain_text("(staff) via admin")  # who, as people read it


def test_delete_one_and_its_code_is_refused_at_checkout(page: Page, live_server, account):
    issued = make_credit(account, 50000)
    activity = make_activity(price=10000)
    _login(page, live_server, COMMERCE_MANAGER)
    page.goto(_credits(live_server))
    _select_rows(page, [issued.code_text])
    page.select_option("select[name=action]", "delete_selected")
    page.click("button[name=index]")
    expect(page.locator("#content")).to_contain_text("$500.00 remaining will be voided")
    page.click("input[type=submit]")
    expect(page.locator("#result_list, .paginator").first).not_to_contain_text(issued.code_text)

    with pytest.raises(CodeInactiveError):
        checkout(
            learner_email="ana@acme.test",
            activity_id=activity.pk,
            actor="test",
            payment=PaymentChoice(method="code", code=issued.code_text),
        )
    issued.lot.refresh_from_db()
    assert issued.lot.deleted_at is not None and issued.lot.remaining == 0


def test_a_viewer_cannot_change_anything(page: Page, live_server, account):
    issued = make_credit(account, 1000)
    _login(page, live_server, VIEWER)
    page.goto(_credits(live_server))
    expect(page.locator("#result_list")).to_contain_text(
        f"{issued.code_text[:4]}-••••-••••-{issued.code_text[-4:]}"
    )
    expect(page.locator("#result_list")).not_to_contain_text(issued.code_text)
    expect(page.locator("select[name=action]")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("Add", re.I))).to_have_count(0)

    page.goto(_credits(live_server, f"{issued.lot.pk}/change/"))
    expect(page.locator("input[name=_save]")).to_have_count(0)
    expect(page.locator("#id_status")).to_have_count(0)

    response = page.goto(_credits(live_server, "add/"))
    assert response is not None and response.status == 403
    issued.lot.refresh_from_db()
    assert issued.lot.status == "active"
