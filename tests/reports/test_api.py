"""The reports API: types, run (streamed file), saved definitions, scopes and errors."""

import csv
import io

import pytest

from tests.api_support import Api, error_code
from tuition.reports.models import SavedReport


def rows_of(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_types_list_columns_per_report(make_key, client):
    api = Api(client, make_key("reports"))
    response = api.get("reports/types")
    assert response.status_code == 200
    types = {t["type"]: t for t in response.json()}
    assert set(types) == {"codes", "purchases", "usage", "ledger", "liability"}
    amount = next(c for c in types["ledger"]["columns"] if c["key"] == "amount")
    assert amount == {"key": "amount", "label": "Amount", "kind": "amount"}


def test_run_streams_the_csv_with_the_chosen_columns(world, make_key, client):
    api = Api(client, make_key("reports"))
    response = api.post(
        "reports/run",
        {
            "type": "purchases",
            "columns": ["amount", "learner_email", "unit"],
            "filters": {"from": "2026-03-01", "unit": "USD"},
            "format": "csv",
        },
        key=None,
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="purchases-')
    assert rows_of(response) == [
        ["Charged", "Learner email", "Unit"],
        ["300.00", "ana@acme.test", "USD"],
        ["270.00", "bob@else.test", "USD"],
        ["150.00", "carl@else.test", "USD"],
    ]


def test_run_xlsx_returns_a_workbook(world, make_key, client):
    from openpyxl import load_workbook

    api = Api(client, make_key("reports"))
    response = api.post(
        "reports/run", {"type": "ledger", "columns": ["kind", "amount"], "format": "xlsx"}, key=None
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert values[0] == ("Kind", "Amount")
    assert values[1] == ("issue", 500)
    assert isinstance(values[2][1], int | float)


def test_run_without_the_reports_scope_is_permission_denied(world, make_key, client):
    api = Api(client, make_key("credits:read"))
    response = api.post("reports/run", {"type": "ledger"}, key=None)
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert error_code(api.get("reports/types")) == "permission_denied"


def test_a_learner_session_is_permission_denied(world, session_api):
    response = session_api(world.ana).post("reports/run", {"type": "ledger"}, key=None)
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_a_staff_session_may_run_reports(world, staff, session_api):
    response = session_api(staff).post("reports/run", {"type": "usage"}, key=None)
    assert response.status_code == 200
    assert len(rows_of(response)) == 4


@pytest.mark.parametrize(
    "body",
    [
        {"type": "ledger", "columns": ["amount", "no_such_column"]},
        {"type": "ledger", "filters": {"status": "paid"}},
        {"type": "ledger", "filters": {"from": "yesterday"}},
        {"type": "ledger", "format": "pdf"},
        {"type": "statement"},
        {"type": "ledger", "colour": "red"},
        {"type": "ledger", "filters": {"account": {"id": 1}}},
    ],
)
def test_bad_run_requests_are_validation_errors(db, make_key, client, body):
    api = Api(client, make_key("reports"))
    response = api.post("reports/run", body, key=None)
    assert response.status_code == 400
    assert error_code(response) == "validation_error"


def test_saved_definitions_crud(db, make_key, client):
    api = Api(client, make_key("reports"))
    # create
    created = api.post(
        "reports/saved",
        {
            "name": "Monthly ledger",
            "type": "ledger",
            "columns": ["date", "amount"],
            "filters": {"from": "2026-01-01"},
        },
        key=None,
    )
    assert created.status_code == 201, created.content
    saved_id = created.json()["id"]
    assert SavedReport.objects.get(pk=saved_id).columns == ["date", "amount"]
    # list and read
    assert [s["name"] for s in api.get("reports/saved").json()["results"]] == ["Monthly ledger"]
    assert api.get(f"reports/saved/{saved_id}").json()["filters"] == {"from": "2026-01-01"}
    # update: reorder columns
    patched = api.patch(f"reports/saved/{saved_id}", {"columns": ["amount", "date", "kind"]})
    assert patched.status_code == 200
    assert SavedReport.objects.get(pk=saved_id).columns == ["amount", "date", "kind"]
    # a bad column is refused and changes nothing
    bad = api.patch(f"reports/saved/{saved_id}", {"columns": ["bogus"]})
    assert error_code(bad) == "validation_error"
    assert SavedReport.objects.get(pk=saved_id).columns == ["amount", "date", "kind"]
    # delete
    assert api.delete(f"reports/saved/{saved_id}").status_code == 204
    assert not SavedReport.objects.exists()
    assert error_code(api.get(f"reports/saved/{saved_id}")) == "not_found"
