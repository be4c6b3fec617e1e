"""Reads of orders: usage of an account by team member."""

from datetime import datetime

from django.db.models import Count, Max, Q, QuerySet, Sum

from tuition.checkout.models import Order

_REDEMPTION_METHODS = [Order.Method.TRAINING_CREDIT, Order.Method.TOKENS]


def usage_by_member(
    *,
    account_id: int,
    unit_code: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Order]:
    """What each person spent from the account's credits, per unit: rows of `learner_id`,
    `learner__email`, `learner__name`, `unit__code`, `unit__decimals`, `redemptions`
    (paid code redemptions), `spent` (minor units), `refunded` (redemptions given back, which
    do not count as spent), `last_at`. Largest spenders first."""
    orders = Order.objects.filter(
        account_id=account_id, method__in=_REDEMPTION_METHODS, transfer__isnull=False
    )
    if unit_code is not None:
        orders = orders.filter(unit__code__iexact=unit_code[:16])
    if since is not None:
        orders = orders.filter(created_at__gte=since)
    if until is not None:
        orders = orders.filter(created_at__lt=until)
    paid = Q(status=Order.Status.PAID)
    return (
        orders.values(
            "learner_id", "learner__email", "learner__name", "unit__code", "unit__decimals"
        )
        .annotate(
            redemptions=Count("id", filter=paid),
            spent=Sum("charged", filter=paid, default=0),
            refunded=Count("id", filter=Q(status=Order.Status.REFUNDED)),
            last_at=Max("created_at"),
        )
        .order_by("unit__code", "-spent", "learner__email", "learner_id")
    )
