"""Amounts and times as people read them: "$200.00", "3 TT", "1 Dec 2026, 14:05 UTC".

Amounts are stored in minor units (integers); these are for pages only (the staff area and
the owner pages), never for files or the API, which keep plain decimal strings. In English they
read as above; in another active language they follow its conventions (Babel's CLDR data, as
in `l10n`): "1.234,50 $", "1. Dez. 2026, 14:05 UTC".
"""

from datetime import datetime
from typing import Any

from babel.dates import format_date, format_time
from django.conf import settings
from django.utils import timezone, translation

from . import l10n
from .amounts import format_amount


def _localized() -> bool:
    """Whether the reader's language is another than English."""
    return not (translation.get_language() or settings.LANGUAGE_CODE).startswith("en")


def usd(cents: int | None) -> str:
    """USD cents as "$1,234.50"."""
    if cents is None:
        return ""
    if _localized():
        return l10n.money(int(cents), unit_code="USD", decimals=2)
    whole, _, fraction = format_amount(int(cents), decimals=2).partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}${int(whole.lstrip('-')):,}.{fraction}"


def money(minor: int | None, unit: Any) -> str:
    """An amount in a unit: "$150.00" for USD, "3 TT" or "1,250.5 LAB" for token types."""
    if minor is None:
        return "—"
    if unit is None or unit.code == "USD":
        return usd(minor)
    if _localized():
        return l10n.money(int(minor), unit_code=unit.code, decimals=unit.decimals)
    whole, dot, fraction = format_amount(int(minor), decimals=unit.decimals).partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}{dot}{fraction} {unit.code}"


def when(moment: datetime | None, *, empty: str = "—") -> str:
    """A moment in the provider's time zone, with the zone: "1 Dec 2026, 14:05 UTC"."""
    if moment is None:
        return empty
    local = timezone.localtime(moment)
    if _localized():
        locale = l10n.locale_name()
        day = format_date(local, "medium", locale=locale)
        return f"{day}, {format_time(local, 'short', locale=locale)} {local.tzname()}"
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"
