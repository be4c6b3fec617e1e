"""Running a report: validate the request once, then stream its rows to a file or a response.

Used by the builder pages, the API, the command line and the worker alike.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.http import FileResponse, StreamingHttpResponse

from tuition.core import clock
from tuition.core.errors import ValidationError

from . import selectors, writers
from .filters import ReportFilters
from .models import ReportFormat
from .registry import DATE, Column, ReportDefinition, Row, get_report

PREVIEW_ROWS = 20


@dataclass(frozen=True)
class ReportRequest:
    report: ReportDefinition
    columns: list[Column]
    filters: ReportFilters
    raw_filters: dict[str, str]
    format: str

    @property
    def column_keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def filename(self, extension: str | None = None) -> str:
        stamp = clock.now().strftime("%Y%m%d-%H%M")
        return writers.safe_filename(f"{self.report.key}-{stamp}", extension or self.format)


def prepare(
    *,
    report_type: Any,
    columns: Sequence[Any] | None = None,
    filters: Mapping[str, Any] | None = None,
    format: Any = "csv",
    listed_only: bool = True,
) -> ReportRequest:
    """Validate what was asked for.

    Raises:
        ValidationError: an unknown type, column, filter or format, or a bad filter value.
    """
    report = get_report(report_type, listed_only=listed_only)
    if format not in ReportFormat.values:
        raise ValidationError(
            "format must be 'csv' or 'xlsx'.",
            details={"field": "format", "choices": ReportFormat.values},
        )
    if filters is not None and not isinstance(filters, Mapping):
        raise ValidationError("filters must be an object.", details={"field": "filters"})
    picked = report.pick_columns(columns)
    parsed = report.parse_filters(filters)
    raw = {k: str(v).strip() for k, v in (filters or {}).items() if v not in (None, "")}
    return ReportRequest(
        report=report, columns=picked, filters=parsed, raw_filters=raw, format=format
    )


def rows(request: ReportRequest) -> Iterator[Row]:
    with selectors.snapshot():
        yield from request.report.rows(request.filters, request.columns)


def preview(request: ReportRequest, limit: int = PREVIEW_ROWS) -> list[list[str]]:
    """The first rows as display strings (CSV rendering, so what you see is what you get),
    one cell per chosen column: a date column's ISO 8601 twin stays in the file."""
    import csv
    import io

    shown, position = [], 0
    for column in request.columns:
        shown.append(position)
        position += 2 if column.kind == DATE else 1
    out: list[list[str]] = []
    stream = rows(request)
    try:
        for _, row in zip(range(limit), stream, strict=False):
            text = b"".join(writers.csv_chunks(request.columns, [row])).decode()
            cells = list(csv.reader(io.StringIO(text)))[1]
            out.append([cells[i] for i in shown])
    finally:
        stream.close()
    return out


def estimated_rows(request: ReportRequest) -> int | None:
    counter = request.report.counter
    return None if counter is None else counter(request.filters)


def needs_worker(request: ReportRequest) -> bool:
    """A large XLSX is built by the worker (an XLSX cannot be streamed as it is written)."""
    if request.format != ReportFormat.XLSX:
        return False
    limit = getattr(settings, "TUITION", {}).get("REPORTS_XLSX_INLINE_ROWS", 20_000)
    estimate = estimated_rows(request)
    return estimate is not None and estimate > limit


def csv_response(request: ReportRequest, name: str | None = None) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        writers.csv_chunks(request.columns, rows(request)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = writers.content_disposition(
        name or request.filename("csv")[:-4], "csv"
    )
    response["Cache-Control"] = "no-store"
    return response


def xlsx_response(request: ReportRequest, name: str | None = None) -> FileResponse:
    import tempfile

    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it when sent
    writers.write_xlsx(request.columns, rows(request), spool, title=request.report.label)
    spool.seek(0)
    filename = writers.safe_filename(name or request.filename("xlsx")[:-5], "xlsx")
    response = FileResponse(
        spool,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = writers.content_disposition(filename[:-5], "xlsx")
    response["Cache-Control"] = "no-store"
    return response


def file_response(request: ReportRequest, name: str | None = None) -> Any:
    if request.format == ReportFormat.XLSX:
        return xlsx_response(request, name)
    return csv_response(request, name)


# --- owner downloads (SPEC rule 25) ----------------------------------------------------------


def _rendered(
    report_key: str,
    account_id: int,
    date_from: date | datetime | None,
    date_to: date | datetime | None,
) -> Iterator[dict[str, Any]]:
    report = get_report(report_key, listed_only=False)
    raw: dict[str, str] = {"account": str(account_id)}
    for name, value in (("from", date_from), ("to", date_to)):
        if isinstance(value, date):  # a datetime is a date too: kept as the exact instant
            raw[name] = value.isoformat()
    filters = report.parse_filters(raw)
    columns = report.pick_columns(None)
    for row in report.rows(filters, columns):
        yield {c.key: c.get(row) for c in columns}


def account_statement_rows(
    account_id: int,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """The account's statement rows keyed by column (date, transaction, kind, unit,
    description, order, learner_email, amount, balance); amounts are Decimals. The caller
    checks that the person may see the account.

    Raises:
        ValidationError: dates out of range.
    """
    return _rendered("statement", account_id, date_from, date_to)


def account_usage_rows(
    account_id: int,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Usage by team member for one account, keyed by column (account, member_email,
    member_name, unit, orders, spent, refunded, net); amounts are Decimals.

    Raises:
        ValidationError: dates out of range.
    """
    return _rendered("usage", account_id, date_from, date_to)
