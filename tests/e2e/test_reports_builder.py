"""The report builder in headless Chromium: choose a report, reorder columns, preview,
download, and find the builder from the admin index."""

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from tests.factories import AccountFactory, UserFactory, make_credit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_page(page: Page, live_server, sign_in):  # type: ignore[no-untyped-def]
    account = AccountFactory(name="Acme Corp")
    make_credit(account, 50000, code="REPORT-AAAA")
    make_credit(account, 1250, code="REPORT-BBBB", notes='=HYPERLINK("http://x.test")')
    staff = UserFactory(email="staff@provider.test", is_staff=True, is_superuser=True)
    sign_in(page, live_server, staff)
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.csp_violations = violations  # type: ignore[attr-defined]
    return page


def test_reorder_columns_preview_and_download(staff_page: Page, live_server):  # type: ignore[no-untyped-def]
    page = staff_page
    page.goto(f"{live_server.url}/reports/")
    # choose the ledger report: its default columns start with Date, Transfer ID, Kind
    page.get_by_label("Report", exact=True).select_option("ledger")
    page.get_by_role("button", name="Choose").click()
    chosen = page.locator("#chosen-columns li")
    expect(chosen.first).to_have_attribute("data-key", "date")

    # move Amount to the top, remove Actor, add Reason
    for _ in range(7):
        page.get_by_role("button", name="Move Amount up").click()
    expect(chosen.first).to_have_attribute("data-key", "amount")
    page.get_by_role("button", name="Remove Actor").click()
    page.get_by_role("button", name="Add Reason").click()
    page.get_by_role("button", name="Move Kind down").click()
    keys = [chosen.nth(i).get_attribute("data-key") for i in range(chosen.count())]
    assert keys == [
        "amount",
        "date",
        "transfer_id",
        "account",
        "kind",
        "unit",
        "lot_id",
        "system_account",
        "reason",
    ]

    # preview shows the same order
    page.get_by_role("button", name="Preview").click()
    headers = page.locator("#preview-table thead th").all_inner_texts()
    assert headers == [
        "Amount",
        "Date",
        "Transfer ID",
        "Account",
        "Kind",
        "Unit",
        "Credit ID",
        "System account",
        "Reason",
    ]
    expect(page.locator("#preview-table tbody tr")).to_have_count(4)

    # download: the file has the header in the chosen order
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("ledger-")
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    # in the chosen order; the date shown in the provider's zone, then its ISO 8601 twin
    assert rows[0] == [headers[0], "Date (UTC)", "Date (ISO 8601)", *headers[2:]]
    assert sorted(r[0] for r in rows[1:]) == ["-12.50", "-500.00", "12.50", "500.00"]
    assert page.csp_violations == []  # type: ignore[attr-defined]


def test_save_a_definition_and_reuse_it(staff_page: Page, live_server):  # type: ignore[no-untyped-def]
    page = staff_page
    page.goto(f"{live_server.url}/reports/?type=codes&columns=notes&columns=remaining")
    page.get_by_role("button", name="Move Remaining up").click()
    page.get_by_label("Name").fill("Codes by remaining")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved “Codes by remaining”.")).to_be_visible()

    page.goto(f"{live_server.url}/reports/")
    page.get_by_role("link", name="Codes by remaining").click()
    page.get_by_role("button", name="Preview").click()
    headers = page.locator("#preview-table thead th").all_inner_texts()
    assert headers == ["Remaining", "Notes"]
    # the neutralized code is shown as text, never as a formula
    expect(page.locator("#preview-table tbody")).to_contain_text("'=HYPERLINK(")


def test_the_staff_home_links_to_the_builder(staff_page: Page, live_server):  # type: ignore[no-untyped-def]
    page = staff_page
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("navigation", name="Staff areas").get_by_role("link", name="Reports").click()
    page.locator(".staff-cards").get_by_role("link", name="Report builder").click()
    expect(page).to_have_url(f"{live_server.url}/reports/")
    expect(page.get_by_role("heading", name="Report builder")).to_be_visible()
