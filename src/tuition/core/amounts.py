"""Amounts: integers in a unit's minor unit inside, decimal strings at the edges.

`parse_amount("150.5", decimals=2)` gives 15050; `format_amount(15050, decimals=2)` gives
"150.50". Floats never carry money: they are refused at the edge, as are NaN, infinities,
exponents, more decimals than the unit has, and values beyond MAX_MINOR.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

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
        raise _invalid(field, "not_decimal")
    if isinstance(value, float):
        raise _invalid(field, "float")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise _invalid(field, "not_finite")
        text = format(value, "f")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise _invalid(field, "not_decimal")

    match = _PLAIN_DECIMAL.match(text)
    if not match or len(text) > 40:
        raise _invalid(field, "not_decimal")
    fraction = (match.group(2) or "").rstrip("0")
    if len(fraction) > decimals:
        raise _invalid(field, "decimals", decimals=decimals)
    try:
        minor = int(Decimal(text).scaleb(decimals))
    except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes these
        raise _invalid(field, "not_decimal") from exc

    if abs(minor) > MAX_MINOR:
        raise _invalid(field, "too_large")
    if minor < 0 and not allow_negative:
        raise _invalid(field, "negative")
    if minor == 0 and not allow_zero:
        raise _invalid(field, "not_positive")
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


# What people read: the field's name in words, never the API's field name (that stays in
# `details.field` for programs).
FIELD_LABELS = {
    "amount": _("Amount"),
    "amount_off": _("Amount off"),
    "cap": _("Spending cap"),
    "price": _("Price"),
    "purchase_price": _("Purchase price"),
    "redeemable_value": _("Redeemable value"),
    "threshold": _("Threshold"),
    "unit_price": _("Unit price"),
    "token_prices": _("Token price"),
}
_PROBLEMS = {
    "not_decimal": _('%(field)s must be a decimal number such as "150.00".'),
    "float": _("%(field)s must be a decimal string, not a floating-point number."),
    "not_finite": _("%(field)s must be a finite number."),
    "decimals": _("%(field)s has more than %(decimals)s decimal places."),
    "too_large": _("%(field)s is too large."),
    "negative": _("%(field)s must not be negative."),
    "not_positive": _("%(field)s must be greater than zero."),
}


def field_label(field: str) -> str:
    """A field as people name it: "redeemable_value" -> "Redeemable value"."""
    label = FIELD_LABELS.get(field.rsplit(".", 1)[-1])
    return str(label) if label is not None else field.replace("_", " ").capitalize()


def amount_error(field: str, problem: str, **params: Any) -> ValidationError:
    """The refusal of an amount, worded for people in their language; `problem` is one of
    not_decimal, float, not_finite, decimals, too_large, negative, not_positive."""
    message = _PROBLEMS[problem] % {"field": field_label(field), **params}
    return ValidationError(message, details={"field": field})


_invalid = amount_error
