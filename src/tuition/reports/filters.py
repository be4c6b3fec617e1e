"""Report filters: a small validated value, parsed once at every edge (pages, API, command).

Dates are calendar days in the provider's time zone: `from` starts at the beginning of its
day and `to` ends at the end of its day, both inclusive. `at` (the liability report) is the end
of its day. An aware ISO 8601 date-time is taken as the exact instant instead.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tuition.core.errors import ValidationError
from tuition.ledger.models import Unit

FILTER_NAMES = ("from", "to", "at", "account", "unit", "status", "kind", "item")
# What people read: a filter by its label, never its parameter name (that stays in
# `details.field` for programs).
FILTER_LABELS = {
    "from": _("From"),
    "to": _("To"),
    "at": _("As of"),
    "account": _("Training account"),
    "unit": _("Unit"),
    "status": _("Status"),
    "kind": _("Kind"),
    "item": _("Activity or group"),
}


def filter_label(name: str) -> str:
    return str(FILTER_LABELS.get(name, name))


_MAX_ID = 2**63 - 1
ITEM_KINDS = ("activity", "group")


@dataclass(frozen=True)
class ReportFilters:
    date_from: datetime | None = None
    date_to: datetime | None = None
    at: datetime | None = None
    account_id: int | None = None
    unit_id: int | None = None
    unit_code: str | None = None
    status: str | None = None
    kind: str | None = None
    item_kind: str | None = None
    item_id: int | None = None

    def as_dict(self) -> dict[str, str]:
        """The filters as they would be typed (for saving and for file names)."""
        out: dict[str, str] = {}
        if self.date_from is not None:
            out["from"] = self.date_from.isoformat()
        if self.date_to is not None:
            out["to"] = self.date_to.isoformat()
        if self.at is not None:
            out["at"] = self.at.isoformat()
        if self.account_id is not None:
            out["account"] = str(self.account_id)
        if self.unit_code is not None:
            out["unit"] = self.unit_code
        if self.status is not None:
            out["status"] = self.status
        if self.kind is not None:
            out["kind"] = self.kind
        if self.item_kind is not None:
            out["item"] = f"{self.item_kind}:{self.item_id}"
        return out


def parse_filters(
    raw: Mapping[str, Any] | None,
    *,
    allowed: Iterable[str],
    statuses: Iterable[str] = (),
    kinds: Iterable[str] = (),
) -> ReportFilters:
    """Validate filters given as strings (query parameters, JSON, command options).

    Empty values are ignored, so an empty form field means "no filter".

    Raises:
        ValidationError: an unknown filter, one this report does not take, or a bad value.
    """
    allowed = set(allowed)
    values: dict[str, Any] = {}
    for name, value in (raw or {}).items():
        if value is None or value == "":
            continue
        if name not in FILTER_NAMES:
            raise ValidationError(
                gettext("Unknown filter “%(name)s”.") % {"name": str(name)[:50]},
                details={"field": str(name)[:50]},
            )
        if name not in allowed:
            raise ValidationError(
                gettext("This report has no “%(filter)s” filter.") % {"filter": filter_label(name)},
                details={"field": name},
            )
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ValidationError(
                gettext("The “%(filter)s” filter must be text.") % {"filter": filter_label(name)},
                details={"field": name},
            )
        value = str(value).strip()
        if "\x00" in value or len(value) > 100:
            raise ValidationError(
                gettext("The “%(filter)s” filter is not valid.") % {"filter": filter_label(name)},
                details={"field": name},
            )
        values[name] = value

    fields: dict[str, Any] = {}
    if "from" in values:
        fields["date_from"] = _instant(values["from"], "from", end_of_day=False)
    if "to" in values:
        fields["date_to"] = _instant(values["to"], "to", end_of_day=True)
    if "at" in values:
        fields["at"] = _instant(values["at"], "at", end_of_day=True)
    start, end = fields.get("date_from"), fields.get("date_to")
    if start is not None and end is not None and start > end:
        raise ValidationError(
            gettext("“%(from)s” must not be after “%(to)s”.")
            % {"from": filter_label("from"), "to": filter_label("to")},
            details={"field": "from"},
        )
    if "account" in values:
        fields["account_id"] = _id(values["account"], "account")
    if "unit" in values:
        unit = Unit.objects.filter(code__iexact=values["unit"]).first()
        if unit is None:
            raise ValidationError(gettext("No such unit."), details={"field": "unit"})
        fields["unit_id"], fields["unit_code"] = unit.pk, unit.code
    if "status" in values:
        fields["status"] = _choice(values["status"], statuses, "status")
    if "kind" in values:
        fields["kind"] = _choice(values["kind"], kinds, "kind")
    if "item" in values:
        kind, _, item_id = values["item"].partition(":")
        if kind not in ITEM_KINDS:
            raise ValidationError(
                gettext("“%(filter)s” must look like “activity:12” or “group:3”.")
                % {"filter": filter_label("item")},
                details={"field": "item"},
            )
        fields["item_kind"], fields["item_id"] = kind, _id(item_id, "item")
    return ReportFilters(**fields)


def _choice(value: str, choices: Iterable[str], field: str) -> str:
    choices = list(choices)
    if value not in choices:
        raise ValidationError(
            gettext("“%(filter)s” must be one of: %(choices)s.")
            % {"filter": filter_label(field), "choices": ", ".join(choices)},
            details={"field": field, "choices": choices},
        )
    return value


def _id(value: str, field: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= _MAX_ID:
        raise ValidationError(
            gettext("“%(filter)s” must be an id.") % {"filter": filter_label(field)},
            details={"field": field},
        )
    return int(value)


def _out_of_range(field: str) -> ValidationError:
    return ValidationError(
        gettext("“%(filter)s” is out of range.") % {"filter": filter_label(field)},
        details={"field": field},
    )


def _instant(value: str, field: str, *, end_of_day: bool) -> datetime:
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if not 1900 <= day.year <= 9000:
                raise _out_of_range(field)
            start = timezone.make_aware(datetime.combine(day, time.min))
            if end_of_day:
                return start + timedelta(days=1) - timedelta(microseconds=1)
            return start
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or timezone.is_naive(moment):
        raise ValidationError(
            gettext("“%(filter)s” must be a date (2026-01-31) or a date-time with an offset.")
            % {"filter": filter_label(field)},
            details={"field": field},
        )
    if not date(1900, 1, 1) <= moment.date() <= date(9000, 1, 1):
        raise _out_of_range(field)
    return moment
