"""Amounts: integers in a unit's minor unit inside, decimal strings at the edges.

`parse_amount("150.5", decimals=2)` gives 15050; `format_amount(15050, decimals=2)` gives
"150.50". Floats never carry money: they are refused at the edge, as are NaN, infinities,
exponents, more decimals than the unit has, and values beyond MAX_MINOR.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import ValidationError

# Ten thousand billion major units at two decimals: far beyond any real credit, far inside
# a signed 64-bit column, so sums of many lots never overflow.
MAX_MINOR = 10**15
MAX_DECIMALS = 6
_PLAIN_DECIMAL = re.compile(r"^[+-]?([0-9]+)(?:\.([0-9]+))?$")


def parse_amount(
    value: Any,
    *,
    decimals: int,
    field: str = "amount",
    allow_zero: bool = False,
    allow_negative: bool = False,
) -> int:
    """Parse a decimal string (or an integer) into minor units.

    Raises:
        ValidationError: not a plain decimal number, too many decimals, out of range.
    """
    if isinstance(value, bool) or value is None:
        raise _invalid(field, 'must be a decimal string such as "150.00"')
    if isinstance(value, float):
        raise _invalid(field, "must be a decimal string, not a floating-point number")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise _invalid(field, "must be a finite number")
        text = format(value, "f")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise _invalid(field, 'must be a decimal string such as "150.00"')

    match = _PLAIN_DECIMAL.match(text)
    if not match or len(text) > 40:
        raise _invalid(field, 'must be a decimal string such as "150.00"')
    fraction = (match.group(2) or "").rstrip("0")
    if len(fraction) > decimals:
        raise _invalid(field, f"has more than {decimals} decimal places")
    try:
        minor = int(Decimal(text).scaleb(decimals))
    except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes these
        raise _invalid(field, "is not a number") from exc

    if abs(minor) > MAX_MINOR:
        raise _invalid(field, "is too large")
    if minor < 0 and not allow_negative:
        raise _invalid(field, "must not be negative")
    if minor == 0 and not allow_zero:
        raise _invalid(field, "must be greater than zero")
    return minor


def format_amount(minor: int, *, decimals: int) -> str:
    """Minor units as a decimal string with exactly `decimals` places."""
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor))
    if decimals == 0:
        return sign + digits
    digits = digits.rjust(decimals + 1, "0")
    return f"{sign}{digits[:-decimals]}.{digits[-decimals:]}"


def to_decimal(minor: int, *, decimals: int) -> Decimal:
    """Minor units as an exact Decimal, for spreadsheets that need numeric cells."""
    return Decimal(minor).scaleb(-decimals)


def _invalid(field: str, problem: str) -> ValidationError:
    return ValidationError(f"{field} {problem}.", details={"field": field})
