"""Safe CSV and XLSX writers.

Spreadsheets run a cell that starts with =, +, -, @ (or a tab, carriage return or other
control character followed by one) as a formula, so such text cells get a leading apostrophe
(the OWASP "CSV injection" defence). Amount, int and date cells are written as numbers and
dates, never as text: a negative amount stays a number. Control characters that XML (XLSX)
cannot hold are replaced with U+FFFD. CSV is RFC 4180 (quoted as needed, CRLF line ends).
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone

from .registry import AMOUNT, DATE, INT, Column, Row

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_TRIGGER_OR_BLANK = frozenset("=+-@\u00a0\x7f" + "".join(chr(i) for i in range(33)))
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LEADING_BLANK = re.compile(r"^[\x00-\x20\x7f\u00a0]+")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
CSV_BATCH = 1000


def safe_text(value: Any) -> str:
    """Text for a spreadsheet cell: never read as a formula, no illegal characters."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    # Fast path for the usual cell: starts with a visible, harmless character and holds no
    # control character (isprintable is False for every character below 0x20).
    if text and text[0] not in _TRIGGER_OR_BLANK and text.isprintable():
        return text
    if text and (
        text[0] in FORMULA_TRIGGERS
        or (_LEADING_BLANK.match(text) and _LEADING_BLANK.sub("", text)[:1] in FORMULA_TRIGGERS)
    ):
        text = "'" + text
    return _ILLEGAL.sub("\ufffd", text)


def safe_filename(name: str, extension: str) -> str:
    """A download name that cannot break a Content-Disposition header or name a path."""
    stem = _FILENAME_UNSAFE.sub("-", name).strip(".-_")[:80] or "report"
    return f"{stem}.{extension}"


def content_disposition(name: str, extension: str) -> str:
    return f'attachment; filename="{safe_filename(name, extension)}"'


def _number(value: Any) -> Any:  # XLSX only
    """Numbers stay numbers; anything else that reached a numeric column becomes safe text."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return value
    return safe_text(value)


_TEXT_CACHE_SIZE = 10_000


def _csv_cell(column: Column) -> Any:
    """How one column becomes a CSV cell. Amount and int getters return Decimal, int or None,
    which the csv module writes as plain numbers (None as empty): no wrapper needed."""
    get = column.get
    if column.kind in (AMOUNT, INT):
        return get
    if column.kind == DATE:
        zone = timezone.get_current_timezone()

        def date_cell(row: Row) -> Any:
            # For people: the provider's local time to the second, which spreadsheets read as
            # a date; the ISO 8601 twin column (`_iso_cell`) keeps the offset for programs.
            value = get(row)
            if value is None:
                return ""
            if isinstance(value, datetime):
                return value.astimezone(zone).replace(tzinfo=None).isoformat(" ", "seconds")
            return safe_text(value)

        return date_cell
    # Text columns repeat the same few values (kinds, units, accounts, actors): remember them.
    cache: dict[Any, str] = {}

    def text_cell(row: Row) -> str:
        value = get(row)
        try:
            return cache[value]
        except KeyError:
            text = safe_text(value)
            if len(cache) < _TEXT_CACHE_SIZE:
                cache[value] = text
            return text
        except TypeError:  # an unhashable value
            return safe_text(value)

    return text_cell


def _iso_cell(column: Column) -> Any:
    get = column.get
    zone = timezone.get_current_timezone()

    def iso_cell(row: Row) -> Any:
        value = get(row)
        if isinstance(value, datetime):
            return value.astimezone(zone).isoformat()
        return "" if value is None else safe_text(value)

    return iso_cell


def _csv_headers_and_cells(columns: Sequence[Column]) -> tuple[list[str], list[Any]]:
    """Each column's header and cell, a date column followed by its ISO 8601 twin."""
    zone = timezone.get_current_timezone_name()
    headers, cells = [], []
    for column in columns:
        if column.kind == DATE:
            headers += [
                safe_text(f"{column.label} ({zone})"),
                safe_text(f"{column.label} (ISO 8601)"),
            ]
            cells += [_csv_cell(column), _iso_cell(column)]
        else:
            headers.append(safe_text(column.label))
            cells.append(_csv_cell(column))
    return headers, cells


def csv_chunks(
    columns: Sequence[Column], rows: Iterable[Row], progress: Any = None
) -> Iterator[bytes]:
    """The CSV file as a stream of byte chunks (constant memory, any number of rows)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    headers, cells = _csv_headers_and_cells(columns)
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow([cell(row) for cell in cells])
        count += 1
        if count % CSV_BATCH == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            if progress is not None:
                progress(count)
    yield buffer.getvalue().encode()
    if progress is not None:
        progress(count)


def write_csv(
    columns: Sequence[Column], rows: Iterable[Row], out: IO[bytes], progress: Any = None
) -> None:
    for chunk in csv_chunks(columns, rows, progress):
        out.write(chunk)


def write_xlsx(
    columns: Sequence[Column],
    rows: Iterable[Row],
    out: IO[bytes] | str,
    *,
    title: str = "Report",
    progress: Any = None,
) -> int:
    """Write an XLSX workbook with openpyxl in write-only mode (rows are streamed to a
    temporary file, not held). Returns the number of data rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=safe_filename(str(title), "x")[:-2][:31] or "Report")
    # A date column's header names the zone its times are in (spreadsheets have none).
    zone = timezone.get_current_timezone_name()
    sheet.append([safe_text(f"{c.label} ({zone})" if c.kind == DATE else c.label) for c in columns])

    def xlsx_cell(column: Column) -> Any:
        get = column.get
        if column.kind == AMOUNT:

            def cell(row: Row) -> Any:
                value = get(row)
                if value is None:
                    return None
                if not isinstance(value, Decimal | int) or isinstance(value, bool):
                    return safe_text(value)
                c = WriteOnlyCell(sheet, value=value)
                exponent = value.as_tuple().exponent if isinstance(value, Decimal) else 0
                places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
                c.number_format = "0." + "0" * places if places else "0"
                return c
        elif column.kind == INT:

            def cell(row: Row) -> Any:
                value = get(row)
                return value if value is None else _number(value)
        elif column.kind == DATE:

            def cell(row: Row) -> Any:
                value = get(row)
                if isinstance(value, datetime):
                    # Excel has no time zones: the provider's local time, without offset.
                    local = timezone.localtime(value).replace(tzinfo=None)
                    c = WriteOnlyCell(sheet, value=local)
                    c.number_format = "yyyy-mm-dd hh:mm:ss"
                    return c
                return None if value is None else safe_text(value)
        else:

            def cell(row: Row) -> Any:
                return safe_text(get(row))

        return cell

    cells = [xlsx_cell(c) for c in columns]
    count = 0
    for row in rows:
        sheet.append([cell(row) for cell in cells])
        count += 1
        if progress is not None and count % CSV_BATCH == 0:
            progress(count)
    workbook.save(out)
    if progress is not None:
        progress(count)
    return count
