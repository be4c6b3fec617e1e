from django import template

from tuition.core.amounts import format_amount
from tuition.core.times import spelled_span

register = template.Library()


@register.filter
def usd(cents: int | None) -> str:
    """USD cents as "$1,234.50"."""
    if cents is None:
        return ""
    whole, _, fraction = format_amount(int(cents), decimals=2).partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}${int(whole.lstrip('-')):,}.{fraction}"


@register.filter
def amount(minor: int | None, unit) -> str:  # type: ignore[no-untyped-def]
    """An amount in a unit: "$150.00" for USD, "3 TT" for tokens."""
    if minor is None or unit is None:
        return ""
    if unit.code == "USD":
        return usd(minor)
    return f"{unit.format(int(minor))} {unit.code}"


@register.filter
def session_time(session) -> str:  # type: ignore[no-untyped-def]
    """A session's start and end in its own time zone, named: "Sun 10 Jan 2027, 09:00-17:00
    CET (Europe/Berlin)"."""
    if session is None:
        return ""
    return spelled_span(session.starts_at, session.ends_at, session.timezone, short=True)
