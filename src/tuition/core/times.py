"""Times as people read them: a session's times in its own time zone, with the zone named."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_named(name: str) -> ZoneInfo:
    """The time zone of that IANA name, UTC when it is empty or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _zone_label(moment: datetime, zone: ZoneInfo) -> str:
    """ "CET (Europe/Berlin)", or just "UTC" where the abbreviation is the name."""
    abbreviation = moment.tzname() or ""
    return str(zone) if abbreviation in ("", str(zone)) else f"{abbreviation} ({zone})"


def spelled_span(
    starts_at: datetime, ends_at: datetime, zone_name: str, *, short: bool = False
) -> str:
    """Start and end in the zone, e.g. "Sunday 10 January 2027, 09:00-17:00 CET (Europe/Berlin)"
    ("Sun 10 Jan 2027, …" when `short`); an end on another day is spelled in full."""
    zone = zone_named(zone_name)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    day_format = "%a {day} %b %Y" if short else "%A {day} %B %Y"
    day = start.strftime(day_format).format(day=start.day)
    if end.date() == start.date():
        span = f"{start:%H:%M}\u2013{end:%H:%M}"
    else:
        span = f"{start:%H:%M} \u2013 {end.strftime(day_format).format(day=end.day)}, {end:%H:%M}"
    return f"{day}, {span} {_zone_label(start, zone)}"
