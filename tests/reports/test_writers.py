"""Exports are safe in spreadsheets: no formula runs, amounts stay numbers, names stay names."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tuition.reports import writers
from tuition.reports.registry import AMOUNT, DATE, INT, TEXT, Column

PAYLOADS = [
    '=HYPERLINK("http://x","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\x00=1",
    " =1+1",
    'comma, "quote"\r\nnew line',
    "=cmd|' /C calc'!A0",
]


def columns() -> list[Column]:
    return [
        Column("name", "=Name", TEXT, lambda r: r["name"]),
        Column("amount", "Amount", AMOUNT, lambda r: r["amount"]),
        Column("n", "Count", INT, lambda r: r["n"]),
        Column("at", "When", DATE, lambda r: r["at"]),
    ]


def rows() -> list[dict]:
    at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    return [
        {"name": p, "amount": Decimal("-12.50") if i % 2 else Decimal("300.00"), "n": -i, "at": at}
        for i, p in enumerate(PAYLOADS)
    ]


@pytest.mark.parametrize("payload", [*PAYLOADS[:8], PAYLOADS[9]])
def test_formula_payloads_are_neutralized(payload):
    cell = writers.safe_text(payload)
    assert cell.startswith("'")
    assert "\x00" not in cell


def test_plain_text_is_left_alone():
    assert writers.safe_text("Acme Corp") == "Acme Corp"
    assert writers.safe_text("ana@acme.test") == "ana@acme.test"
    assert writers.safe_text(None) == ""


def test_csv_round_trip_keeps_the_column_count_and_numbers(db):
    body = b"".join(writers.csv_chunks(columns(), rows())).decode()
    parsed = list(csv.reader(io.StringIO(body, newline="")))
    # then: one header and one line per row, each with four cells and the date's ISO twin
    assert len(parsed) == len(PAYLOADS) + 1
    assert {len(line) for line in parsed} == {5}
    assert parsed[0][0] == "'=Name"
    for line in parsed[1:]:
        assert line[0][0] not in "=+-@\t\r"
    # amounts stay plain numbers, negative ones included
    assert [line[1] for line in parsed[1:3]] == ["300.00", "-12.50"]
    assert parsed[2][2] == "-1"
    assert parsed[1][3] == "2026-03-01 12:30:00"  # for people, in the provider's zone
    assert parsed[1][4] == "2026-03-01T12:30:00+00:00"  # for programs
    # the quoted payload survived intact (after its apostrophe-free text)
    assert parsed[9][0] == 'comma, "quote"\r\nnew line'


def test_xlsx_cells_are_safe_and_amounts_numeric(db, tmp_path):
    path = tmp_path / "out.xlsx"
    count = writers.write_xlsx(columns(), rows(), str(path), title="Ledger: =evil")
    assert count == len(PAYLOADS)
    sheet = load_workbook(path).active
    values = list(sheet.values)
    assert values[0] == ("'=Name", "Amount", "Count", "When (UTC)")
    for line in values[1:]:
        assert isinstance(line[0], str) and line[0][0] not in "=+-@\t\r"
        assert isinstance(line[1], int | float) and not isinstance(line[1], bool)
        assert isinstance(line[2], int)
        assert isinstance(line[3], datetime)
    assert values[1][1] == 300 and values[2][1] == -12.5
    # no cell holds a formula
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_xlsx_times_are_real_datetimes_in_the_providers_zone(db, tmp_path, settings):
    # given a provider in Berlin and a moment at 12:30 UTC
    settings.TIME_ZONE = "Europe/Berlin"
    path = tmp_path / "out.xlsx"
    # when
    writers.write_xlsx(columns(), rows()[:1], str(path), title="Ledger")
    # then the cell is a date-time a spreadsheet can sort and format, at 13:30 local time,
    # and the header says which zone that is
    cell = load_workbook(path).active["D2"]
    assert cell.value == datetime(2026, 3, 1, 13, 30)
    assert cell.is_date and cell.number_format == "yyyy-mm-dd hh:mm:ss"
    assert load_workbook(path).active["D1"].value == "When (Europe/Berlin)"


@pytest.mark.parametrize(
    "name, expected",
    [
        ('Acme "Corp"\r\nSet-Cookie: x=1', "Acme-Corp-Set-Cookie-x-1.csv"),
        ("../../etc/passwd", "etc-passwd.csv"),
        ("C:\\Windows\\system32", "C-Windows-system32.csv"),
        ("Ünïcödé; filename=evil.exe", "n-c-d-filename-evil.exe.csv"),
        ("", "report.csv"),
        ("...", "report.csv"),
    ],
)
def test_file_names_are_sanitized(name, expected):
    assert writers.safe_filename(name, "csv") == expected
    header = writers.content_disposition(name, "csv")
    assert header == f'attachment; filename="{expected}"'
    assert not any(ch in header[len('attachment; filename="') : -1] for ch in '"\r\n/\\;')


def test_csv_times_are_readable_in_the_providers_zone_with_an_iso_twin(db, settings):
    # given a provider in Berlin and a moment with microseconds
    from django.utils import timezone

    settings.TIME_ZONE = "Europe/Berlin"
    at = datetime(2026, 12, 7, 13, 2, 52, 990647, tzinfo=UTC)
    column = [Column("at", "Issued", DATE, lambda r: r["at"])]
    # when
    with timezone.override("Europe/Berlin"):
        body = b"".join(writers.csv_chunks(column, [{"at": at}])).decode()
    header, line = list(csv.reader(io.StringIO(body, newline="")))
    # then people read local time to the second, named by its zone; programs get the offset
    assert header == ["Issued (Europe/Berlin)", "Issued (ISO 8601)"]
    assert line == ["2026-12-07 14:02:52", "2026-12-07T14:02:52.990647+01:00"]
