from django import template

from tuition.core import l10n
from tuition.core.times import spelled_span

register = template.Library()


@register.filter
def usd(cents: int | None) -> str:
    """USD cents in the reader's locale: "$1,234.50", "1.234,50 $"."""
    if cents is None:
        return ""
    return l10n.money(int(cents), unit_code="USD", decimals=2)


@register.filter
def amount(minor: int | None, unit) -> str:  # type: ignore[no-untyped-def]
    """An amount in a unit, in the reader's locale: "$150.00" for USD, "3 TT" for tokens."""
    if minor is None or unit is None:
        return ""
    return l10n.money(int(minor), unit_code=unit.code, decimals=unit.decimals)


@register.filter
def signed_amount(minor: int | None, unit) -> str:  # type: ignore[no-untyped-def]
    """A change to a balance, signed: "+$1,000.00", or "\u2212300,00 $" in German."""
    if minor is None or unit is None:
        return ""
    text = l10n.money(abs(int(minor)), unit_code=unit.code, decimals=unit.decimals)
    return ("+" if minor > 0 else "\u2212" if minor < 0 else "") + text


@register.filter
def local_day(value) -> str:  # type: ignore[no-untyped-def]
    """A date (or a moment, in the provider's time zone) spelled for the reader."""
    if value is None:
        return ""
    return l10n.day(value)


@register.filter
def local_moment(value) -> str:  # type: ignore[no-untyped-def]
    """A moment in the provider's time zone with the zone named, for the reader."""
    if value is None:
        return ""
    return l10n.moment(value)


@register.filter
def session_time(session) -> str:  # type: ignore[no-untyped-def]
    """A session's start and end in its own time zone, named: "Sun 10 Jan 2027, 09:00-17:00
    CET (Europe/Berlin)"."""
    if session is None:
        return ""
    return spelled_span(session.starts_at, session.ends_at, session.timezone, short=True)
