"""Times as people read them: a session's times in its own time zone, with the zone named."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from django.conf import settings
from django.utils import translation


def locale_name(language: str | None = None) -> str:
    """A Babel locale name ("de", "en_US") for a Django language code, English when unknown."""
    code = language or translation.get_language() or settings.LANGUAGE_CODE
    name = translation.to_locale(code)
    try:
        Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return "en_US"
    return name


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


# Day patterns (CLDR syntax) per language: full and short. English keeps the product's own
# "Sunday 10 January 2027"; other languages use their customary order.
_DAY_PATTERNS = {
    "en": ("EEEE d MMMM y", "EEE d MMM y"),
    "de": ("EEEE, d. MMMM y", "EEE, d. MMM y"),
    "es": ("EEEE, d 'de' MMMM 'de' y", "EEE, d MMM y"),
}


def _spell_day(moment: datetime, *, short: bool, language: str | None) -> str:
    code = (language or translation.get_language() or "en").split("-")[0]
    full, brief = _DAY_PATTERNS.get(code, ("full", "medium"))
    return format_date(moment.date(), brief if short else full, locale=locale_name(language))


def spelled_span(
    starts_at: datetime,
    ends_at: datetime,
    zone_name: str,
    *,
    short: bool = False,
    language: str | None = None,
) -> str:
    """Start and end in the zone, e.g. "Sunday 10 January 2027, 09:00-17:00 CET (Europe/Berlin)"
    ("Sun 10 Jan 2027, …" when `short`); an end on another day is spelled in full. Day and month
    names are in `language` (the active language when None)."""
    zone = zone_named(zone_name)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    day = _spell_day(start, short=short, language=language)
    if end.date() == start.date():
        span = f"{start:%H:%M}\u2013{end:%H:%M}"
    else:
        end_day = _spell_day(end, short=short, language=language)
        span = f"{start:%H:%M} \u2013 {end_day}, {end:%H:%M}"
    return f"{day}, {span} {_zone_label(start, zone)}"
