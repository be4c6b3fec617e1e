"""Owner downloads, the builder pages, background exports and the command line."""

import csv
import io
import re
from datetime import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import MembershipFactory, UserFactory
from tuition.accounts.models import Membership
from tuition.reports import services
from tuition.reports.models import ReportExport, SavedReport


def body_rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode())))


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_owner_downloads_their_statement(world):
    url = reverse("reports:account-statement", args=[world.acme.pk])
    response = logged_in(world.owner).get(url, {"from": "2026-03-03"})
    assert response.status_code == 200
    rows = body_rows(response)
    assert rows[0] == [
        "Date (UTC)",
        "Date (ISO 8601)",
        "Transaction",
        "Kind",
        "Unit",
        "Description",
        "Order",
        "Learner",
        "Amount",
        "Balance",
    ]
    assert [r[3] for r in rows[1:]] == ["opening", "opening", "redeem", "redeem", "reverse"]
    assert rows[-1][8:] == ["150.00", "300.00"]
    # people read the provider's local time to the second; programs keep the ISO twin
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[-1][0])
    assert datetime.fromisoformat(rows[-1][1]).replace(tzinfo=None, microsecond=0) == (
        datetime.fromisoformat(rows[-1][0])
    )
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Acme-statement-')


def test_owner_downloads_usage_as_xlsx(world):
    url = reverse("reports:account-usage", args=[world.acme.pk])
    response = logged_in(world.owner).get(url, {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert values[0][:2] == ("Account", "Member email")
    assert len(values) == 4


@pytest.mark.parametrize("who", ["member", "stranger", "other_owner"])
@pytest.mark.parametrize("name", ["reports:account-statement", "reports:account-usage"])
def test_others_get_404_exactly_like_a_missing_account(world, who, name):
    # given: someone who does not own Acme (a member, a stranger, the owner of Beta)
    user = {"member": world.ana, "stranger": UserFactory()}.get(who)
    if who == "other_owner":
        user = UserFactory()
        MembershipFactory(account=world.beta, user=user, role=Membership.Role.OWNER)
    client = logged_in(user)
    # when
    theirs = client.get(reverse(name, args=[world.acme.pk]))
    missing = client.get(reverse(name, args=[999999]))
    # then
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content


def test_statement_needs_a_login(world):
    response = Client().get(reverse("reports:account-statement", args=[world.acme.pk]))
    assert response.status_code == 302


def test_filename_with_crlf_and_quotes_in_the_account_name(world):
    world.acme.name = 'Evil "Co"\r\nX-Injected: 1'
    world.acme.save()
    response = logged_in(world.owner).get(
        reverse("reports:account-statement", args=[world.acme.pk])
    )
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.startswith('attachment; filename="Evil-Co-X-Injected-1-statement-')
    assert disposition.count('"') == 2


def test_builder_is_for_staff_only(world, staff):
    url = reverse("reports:builder")
    assert logged_in(world.owner).get(url).status_code == 302  # to the admin login
    assert logged_in(staff).get(url).status_code == 200


def test_builder_reorders_columns_and_downloads(world, staff):
    client = logged_in(staff)
    base = {"type": "ledger", "columns": ["date", "kind", "amount"]}
    # move "amount" up twice, remove "date", add "unit"
    response = client.get(reverse("reports:builder"), {**base, "op": "up:amount"})
    assert response.status_code == 302
    response = client.get(response.url + "&op=up:amount")
    response = client.get(response.url + "&op=remove:date")
    response = client.get(response.url + "&op=add:unit")
    page = client.get(response.url + "&preview=1")
    assert page.status_code == 200
    assert [c.key for c in page.context["chosen"]] == ["amount", "kind", "unit"]
    assert page.context["rows"][0] == ["500.00", "issue", "USD"]
    download = client.get(response.url + "&download=csv")
    assert body_rows(download)[0] == ["Amount", "Kind", "Unit"]


def test_the_preview_has_one_cell_under_each_header(world, staff):
    # given a date column first (its file has an ISO 8601 twin after it)
    query = {"type": "ledger", "columns": ["date", "kind", "amount"], "preview": "1"}
    # when
    page = logged_in(staff).get(reverse("reports:builder"), query)
    # then each row has a cell per header, the kind under "Kind"
    first = page.context["rows"][0]
    assert len(first) == 3
    assert first[1:] == ["issue", "500.00"]


def test_builder_shows_a_bad_filter_as_an_error(world, staff):
    page = logged_in(staff).get(
        reverse("reports:builder"),
        {"type": "ledger", "columns": ["kind"], "from": "soon", "preview": "1"},
    )
    assert page.status_code == 400
    assert b"must be a date" in page.content


def test_builder_saves_and_deletes_a_definition(world, staff):
    client = logged_in(staff)
    response = client.post(
        reverse("reports:save"),
        {
            "type": "purchases",
            "columns": ["amount", "number"],
            "status": "paid",
            "name": "Paid orders",
        },
    )
    assert response.status_code == 302
    saved = SavedReport.objects.get()
    assert (saved.name, saved.report_type, saved.columns, saved.filters, saved.owner) == (
        "Paid orders",
        "purchases",
        ["amount", "number"],
        {"status": "paid"},
        staff,
    )
    page = client.get(reverse("reports:builder"))
    assert b"Paid orders" in page.content
    client.post(reverse("reports:delete-saved", args=[saved.pk]))
    assert not SavedReport.objects.exists()


def test_large_xlsx_is_built_by_the_worker(
    world, staff, settings, tmp_path, django_capture_on_commit_callbacks
):
    # given: tasks run in-process and any XLSX over 3 rows goes to the worker
    settings.MEDIA_ROOT = str(tmp_path)
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.TUITION = {**settings.TUITION, "REPORTS_XLSX_INLINE_ROWS": 3}
    client = logged_in(staff)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(
            reverse("reports:builder"),
            {"type": "ledger", "columns": ["kind", "amount"], "download": "xlsx"},
        )
    # then: a ready export, offered for download
    export = ReportExport.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "reports:export", args=[export.pk]
    )
    assert (export.status, export.row_count) == ("ready", 16)
    status_page = client.get(response.url)
    assert b"Download" in status_page.content
    download = client.get(reverse("reports:export-download", args=[export.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert list(sheet.values)[1] == ("issue", 500)


def test_an_export_is_built_once(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    export = services.request_export(
        report_type="usage", columns=None, filters={}, format="csv", actor="test"
    )
    assert ReportExport.objects.get().status == "pending"
    services.build_export(export_id=export.pk, actor="test")
    services.build_export(export_id=export.pk, actor="test")
    export.refresh_from_db()
    assert (export.status, export.row_count) == ("ready", 3)
    assert len(list(tmp_path.joinpath("reports").iterdir())) == 1


def test_command_line_export(world, tmp_path):
    out = tmp_path / "ledger.csv"
    call_command(
        "report",
        "ledger",
        "--columns",
        "kind,amount,unit",
        "--account",
        str(world.beta.pk),
        "--unit",
        "USD",
        "--from",
        "2026-01-01",
        "--output",
        str(out),
    )
    assert list(csv.reader(out.open(newline=""))) == [
        ["Kind", "Amount", "Unit"],
        ["issue", "50.00", "USD"],
        ["issue", "-50.00", "USD"],
    ]
    xlsx = tmp_path / "liability.xlsx"
    call_command("report", "liability", "--at", "2026-03-02", "--output", str(xlsx))
    values = list(load_workbook(xlsx).active.values)
    assert values[0][:3] == ("Account", "Unit", "Outstanding")
    assert Decimal(str(values[2][2])) == Decimal("300")
