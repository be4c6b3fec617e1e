"""Event data as its reader reads it: amounts, dates and session times in the recipient's
language, expiry times in the recipient's own time zone, with the zone named.

Event data stays machine-shaped (decimal strings, ISO 8601, see `events`) because webhooks
carry it; emails show the `readable` version built here when the worker renders them.
"""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tuition.core import l10n
from tuition.core.times import spelled_span

_AMOUNTS = (
    "amount",
    "remaining",
    "available",
    "threshold",
    "refund_amount",
    "refunded_total",
    "charged",
)
_MOMENTS = ("expires_at", "old_expires_at", "new_expires_at")


def _money(value: Any, unit: str, language: str) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return f"{value} {unit}".strip()
    decimals = max(0, -int(number.as_tuple().exponent))  # type: ignore[operator]
    minor = int(number.scaleb(decimals))
    return l10n.money(minor, unit_code=unit or "", decimals=decimals, language=language)


def _moment(value: Any, zone: str, language: str) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return l10n.moment(moment, zone=zone, language=language)


def _session(session: dict[str, Any], language: str) -> str:
    try:
        starts, ends = (datetime.fromisoformat(session[k]) for k in ("starts_at", "ends_at"))
    except (KeyError, TypeError, ValueError):
        return str(session.get("when", ""))
    return spelled_span(starts, ends, session.get("timezone", ""), language=language)


def readable(data: dict[str, Any], *, language: str, zone: str) -> dict[str, str]:
    """Human versions of the fields an email shows; missing fields stay missing."""
    shown: dict[str, str] = {}
    unit = str(data.get("unit") or "")
    for key in _AMOUNTS:
        if data.get(key) not in (None, ""):
            shown[key] = _money(data[key], unit, language)
    if data.get("price") not in (None, ""):
        shown["price"] = _money(data["price"], "USD", language)
    for key in _MOMENTS:
        if data.get(key):
            shown[key] = _moment(data[key], zone, language)
    for key in ("session", "previous_session"):
        if isinstance(data.get(key), dict):
            shown[key] = _session(data[key], language)
    return shown
