"""Checkout invariants for `tuition verify`: seats, bookings and redemptions agree with the
ledger."""

from django.db.models import Count, F, Q

from tuition.catalog.models import Session
from tuition.ledger.models import Transfer

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
    """Active bookings per session never exceed its capacity and match its seat counter."""
    rows = Session.objects.annotate(
        active=Count("bookings", filter=Q(bookings__status=Booking.Status.ACTIVE))
    ).filter(Q(active__gt=F("capacity")) | ~Q(active=F("booked")))
    return [
        f"session {s.pk}: {s.active} active bookings, booked {s.booked}, capacity {s.capacity}"
        for s in rows[:SAMPLE]
    ]


CHECKS = [
    one_booking_per_paid_dated_redemption,
    credit_orders_match_redeem_transfers,
    sessions_within_capacity,
]
