"""Amounts, dates and times as a reader expects them in their language (Babel's CLDR data).

The language is the active Django language unless one is given, so pages follow the person's
choice (or the browser), and emails and documents follow their recipient's. Amounts arrive in
minor units and leave as text; nothing here is parsed back.
"""

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date as _format_date
from babel.dates import format_time as _format_time
from babel.numbers import format_currency, format_decimal
from django.conf import settings

from .times import locale_name as locale_name  # pages and documents read it here too
from .times import zone_named


def money(minor: int, *, unit_code: str, decimals: int, language: str | None = None) -> str:
    """An amount in a unit: "$1,234.50" or "1.234,50 $" for USD, "3 TT" for a token unit."""
    value = Decimal(int(minor)).scaleb(-decimals)
    locale = locale_name(language)
    if unit_code == "USD":
        return format_currency(value, "USD", locale=locale)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    number = format_decimal(value, format=pattern, locale=locale, decimal_quantization=False)
    return f"{number}\u00a0{unit_code}"


def number(minor: int, *, decimals: int, language: str | None = None) -> str:
    """A plain amount without its unit, grouped and with the locale's decimal sign."""
    value = Decimal(int(minor)).scaleb(-decimals)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=locale_name(language))


def day(value: date | datetime, *, zone: str = "", language: str | None = None) -> str:
    """A date spelled for people ("7 December 2026", "7. Dezember 2026"); a datetime is first
    moved into `zone` (the provider's time zone when empty)."""
    if isinstance(value, datetime):
        value = value.astimezone(zone_named(zone or settings.TIME_ZONE)).date()
    return _format_date(value, "long", locale=locale_name(language))


def moment(value: datetime, *, zone: str = "", language: str | None = None) -> str:
    """A point in time in a zone, with the zone named: "7 Dec 2026, 14:02 CET (Europe/Berlin)".
    The provider's time zone when `zone` is empty."""
    tz = zone_named(zone or settings.TIME_ZONE)
    local = value.astimezone(tz)
    locale = locale_name(language)
    when = _format_date(local, "medium", locale=locale)
    text = f"{when}, {_format_time(local, 'short', locale=locale)}"
    abbreviation = local.tzname() or ""
    label = str(tz) if abbreviation in ("", str(tz)) else f"{abbreviation} ({tz})"
    return f"{text} {label}"
