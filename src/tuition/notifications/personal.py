"""Personal events: what one person hears about their own registration, bookings and
memberships (see `events` for the kinds and their data).

Each function builds the event from objects the calling service already holds, reading
nothing from the database (unless noted), so recording it inside a checkout adds no query
beyond the inserts. Objects are taken by their attributes: of the other apps this module
imports only core.
"""

from typing import Any

from tuition.core.times import spelled_span, zone_named

from . import events


def session_info(session: Any) -> dict[str, Any]:
    """A session as event data: times in its own time zone, and spelled out for people."""
    zone = zone_named(session.timezone)
    start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    return {
        "id": str(session.pk),
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "timezone": str(zone),
        "location": session.location or "",
        "when": spelled_span(session.starts_at, session.ends_at, str(zone)),
    }


def _learner(learner: Any) -> dict[str, Any]:
    data = {"learner_email": learner.email}
    if getattr(learner, "name", ""):
        data["learner_name"] = learner.name
    return data


def registration_confirmed(
    *,
    order: Any,
    registration: Any,
    learner: Any,
    session: Any | None = None,
    account_name: str = "",
) -> events.PendingEvent:
    """The learner's paid registration (and booking, for a dated activity). The receipt and
    invoice are numbered at the very end of the checkout transaction, after this is recorded,
    so the notice names the order; the documents are in My learning and in the API."""
    data: dict[str, Any] = {
        "registration_id": str(registration.pk),
        "order_id": str(order.pk),
        "order_number": order.number,
        "item_kind": registration.item_kind,
        "item_id": str(registration.activity_id or registration.group_id),
        "item_title": order.title,
        "amount": order.unit.format(order.charged),
        "unit": order.unit.code,
        "method": order.method,
        **_learner(learner),
    }
    if order.account_id is not None:
        data["account_id"] = str(order.account_id)
        data["account_name"] = account_name
    if session is not None:
        data["session"] = session_info(session)
    return events.pending(
        events.REGISTRATION_CONFIRMED,
        account_id=order.account_id,
        data=data,
        recipients=[events.person(learner)],
    )


def registration_not_approved(
    *, order: Any, learner: Any, reason: str, account_name: str
) -> events.PendingEvent:
    """The learner's request that waited for an owner's approval was declined, or was not
    decided in time (`reason`): nothing was charged, and the held value and seat are free."""
    data: dict[str, Any] = {
        "order_id": str(order.pk),
        "order_number": order.number,
        "item_title": order.title,
        "amount": order.unit.format(order.charged),
        "unit": order.unit.code,
        "account_name": account_name,
        "reason": reason,
        **_learner(learner),
    }
    if order.session is not None:
        data["session"] = session_info(order.session)
    return events.pending(
        events.REGISTRATION_NOT_APPROVED,
        account_id=order.account_id,
        data=data,
        recipients=[events.person(learner)],
    )


def booking_changed(
    *,
    change: str,
    registration: Any,
    booking: Any,
    activity: Any,
    learner: Any,
    session: Any,
    previous_session: Any | None = None,
) -> events.PendingEvent:
    """A booking made after checkout ("booked"), moved to another date ("moved"), or left
    ("unenrolled"). `registration.order` should already be loaded (it is, under its lock)."""
    order = registration.order
    data: dict[str, Any] = {
        "change": change,
        "registration_id": str(registration.pk),
        "booking_id": str(booking.pk),
        "order_number": order.number,
        "activity_id": str(activity.pk),
        "item_title": activity.title,
        "session": session_info(session),
        **_learner(learner),
    }
    if previous_session is not None:
        data["previous_session"] = session_info(previous_session)
    return events.pending(
        events.BOOKING_CHANGED,
        account_id=order.account_id,
        data=data,
        recipients=[events.person(learner)],
    )


def registration_cancelled(
    *, registration: Any, learner: Any, by_staff: bool
) -> events.PendingEvent:
    """The learner's registration ended; says whether (and how much) was refunded."""
    order = registration.order
    data: dict[str, Any] = {
        "registration_id": str(registration.pk),
        "order_number": order.number,
        "item_title": order.title,
        "refunded": bool(registration.refunded),
        "by_staff": by_staff,
        **_learner(learner),
    }
    if registration.refunded:
        data["refund_amount"] = order.unit.format(order.charged)
        data["unit"] = order.unit.code
    return events.pending(
        events.REGISTRATION_CANCELLED,
        account_id=order.account_id,
        data=data,
        recipients=[events.person(learner)],
    )


def member_invited(*, account: Any, user: Any, role: str) -> events.PendingEvent:
    """A person was added to a training account (a new membership, not a change of role)."""
    data = {
        "account_id": str(account.pk),
        "account_name": account.name,
        "email": user.email,
        "role": role,
        "has_password": user.has_usable_password(),
    }
    return events.pending(
        events.MEMBER_INVITED, account_id=account.pk, data=data, recipients=[events.person(user)]
    )
