"""Forecasts for an account's owners (SPEC §7): when the available balance runs out at the
recent rate, and what will expire unused, when. Reads only.

The rate is the account's net redemptions in the unit over the last 90 days (redemptions less
what was refunded of them in that time), spread evenly: day k of the projection uses
floor(usage * k / 90) - floor(usage * (k - 1) / 90), so the figures are integers and exact.
Each day's use is taken from the available lots the way checkout spends them, soonest expiry
first (no expiry last); what a lot still holds when it expires is counted as expiring unused on
its expiry date. Scope and per-member caps are not modelled: the forecast assumes the usage
continues on whatever the lots may pay for. Inactive and expired lots hold no available value.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from django.conf import settings
from django.db.models import Q, Sum

from tuition.core import clock
from tuition.core.times import zone_named
from tuition.ledger.models import Lot, Transfer, Unit
from tuition.ledger.selectors import allocation_order

WINDOW_DAYS = 90
HORIZON_DAYS = 3 * 366  # how far ahead the projection looks


@dataclass(frozen=True)
class Expiring:
    """Value that will still be in lots when they expire on `on` (summed over those lots)."""

    on: date
    amount: int


@dataclass(frozen=True)
class Projection:
    runs_out_on: date | None  # None: not within the horizon (or no usage)
    expiring: list[Expiring]
    # (day, balance at the end of that day): the start, each expiry and run-out, and weekly.
    points: list[tuple[date, int]]


@dataclass(frozen=True)
class Forecast:
    unit: Unit
    available: int
    usage: int  # net use over the last WINDOW_DAYS days
    runs_out_on: date | None
    expiring: list[Expiring] = field(default_factory=list)
    points: list[tuple[date, int]] = field(default_factory=list)
    window_days: int = WINDOW_DAYS
    horizon_days: int = HORIZON_DAYS

    @property
    def has_usage(self) -> bool:
        return self.usage > 0

    @property
    def expiring_total(self) -> int:
        return sum(e.amount for e in self.expiring)


@dataclass
class _Held:
    left: int
    expires_at: datetime | None


def project(
    *,
    lots: Sequence[tuple[int, datetime | None]],
    usage: int,
    start: datetime,
    window_days: int = WINDOW_DAYS,
    horizon_days: int = HORIZON_DAYS,
    tz: tzinfo = UTC,
) -> Projection:
    """Project (remaining, expires_at) lots, given in spending order, forward day by day at
    `usage` per `window_days`; dates are days in `tz`. Pure: no database."""
    held = [_Held(remaining, expires_at) for remaining, expires_at in lots if remaining > 0]
    balance = sum(lot.left for lot in held)
    today = start.astimezone(tz).date()
    points = [(today, balance)]
    expiring: dict[date, int] = {}
    runs_out_on = None
    for k in range(1, horizon_days + 1):
        if balance == 0:
            break
        moment = start + timedelta(days=k)
        need = usage * k // window_days - usage * (k - 1) // window_days
        for lot in held:  # soonest expiry first: the order checkout spends them in
            if need == 0:
                break
            take = min(lot.left, need)
            lot.left -= take
            need -= take
            balance -= take
        expired_today, before = False, balance
        for lot in held:
            if lot.left and lot.expires_at is not None and lot.expires_at <= moment:
                on = lot.expires_at.astimezone(tz).date()
                expiring[on] = expiring.get(on, 0) + lot.left
                balance -= lot.left
                lot.left = 0
                expired_today = True
        day = moment.astimezone(tz).date()
        if balance == 0 and usage > 0:
            runs_out_on = day
        if expired_today:  # a vertical drop: the balance just before and just after
            points.append((day, before))
        # Weekly points draw the gradual use; an expiry's drop and the end get their own.
        if k % 7 == 0 or expired_today or balance == 0:
            points.append((day, balance))
    if usage == 0:
        runs_out_on = None
    return Projection(
        runs_out_on=runs_out_on,
        expiring=[Expiring(on, amount) for on, amount in sorted(expiring.items())],
        points=points,
    )


def recent_usage(*, account_id: int, unit_id: int, at: datetime, days: int = WINDOW_DAYS) -> int:
    """Net value redeemed in the `days` before `at`: redemptions less refunds of them."""
    since = at - timedelta(days=days)
    window = Transfer.objects.filter(
        account_id=account_id, unit_id=unit_id, created_at__gte=since, created_at__lt=at
    )
    redeemed = window.filter(kind=Transfer.Kind.REDEEM).aggregate(t=Sum("amount"))["t"] or 0
    refunded = (
        window.filter(kind=Transfer.Kind.REVERSE, reverses__kind=Transfer.Kind.REDEEM).aggregate(
            t=Sum("amount")
        )["t"]
        or 0
    )
    return max(redeemed - refunded, 0)


def forecast(*, account_id: int, unit: Unit, at: datetime | None = None) -> Forecast:
    """The forecast of one account's balance in one unit."""
    at = at or clock.now()
    lots = list(
        Lot.objects.filter(
            account_id=account_id,
            unit=unit,
            status=Lot.Status.ACTIVE,
            deleted_at__isnull=True,
            remaining__gt=0,
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
        .order_by(*allocation_order())
        .values_list("remaining", "expires_at")
    )
    usage = recent_usage(account_id=account_id, unit_id=unit.pk, at=at)
    projection = project(lots=lots, usage=usage, start=at, tz=zone_named(settings.TIME_ZONE))
    return Forecast(
        unit=unit,
        available=sum(remaining for remaining, _ in lots),
        usage=usage,
        runs_out_on=projection.runs_out_on,
        expiring=projection.expiring,
        points=projection.points,
    )


def account_forecasts(*, account_id: int, at: datetime | None = None) -> list[Forecast]:
    """A forecast per unit the account holds value in or used lately (USD first)."""
    at = at or clock.now()
    since = at - timedelta(days=WINDOW_DAYS)
    unit_ids = set(
        Lot.objects.filter(account_id=account_id, remaining__gt=0, deleted_at__isnull=True)
        .values_list("unit_id", flat=True)
        .distinct()
    ) | set(
        Transfer.objects.filter(
            account_id=account_id, kind=Transfer.Kind.REDEEM, created_at__gte=since
        )
        .values_list("unit_id", flat=True)
        .distinct()
    )
    units = Unit.objects.filter(pk__in=unit_ids).order_by("-is_builtin", "code")
    return [forecast(account_id=account_id, unit=unit, at=at) for unit in units]
