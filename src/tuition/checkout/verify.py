"""Checkout invariants for `tuition verify`: seats, bookings and redemptions agree with the
ledger."""

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from tuition.catalog.models import Session
from tuition.ledger.models import Hold, Transfer

from .models import Booking, Order, Registration

SAMPLE = 20
_CREDIT_METHODS = [Order.Method.TRAINING_CREDIT, Order.Method.TOKENS]


def one_booking_per_paid_dated_redemption() -> list[str]:
    """Every order placed for a session produced a booking, and no registration holds two
    active bookings of one activity."""
    missing = (
        Registration.objects.filter(order__session__isnull=False)
        .annotate(n=Count("bookings"))
        .filter(n=0)
        .values_list("order__number", flat=True)[:SAMPLE]
    )
    doubled = (
        Booking.objects.filter(status=Booking.Status.ACTIVE)
        .values("registration_id", "activity_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("registration_id", "activity_id")[:SAMPLE]
    )
    return [f"order {number}: paid for a session but has no booking" for number in missing] + [
        f"registration {r}: more than one active booking of activity {a}" for r, a in doubled
    ]


def credit_orders_match_redeem_transfers() -> list[str]:
    """Every credit- or token-paid order with a charge has one redeem transfer of that amount,
    and every redeem transfer belongs to one order."""
    bad_orders = (
        Order.objects.filter(method__in=_CREDIT_METHODS, charged__gt=0)
        .exclude(Q(hold__isnull=False) & ~Q(hold__status=Hold.Status.CAPTURED))
        .filter(
            Q(transfer__isnull=True)
            | ~Q(transfer__kind=Transfer.Kind.REDEEM)
            | ~Q(transfer__amount=F("charged"))
        )
        .values_list("number", flat=True)[:SAMPLE]
    )
    orphans = Transfer.objects.filter(kind=Transfer.Kind.REDEEM, order__isnull=True).values_list(
        "pk", flat=True
    )[:SAMPLE]
    return [f"order {n}: no matching redeem transfer" for n in bad_orders] + [
        f"redeem transfer {pk} has no order" for pk in orphans
    ]


def sessions_within_capacity() -> list[str]:
    """Active bookings per session, with the seats held for orders awaiting approval, never
    exceed its capacity and match its seat counter."""
    held = (
        Order.objects.filter(session=OuterRef("pk"), status=Order.Status.AWAITING_APPROVAL)
        .values("session")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = Session.objects.annotate(
        booked_now=Count("bookings", filter=Q(bookings__status=Booking.Status.ACTIVE)),
        active=F("booked_now") + Coalesce(Subquery(held), 0),
    ).filter(Q(active__gt=F("capacity")) | ~Q(active=F("booked")))
    return [
        f"session {s.pk}: {s.active} active bookings, booked {s.booked}, capacity {s.capacity}"
        for s in rows[:SAMPLE]
    ]


def orders_match_their_holds() -> list[str]:
    """An order waits for approval exactly while its hold is pending; an approved one was paid
    by the hold's redemption; a declined or expired one was cancelled."""
    bad = (
        Order.objects.filter(hold__isnull=False)
        .filter(
            (Q(status=Order.Status.AWAITING_APPROVAL) & ~Q(hold__status=Hold.Status.PENDING))
            | (Q(hold__status=Hold.Status.PENDING) & ~Q(status=Order.Status.AWAITING_APPROVAL))
            | (
                Q(hold__status=Hold.Status.CAPTURED)
                & ~Q(transfer_id=F("hold__capture_transfer_id"))
            )
            | (
                Q(hold__status__in=[Hold.Status.RELEASED, Hold.Status.EXPIRED])
                & ~Q(status=Order.Status.CANCELLED)
            )
        )
        .values_list("number", flat=True)[:SAMPLE]
    )
    return [f"order {n} does not match its hold" for n in bad]


CHECKS = [
    one_booking_per_paid_dated_redemption,
    credit_orders_match_redeem_transfers,
    sessions_within_capacity,
    orders_match_their_holds,
]
