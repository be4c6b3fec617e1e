"""Streaming CSV for the owner's statement and usage downloads.

Cells that a spreadsheet would read as a formula (starting with = + - @, tab or carriage
return) are prefixed with an apostrophe, so an exported learner name or note can never run as
a formula. Signed amounts are written as plain numbers only when they are numbers, so they stay
numeric for the spreadsheet.
"""

import csv
import re
from collections.abc import Iterable, Iterator

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(header: list[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Yield CSV lines one by one (constant memory, for StreamingHttpResponse)."""
    writer = csv.writer(_Echo())
    yield writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])
