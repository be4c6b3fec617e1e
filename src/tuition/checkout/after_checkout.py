"""What follows a checkout: book a date, find another time, unenroll, cancel (with or without a
refund, a reversal into the same lots), mark an invoice order paid."""

from datetime import datetime, timedelta

from django.db.models import F, Q

from tuition.accounts.models import User
from tuition.catalog.models import Activity, Session
from tuition.codes import services as codes
from tuition.codes.models import RedemptionCode
from tuition.core import clock
from tuition.core.actors import Actor
from tuition.core.audit import record_change
from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.transactions import use_case
from tuition.ledger import services as ledger
from tuition.ledger.errors import AlreadyReversedError
from tuition.ledger.locks import lock_wallet
from tuition.notifications import events, personal

from .documents import issue_document
from .errors import (
    AlreadyCancelledError,
    AlreadyRegisteredError,
    NotCancellableError,
    RefundNotAllowedError,
    SessionRequiredError,
    SessionStartedError,
)
from .locks import lock_registration, lock_sessions
from .models import (
    Booking,
    ItemKind,
    Order,
    Receipt,
    Registration,
)
from .refills import deliver_refill
from .seats import free_seat, take_seat


def _booking_target(
    registration_id: int, *, learner: User | None, activity_id: int | None
) -> tuple[Registration, Activity]:
    """The registration that holds the bookings (a group's for its activities), locked, and
    the dated activity to book, move or leave.

    Raises:
        NotFoundError, AlreadyCancelledError, ValidationError: see `_live_registration`.
    """
    part = Registration.objects.filter(pk=registration_id, part_of__isnull=False).first()
    if part is not None:  # one activity of a group: its bookings are kept on the group's
        if activity_id is not None and activity_id != part.activity_id:
            raise NotFoundError("No such activity in this registration.")
        registration_id, activity_id = part.part_of_id, part.activity_id  # type: ignore[assignment]
    registration = _live_registration(registration_id, learner=learner)
    return registration, _dated_activity(registration, activity_id)


def _live_registration(registration_id: int, *, learner: User | None) -> Registration:
    registration = lock_registration(registration_id)
    if registration is None or (learner is not None and registration.learner_id != learner.pk):
        raise NotFoundError("No such registration.")
    if registration.status == Registration.Status.CANCELLED:
        raise AlreadyCancelledError()
    if registration.status != Registration.Status.ACTIVE:
        raise ValidationError("This registration is not active.")
    return registration


def _dated_activity(registration: Registration, activity_id: int | None) -> Activity:
    if registration.item_kind == ItemKind.ACTIVITY:
        activity = registration.activity
        if activity_id is not None and activity_id != registration.activity_id:
            raise NotFoundError("No such activity in this registration.")
    else:
        if activity_id is None:
            raise ValidationError(
                "Choose which activity of the group to book.", details={"field": "activity"}
            )
        activity = registration.group.activities.filter(pk=activity_id).first()  # type: ignore[union-attr]
    if activity is None or not activity.is_dated:
        raise NotFoundError("No such dated activity in this registration.")
    return activity


@use_case(answers=True)
def book_session(
    *,
    registration_id: int,
    session_id: int,
    actor: Actor,
    learner: User | None = None,
    activity_id: int | None = None,
) -> Booking:
    """Book a session for a registration that holds no active booking for that activity (after
    unenrolling, or for a dated activity of a group). Nothing is charged.

    Raises:
        NotFoundError: no such registration (for this learner), activity or session.
        AlreadyCancelledError: the registration was cancelled.
        AlreadyRegisteredError: the activity is already booked (find another time instead).
        SessionFullError, SessionStartedError: the session cannot take the learner.
    """
    registration, activity = _booking_target(
        registration_id, learner=learner, activity_id=activity_id
    )
    if registration.bookings.filter(activity=activity, status=Booking.Status.ACTIVE).exists():
        raise AlreadyRegisteredError("A date is already booked; find another time instead.")
    session = lock_sessions([session_id]).get(session_id)
    if session is None or session.activity_id != activity.pk or session.is_cancelled:
        raise NotFoundError("No such session.", details={"field": "session"})
    at = clock.now()
    take_seat(session.pk, at)
    booking = Booking.objects.create(
        registration=registration, activity=activity, session=session, created_at=at
    )
    record_change(actor=actor, verb="booked", obj=booking, summary=f"session {session.pk}")
    _tell_learner("booked", registration, booking, activity, learner, session)
    return booking


@use_case(answers=True)
def reschedule_booking(
    *,
    registration_id: int,
    session_id: int,
    actor: Actor,
    learner: User | None = None,
    activity_id: int | None = None,
) -> Booking:
    """Find Another Time: move the active booking to another upcoming session of the same
    activity. Nothing is charged or refunded; the order and its credit stay linked.

    Raises:
        NotFoundError: no such registration (for this learner) or session of this activity.
        AlreadyCancelledError: the registration was cancelled.
        SessionRequiredError: it holds no booking to move (book a session instead).
        SessionFullError, SessionStartedError: the new session cannot take the learner, or
            the booked one has already started.
    """
    registration, activity = _booking_target(
        registration_id, learner=learner, activity_id=activity_id
    )
    current = registration.bookings.filter(activity=activity, status=Booking.Status.ACTIVE).first()
    if current is None:
        raise SessionRequiredError("There is no booking to move; book a session instead.")
    if current.session_id == session_id:
        return current
    sessions = lock_sessions([session_id, current.session_id])
    target = sessions.get(session_id)
    if target is None or target.activity_id != activity.pk or target.is_cancelled:
        raise NotFoundError("No such session.", details={"field": "session"})
    at = clock.now()
    if sessions[current.session_id].starts_at <= at:
        raise SessionStartedError("The booked session has already started.")
    take_seat(target.pk, at)
    free_seat(current.session_id)
    Booking.objects.filter(pk=current.pk).update(status=Booking.Status.MOVED, ended_at=at)
    booking = Booking.objects.create(
        registration=registration, activity=activity, session=target, created_at=at
    )
    record_change(
        actor=actor,
        verb="rescheduled",
        obj=booking,
        summary=f"session {current.session_id} → {target.pk}",
    )
    _tell_learner(
        "moved",
        registration,
        booking,
        activity,
        learner,
        target,
        previous_session=sessions[current.session_id],
    )
    return booking


@use_case(answers=True)
def unenroll_from_session(
    *,
    registration_id: int,
    actor: Actor,
    learner: User | None = None,
    activity_id: int | None = None,
) -> Booking:
    """Leave the booked session; the registration stays active, so the learner can book
    another date later without paying again.

    Raises:
        NotFoundError: no such registration (for this learner).
        AlreadyCancelledError: the registration was cancelled.
        SessionRequiredError: it holds no booking to leave.
        SessionStartedError: the session has already started.
    """
    registration, activity = _booking_target(
        registration_id, learner=learner, activity_id=activity_id
    )
    current = registration.bookings.filter(activity=activity, status=Booking.Status.ACTIVE).first()
    if current is None:
        raise SessionRequiredError("There is no booking to leave; book a session first.")
    session = lock_sessions([current.session_id])[current.session_id]
    at = clock.now()
    if session.starts_at <= at:
        raise SessionStartedError()
    free_seat(session.pk)
    Booking.objects.filter(pk=current.pk).update(status=Booking.Status.CANCELLED, ended_at=at)
    current.refresh_from_db()
    record_change(actor=actor, verb="unenrolled", obj=current, summary=f"session {session.pk}")
    _tell_learner("unenrolled", registration, current, activity, learner, session)
    return current


def _tell_learner(
    change: str,
    registration: Registration,
    booking: Booking,
    activity: Activity,
    learner: User | None,
    session: Session,
    *,
    previous_session: Session | None = None,
) -> None:
    """Record the learner's notice of a booked, moved or left session (in this transaction)."""
    events.record_many(
        [
            personal.booking_changed(
                change=change,
                registration=registration,
                booking=booking,
                activity=activity,
                learner=learner or registration.learner,
                session=session,
                previous_session=previous_session,
            )
        ]
    )


def refund_window_open(registration: Registration, at: datetime | None = None) -> bool:
    """Whether the item's refund window still allows a refund (rule 20)."""
    at = at or clock.now()
    item = registration.activity or registration.group
    days = item.refund_window_days if item is not None else None
    return days is not None and at < registration.order.created_at + timedelta(days=days)


@use_case(answers=True)
def cancel_registration(
    *,
    registration_id: int,
    actor: Actor,
    refund: bool | None = None,
    by_staff: bool = False,
    learner: User | None = None,
) -> Registration:
    """End a registration (and its bookings). `refund=None` refunds when the item's refund
    window allows it; `True` insists (staff always may, a learner only within the window);
    `False` never refunds. A credit refund reverses the redemption into the same lots.

    Raises:
        NotFoundError: no such registration (for this learner).
        AlreadyCancelledError: it is already cancelled.
        NotCancellableError: the item does not let learners cancel.
        RefundNotAllowedError: a refund was asked for outside the window (learner).
        AlreadyReversedError: the payment was already reversed.
    """
    found = Registration.objects.filter(pk=registration_id).select_related("order").first()
    if found is None or (learner is not None and found.learner_id != learner.pk):
        raise NotFoundError("No such registration.")
    if found.part_of_id is not None:
        raise NotCancellableError(
            "This activity came with a group: cancel the group's registration instead."
        )
    order = found.order
    if order.transfer_id is not None:
        lock_wallet(order.account_id, order.unit_id)  # lock order: wallet first
    registration = lock_registration(registration_id)
    assert registration is not None
    if registration.status == Registration.Status.CANCELLED:
        raise AlreadyCancelledError()
    if registration.part_of_id is not None:
        raise NotCancellableError(
            "This activity came with a group: cancel the group's registration instead."
        )
    item = registration.activity or registration.group
    if not by_staff and not item.learner_can_cancel:  # type: ignore[union-attr]
        raise NotCancellableError()
    at = clock.now()
    window = refund_window_open(registration, at)
    if refund is None:
        do_refund = window
    elif refund and not by_staff and not window:
        raise RefundNotAllowedError()
    else:
        do_refund = bool(refund)
    pending = order.status == Order.Status.PENDING_PAYMENT
    if do_refund and not pending:
        _refund(order, actor=actor, at=at)
    active = list(registration.bookings.filter(status=Booking.Status.ACTIVE))
    lock_sessions(b.session_id for b in active)
    for booking in active:
        free_seat(booking.session_id)
    registration.bookings.filter(status=Booking.Status.ACTIVE).update(
        status=Booking.Status.CANCELLED, ended_at=at
    )
    registration.status = Registration.Status.CANCELLED
    registration.cancelled_at, registration.cancelled_by = at, actor[:200]
    registration.refunded = do_refund and not pending and order.charged > 0
    registration.save(update_fields=["status", "cancelled_at", "cancelled_by", "refunded"])
    registration.parts.exclude(status=Registration.Status.CANCELLED).update(
        status=Registration.Status.CANCELLED, cancelled_at=at, cancelled_by=actor[:200]
    )
    if pending:
        Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED, cancelled_at=at)
    record_change(
        actor=actor,
        verb="cancelled",
        obj=registration,
        summary="refunded" if registration.refunded else "",
    )
    events.record_many(
        [
            personal.registration_cancelled(
                registration=registration,
                learner=learner or registration.learner,
                by_staff=by_staff,
            )
        ]
    )
    return registration


def _refund(order: Order, *, actor: Actor, at: datetime) -> None:
    if order.status == Order.Status.REFUNDED:
        raise AlreadyReversedError()
    reversal = None
    if order.transfer_id is not None:
        # Re-read under the wallet lock: partial refunds may have returned part of it already.
        refunded = Order.objects.values_list("refunded_amount", flat=True).get(pk=order.pk)
        left = order.charged - refunded
        if refunded == 0:
            reversal = ledger.reverse_transfer.joining(
                transfer_id=order.transfer_id, actor=actor, reason=f"refund of order {order.number}"
            )
        elif left > 0:
            reversal = ledger.reverse_part.joining(
                transfer_id=order.transfer_id,
                amount=left,
                actor=actor,
                reason=f"refund of the rest of order {order.number}",
                wallet_locked=True,
            )
        if left > 0 and order.code_id is not None and order.code.kind == RedemptionCode.Kind.MEMBER:
            codes.add_member_spend(code_id=order.code_id, amount=-left)
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.REFUNDED,
        cancelled_at=at,
        refund_transfer=reversal,
        refunded_amount=F("charged"),
    )


@use_case
def mark_order_paid(*, order_id: int, actor: Actor, reference: str = "") -> Order:
    """Record that an invoice order was paid: its registration becomes active (or its refill
    lot is issued) and it gets a receipt. Marking a paid order again changes nothing.

    Raises:
        NotFoundError: no such order.
        ValidationError: the order was cancelled.
    """
    order = (
        Order.objects.select_for_update(of=("self",))
        .filter(pk=order_id)
        .select_related("unit")
        .first()
    )
    if order is None:
        raise NotFoundError("No such order.")
    if order.status == Order.Status.PAID:
        return order
    if order.status != Order.Status.PENDING_PAYMENT:
        raise ValidationError("This order was cancelled.")
    at = clock.now()
    if order.item_kind == ItemKind.REFILL:
        deliver_refill(order, actor=actor)
    else:
        Registration.objects.filter(
            Q(order=order) | Q(part_of__order=order), status=Registration.Status.PENDING
        ).update(status=Registration.Status.ACTIVE)
    order.status, order.paid_at = Order.Status.PAID, at
    order.payment_reference = (reference or order.payment_reference)[:200]
    order.save(update_fields=["status", "paid_at", "payment_reference", "refill_lot"])
    registration = Registration.objects.filter(order=order).first()
    if registration is not None and registration.status == Registration.Status.ACTIVE:
        events.record_many(
            [
                personal.registration_confirmed(
                    order=order,
                    registration=registration,
                    learner=order.learner,
                    session=order.session,
                    account_name="",
                )
            ]
        )
    record_change(actor=actor, verb="marked paid", obj=order)
    issue_document(Receipt, order, at)  # numbered last, like at checkout
    return order
