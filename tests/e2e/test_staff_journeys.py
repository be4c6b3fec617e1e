"""The staff side in headless Chromium: the Intellum "Training Credits" page step by step
(Discounts → Training credits → New training credit → Create → edit → changes history →
deactivate → status filter → delete), a viewer walking every staff page read-only, axe-core
on every staff page, and no CSP violation anywhere. Screenshots of each step at 1366 and
390 px are kept under artifacts/screenshots/."""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from tests.factories import AccountFactory, UserFactory, make_activity, usd
from tuition.accounts.admin_roles import COMMERCE_MANAGER, ensure_staff_roles
from tuition.ledger.models import Lot

from .staff_helpers import shoot

pytestmark = pytest.mark.django_db(transaction=True)


def _staff(role: str | None):  # type: ignore[no-untyped-def]
    ensure_staff_roles()
    user = UserFactory(
        email=f"{(role or 'root').split()[0].lower()}@northwind.test",
        is_staff=True,
        is_superuser=role is None,
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def test_the_intellum_training_credits_journey(page: Page, live_server, sign_in, csp_violations):  # type: ignore[no-untyped-def]
    # given
    usd()
    AccountFactory(name="Acme Corp")
    make_activity(title="Cloud Fundamentals")
    sign_in(page, live_server, _staff(COMMERCE_MANAGER))
    page.set_viewport_size({"width": 1366, "height": 900})

    # Click the Discounts tab in the admin dashboard. Next, click Training Credits.
    page.goto(f"{live_server.url}/admin/")
    shoot(page, "01-staff-home")
    page.get_by_role("navigation", name="Staff areas").get_by_role("link", name="Discounts").click()
    shoot(page, "02-discounts")
    page.locator(".staff-cards").get_by_role("link", name="Training credits").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Training credits")
    shoot(page, "03-training-credits-empty")

    # Click New Training Credit; the fields follow the page's order.
    page.get_by_role("link", name="New training credit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New training credit")
    rows = page.locator("fieldset .form-row").evaluate_all(
        "rows => rows.map(r => [...r.classList].find(c => c.startsWith('field-')))"
    )
    assert rows[0] == "field-scope_kind" and rows[-1] == "field-notes"
    assert rows.index("field-redeemable_value") < rows.index("field-remaining_note")
    assert rows.index("field-remaining_note") < rows.index("field-purchase_price")
    assert rows.index("field-external_id") < rows.index("field-account")
    assert rows.index("field-expires_at") < rows.index("field-code") < rows.index("field-status")
    # the pickers of the other kind (and both, while "all of them") are hidden
    expect(page.locator(".field-scope_groups")).to_be_hidden()
    page.get_by_label("All of them").uncheck()
    expect(page.locator(".field-scope_activities")).to_be_visible()
    expect(page.locator(".field-scope_groups")).to_be_hidden()
    page.get_by_label("All of them").check()
    page.select_option("#id_unit", label="USD")
    page.fill("#id_redeemable_value", "200.00")
    page.fill("#id_purchase_price", "180.00")
    page.fill("#id_external_id", "pi_4242")
    page.select_option("#id_account", label="Acme Corp")
    page.fill("#id_notes", "Q4 deal")
    shoot(page, "04-new-training-credit")
    page.get_by_role("button", name="Create", exact=True).click()
    message = page.locator(".messagelist")
    expect(message).to_contain_text("Its redemption code is")
    code = re.search(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", message.inner_text()).group(0)
    table = page.locator("#result_list")
    expect(table).to_contain_text(code)
    expect(table).to_contain_text("$200.00")
    for header in ("Redeemable value", "Activity or group", "Owner", "Remaining", "Expires"):
        expect(page.locator("#result_list thead")).to_contain_text(header)
    status = page.locator("#result_list th.column-status_column")
    assert status.bounding_box()["x"] + status.bounding_box()["width"] <= 1366
    shoot(page, "05-created")

    # Edit: change a field and click Update; the changes history is under the button.
    page.get_by_role("link", name=code).click()
    page.fill("#id_notes", "Q4 deal, paid by wire")
    page.get_by_role("button", name="Update", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    page.get_by_role("link", name=code).click()
    history = page.locator("#changes-history")
    expect(history).to_contain_text("Notes: Q4 deal → Q4 deal, paid by wire")
    expect(history).to_contain_text("(staff) via admin")  # who, as people read it
    assert page.locator(".submit-row").bounding_box()["y"] < history.bounding_box()["y"]
    shoot(page, "06-edit-and-changes-history")

    # Deactivate, then find it with the Status filter.
    page.goto(f"{live_server.url}/admin/ledger/lot/")
    page.locator("#result_list tr", has_text=code).locator("input.action-select").check()
    page.select_option("select[name=action]", "deactivate_credits")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".messagelist")).to_contain_text("1 training credit deactivated")
    page.locator("#changelist-filter").get_by_role("link", name="Inactive").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("Inactive")
    shoot(page, "07-deactivated-status-filter")

    # Delete: the confirmation says it cannot be undone and what value it voids.
    page.locator("#result_list tr", has_text=code).locator("input.action-select").check()
    page.select_option("select[name=action]", "delete_selected")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#delete-warning")).to_contain_text("cannot be undone")
    expect(page.locator("#content")).to_contain_text("$200.00 remaining will be voided")
    shoot(page, "08-delete-confirmation")
    page.get_by_role("button", name="Delete 1 training credit").click()
    expect(page.locator("#content")).not_to_contain_text(code)
    shoot(page, "09-deleted")

    lot = Lot.objects.get()
    assert (
        lot.deleted_at is not None and lot.remaining == 0 and lot.notes == "Q4 deal, paid by wire"
    )
    assert csp_violations == []


def test_build_reorder_and_download_a_report(page: Page, live_server, sign_in, csp_violations):  # type: ignore[no-untyped-def]
    from tests.factories import make_credit

    account = AccountFactory(name="Acme Corp")
    make_credit(account, 50000)
    AccountFactory(name="Globex")
    sign_in(page, live_server, _staff(COMMERCE_MANAGER))
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("navigation", name="Staff areas").get_by_role("link", name="Reports").click()
    page.locator(".staff-cards").get_by_role("link", name="Report builder").click()
    page.get_by_label("Report", exact=True).select_option("codes")
    page.get_by_role("button", name="Choose").click()
    chosen = page.locator("#chosen-columns li[data-key]")
    first, second = chosen.nth(0).get_attribute("data-key"), chosen.nth(1).get_attribute("data-key")

    # the buttons sit on their own row
    row = chosen.nth(1).bounding_box()
    button = chosen.nth(1).get_by_role("button", name=re.compile("^Move .* up$")).bounding_box()
    assert row["y"] <= button["y"] and button["y"] + button["height"] <= row["y"] + row["height"]

    # drag the second column above the first
    chosen.nth(1).locator(".rb-grip").drag_to(chosen.nth(0), target_position={"x": 20, "y": 4})
    assert [chosen.nth(0).get_attribute("data-key"), chosen.nth(1).get_attribute("data-key")] == [
        second,
        first,
    ]
    # account chosen by name; statuses in words
    page.get_by_label("Training account").fill("Acme Corp")
    assert "Active" in page.locator("#filter-status").inner_text()
    page.get_by_role("button", name="Preview").click()
    headers = page.locator("#preview-table thead th").all_inner_texts()
    assert headers[:2] == [
        page.locator(f"#chosen-columns li[data-key={second}] .label").inner_text(),
        page.locator(f"#chosen-columns li[data-key={first}] .label").inner_text(),
    ]
    expect(page.get_by_label("Training account")).to_have_value("Acme Corp")
    shoot(page, "10-report-builder")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    text = info.value.path().read_text(encoding="utf-8")
    # the chosen order; a date column's header also names the provider's zone
    csv_headers = text.splitlines()[0].split(",")
    assert csv_headers[0] == headers[0] and csv_headers[1].startswith(headers[1])
    # keyboard buttons move a column too
    page.get_by_role("button", name=f"Move {headers[1]} up").click()
    expect(chosen.nth(0)).to_have_attribute("data-key", first)
    page.get_by_label("Name").fill("Acme codes")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#saved-reports")).to_contain_text("Acme codes")
    shoot(page, "11-report-saved")
    from tuition.reports.models import SavedReport

    assert SavedReport.objects.get().filters["account"] == str(account.pk)  # the id, by name
    assert csp_violations == []


def _report(name: str, found: dict) -> None:  # type: ignore[type-arg]
    """What a walk found, kept beside the screenshots for whoever fixes it."""
    import json

    from .staff_helpers import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS.parent / name).write_text(json.dumps(found, indent=1, default=str))


def _walk_urls():  # type: ignore[no-untyped-def]
    from tests.admin.test_every_staff_page import _staff_urls

    return _staff_urls()


def test_a_viewer_sees_every_staff_page_read_only(page: Page, live_server, sign_in, csp_violations):  # type: ignore[no-untyped-def]
    from tuition.portal.demo import load_demo

    usd()
    assert load_demo()
    from django.contrib.auth import get_user_model

    sign_in(page, live_server, get_user_model().objects.get(email="vic@northwind.test"))
    seen = 0
    blocked = {}
    for url in _walk_urls():
        before = len(csp_violations)
        answer = page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
        if len(csp_violations) > before:
            blocked[url] = csp_violations[before:]
        assert answer is not None and answer.status < 500, url
        if answer.status == 200 and "/admin/" in url:
            seen += 1
            assert page.locator("input[name=_save]").count() == 0, url
            assert page.locator("select[name=action]").count() == 0, url
    assert seen > 20
    page.goto(f"{live_server.url}/admin/ledger/lot/")
    shoot(page, "12-viewer-credits")
    page.goto(f"{live_server.url}/admin/ledger/lot/{Lot.objects.first().pk}/change/")
    shoot(page, "13-viewer-credit")
    _report("csp-viewer.json", blocked)
    assert blocked == {}


def test_every_staff_page_is_axe_clean_and_fits_a_phone(
    axe_page, live_server, sign_in, axe_violations
):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    from tuition.portal.demo import load_demo

    usd()
    assert load_demo()
    page = axe_page
    sign_in(page, live_server, get_user_model().objects.get(email="admin@northwind.test"))
    found = {}
    for url in _walk_urls():
        answer = page.goto(f"{live_server.url}{url}")
        if answer is None or answer.status != 200:
            continue
        violations = axe_violations(page)
        if violations:
            found[url] = violations
    _report("axe.json", found)
    assert found == {}
