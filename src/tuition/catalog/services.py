"""Writes to the catalog: activities, groups, sessions, token prices, refill prices."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext

from tuition.core.actors import Actor
from tuition.core.amounts import MAX_MINOR, amount_error
from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.transactions import use_case
from tuition.ledger.models import Unit

from .models import Activity, Group, RefillPrice, Session, TokenPrice

UNSET: Any = object()
_ITEM_FIELDS = (
    "title",
    "description",
    "price",
    "refund_window_days",
    "learner_can_cancel",
    "is_published",
    "external_id",
)


def _check_item_fields(fields: Mapping[str, Any]) -> None:
    if "title" in fields:
        title = (fields["title"] or "").strip()
        if not title or len(title) > 200:
            raise ValidationError(
                gettext("The title must be 1 to 200 characters."), details={"field": "title"}
            )
    if "price" in fields and not (
        isinstance(fields["price"], int) and 0 <= fields["price"] <= MAX_MINOR
    ):
        raise amount_error("price", "negative")
    days = fields.get("refund_window_days")
    if days is not None and not (isinstance(days, int) and 0 <= days <= 3650):
        raise ValidationError(
            gettext("The refund window must be 0 to 3650 days."),
            details={"field": "refund_window_days"},
        )


def _set_token_prices(obj: Activity | Group, prices: Mapping[Unit, int]) -> None:
    for unit, amount in prices.items():
        if unit.code == Unit.USD:
            raise ValidationError(
                "The USD price is the item's price.", details={"field": "token_prices"}
            )
        if not (isinstance(amount, int) and 0 <= amount <= MAX_MINOR):
            raise ValidationError(
                "A token price must not be negative.", details={"field": "token_prices"}
            )
    key = {"activity": obj} if isinstance(obj, Activity) else {"group": obj}
    TokenPrice.objects.filter(**key).exclude(unit__in=list(prices)).delete()
    for unit, amount in prices.items():
        TokenPrice.objects.update_or_create(unit=unit, **key, defaults={"amount": amount})


@use_case
def create_activity(
    *,
    title: str,
    actor: Actor,
    price: int = 0,
    description: str = "",
    kind: str = Activity.Kind.COURSE,
    is_dated: bool = False,
    refund_window_days: int | None = None,
    learner_can_cancel: bool = True,
    is_published: bool = True,
    external_id: str = "",
    token_prices: Mapping[Unit, int] | None = None,
) -> Activity:
    """Raises:
    ValidationError: an empty title, a negative price, a bad refund window or kind."""
    fields = {"title": title, "price": price, "refund_window_days": refund_window_days}
    _check_item_fields(fields)
    if kind not in Activity.Kind.values:
        raise ValidationError("Unknown kind.", details={"field": "kind"})
    activity = Activity.objects.create(
        title=title.strip(),
        price=price,
        description=description or "",
        kind=kind,
        is_dated=is_dated,
        refund_window_days=refund_window_days,
        learner_can_cancel=learner_can_cancel,
        is_published=is_published,
        external_id=external_id or "",
    )
    _set_token_prices(activity, token_prices or {})
    return activity


@use_case
def update_activity(
    *, activity_id: int, actor: Actor, token_prices: Mapping[Unit, int] = UNSET, **changes: Any
) -> Activity:
    """Change the given fields (title, description, price, refund_window_days,
    learner_can_cancel, is_published, external_id, is_dated, kind) and/or the token prices.

    Raises:
        NotFoundError: no such activity.
        ValidationError: an unknown field or a bad value.
    """
    activity = Activity.objects.select_for_update().filter(pk=activity_id).first()
    if activity is None:
        raise NotFoundError("No such activity.")
    unknown = set(changes) - {*_ITEM_FIELDS, "is_dated", "kind"}
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    _check_item_fields(changes)
    for key, value in changes.items():
        setattr(activity, key, value)
    activity._change_reason = f"edited by {actor}"  # type: ignore[attr-defined]
    activity.save()
    if token_prices is not UNSET:
        _set_token_prices(activity, token_prices)
    return activity


@use_case
def create_group(
    *,
    title: str,
    actor: Actor,
    price: int = 0,
    activity_ids: Iterable[int] = (),
    description: str = "",
    refund_window_days: int | None = None,
    learner_can_cancel: bool = True,
    is_published: bool = True,
    external_id: str = "",
    token_prices: Mapping[Unit, int] | None = None,
) -> Group:
    """A program / learning path / bundle of activities.

    Raises:
        ValidationError: bad values, or an unknown activity.
    """
    _check_item_fields({"title": title, "price": price, "refund_window_days": refund_window_days})
    ids = sorted(set(activity_ids))
    if Activity.objects.filter(pk__in=ids).count() != len(ids):
        raise ValidationError("Unknown activity.", details={"field": "activities"})
    group = Group.objects.create(
        title=title.strip(),
        price=price,
        description=description or "",
        refund_window_days=refund_window_days,
        learner_can_cancel=learner_can_cancel,
        is_published=is_published,
        external_id=external_id or "",
    )
    group.activities.set(ids)
    _set_token_prices(group, token_prices or {})
    return group


@use_case
def update_group(
    *,
    group_id: int,
    actor: Actor,
    activity_ids: Iterable[int] = UNSET,
    token_prices: Mapping[Unit, int] = UNSET,
    **changes: Any,
) -> Group:
    """Raises:
    NotFoundError: no such group.
    ValidationError: an unknown field, a bad value or an unknown activity."""
    group = Group.objects.select_for_update().filter(pk=group_id).first()
    if group is None:
        raise NotFoundError("No such group.")
    unknown = set(changes) - set(_ITEM_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    _check_item_fields(changes)
    for key, value in changes.items():
        setattr(group, key, value)
    group._change_reason = f"edited by {actor}"  # type: ignore[attr-defined]
    group.save()
    if activity_ids is not UNSET:
        ids = sorted(set(activity_ids))
        if Activity.objects.filter(pk__in=ids).count() != len(ids):
            raise ValidationError("Unknown activity.", details={"field": "activities"})
        group.activities.set(ids)
    if token_prices is not UNSET:
        _set_token_prices(group, token_prices)
    return group


def _check_session(starts_at: datetime, ends_at: datetime, timezone: str, capacity: int) -> None:
    if ends_at <= starts_at:
        raise ValidationError(
            gettext("The end must be after the start."), details={"field": "ends_at"}
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError("Unknown time zone.", details={"field": "timezone"}) from exc
    if not (isinstance(capacity, int) and 1 <= capacity <= 100000):
        raise ValidationError(
            gettext("The capacity must be 1 to 100000 seats."), details={"field": "capacity"}
        )


@use_case
def create_session(
    *,
    activity_id: int,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    actor: Actor,
    timezone: str = "UTC",
    location: str = "",
) -> Session:
    """A dated run of an activity; the activity becomes dated (learners must pick a session).

    Raises:
        NotFoundError: no such activity.
        ValidationError: ends before it starts, an unknown time zone, a bad capacity.
    """
    activity = Activity.objects.select_for_update().filter(pk=activity_id).first()
    if activity is None:
        raise NotFoundError("No such activity.")
    _check_session(starts_at, ends_at, timezone, capacity)
    if not activity.is_dated:
        activity.is_dated = True
        activity._change_reason = f"first session added by {actor}"  # type: ignore[attr-defined]
        activity.save(update_fields=["is_dated"])
    return Session.objects.create(
        activity=activity,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        timezone=timezone,
        location=(location or "")[:200],
    )


@use_case
def update_session(*, session_id: int, actor: Actor, **changes: Any) -> Session:
    """Change starts_at, ends_at, timezone, location, capacity or is_cancelled. Capacity never
    goes below the seats already booked.

    Raises:
        NotFoundError: no such session.
        ValidationError: an unknown field or a bad value.
    """
    session = Session.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        raise NotFoundError("No such session.")
    unknown = set(changes) - {
        "starts_at",
        "ends_at",
        "timezone",
        "location",
        "capacity",
        "is_cancelled",
    }
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    for key, value in changes.items():
        setattr(session, key, value)
    _check_session(session.starts_at, session.ends_at, session.timezone, session.capacity)
    if session.capacity < session.booked:
        raise ValidationError(
            "capacity cannot be below the seats already booked.", details={"field": "capacity"}
        )
    session._change_reason = f"edited by {actor}"  # type: ignore[attr-defined]
    session.save(update_fields=list(changes))
    return session


@use_case
def set_refill_price(*, unit: Unit, unit_price: int, actor: Actor) -> RefillPrice:
    """What owners pay, in USD cents, for one whole unit of a token type in a refill.

    Raises:
        ValidationError: a price that is not positive, or USD (one credit is one dollar).
    """
    if unit.code == Unit.USD:
        raise ValidationError("USD credits cost their face value.", details={"field": "unit"})
    if not (isinstance(unit_price, int) and 0 < unit_price <= MAX_MINOR):
        raise amount_error("unit_price", "not_positive")
    price, _ = RefillPrice.objects.update_or_create(
        unit=unit, defaults={"unit_price": unit_price, "is_active": True}
    )
    return price
