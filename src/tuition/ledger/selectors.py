"""Reads of the ledger. Balances come from the lots' running `remaining`, never from
summing the history."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum

from tuition.core import clock
from tuition.core.reused_queries import ReusedQuery

from .models import Hold, Lot, LotScopeItem, Unit, expired


@dataclass(frozen=True)
class ItemRef:
    """A catalog item as the ledger sees it: its kind ("activity" or "group") and id."""

    kind: str
    item_id: int


@dataclass
class UnitBalance:
    unit: Unit
    available: int = 0  # usable now: active, not deleted, not expired
    inactive: int = 0  # held by deactivated credits
    lots: list[Lot] = field(default_factory=list)
    held: int = 0  # reserved by holds awaiting approval: the account's, spendable by no one

    @property
    def available_display(self) -> str:
        return self.unit.format(self.available)

    @property
    def held_display(self) -> str:
        return self.unit.format(self.held)


def allocation_order() -> list:
    """Soonest expiry first, no expiry last, then oldest first (SPEC rule 13)."""
    return [F("expires_at").asc(nulls_last=True), "created_at", "id"]


def usable_lots(
    *,
    account_id: int,
    unit_id: int,
    at: datetime | None,
    item: ItemRef | None = None,
    lot_ids: Sequence[int] | None = None,
) -> QuerySet[Lot]:
    """Lots that can pay at `at`, in the order they are spent (`at=None`: expired or not)."""
    lots = Lot.objects.filter(
        account_id=account_id,
        unit_id=unit_id,
        status=Lot.Status.ACTIVE,
        deleted_at__isnull=True,
        remaining__gt=0,
    )
    if at is not None:
        lots = lots.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
    if lot_ids is not None:
        lots = lots.filter(pk__in=lot_ids)
    if item is not None:
        lots = lots.filter(in_scope_of(item))
    return lots.order_by(*allocation_order())


def send_usable_amounts(
    then: Callable[[list[tuple[int, int, datetime | None]]], None],
    *,
    account_id: int,
    unit_id: int,
    item: ItemRef | None = None,
) -> None:
    """Send the read every debit makes under the wallet's lock, compiled once: (id, remaining,
    expires_at) of each lot that can pay, in the order they are spent, except that it leaves
    expiry to the caller (`unexpired`). It is sent before the caller knows the moment it gets
    the lock, which is the moment that decides."""
    _USABLE_AMOUNTS.send(
        then,
        account_id=account_id,
        unit_id=unit_id,
        item_kind=item.kind if item else None,
        item_id=item.item_id if item else None,
    )


def unexpired(
    lots: Iterable[tuple[int, int, datetime | None]], at: datetime
) -> list[tuple[int, int]]:
    """(id, remaining) of the lots not expired at `at`, in their order."""
    return [(pk, left) for pk, left, expires_at in lots if not expired(expires_at, at)]


_USABLE_AMOUNTS = ReusedQuery(
    lambda *, account_id, unit_id, item_kind, item_id: usable_lots(
        account_id=account_id,
        unit_id=unit_id,
        at=None,
        item=ItemRef(item_kind, item_id) if item_kind is not None else None,
    ).values_list("id", "remaining", "expires_at"),
    values=("account_id", "unit_id", "item_id"),
)


def in_scope_of(item: ItemRef) -> Q:
    listed = LotScopeItem.objects.filter(lot=OuterRef("pk"), item_id=item.item_id)
    return Q(scope_kind=item.kind) & (Q(scope_all=True) | Exists(listed))


def visible_lots() -> QuerySet[Lot]:
    """Lots that have not been deleted (deleted ones leave every list)."""
    return Lot.objects.filter(deleted_at__isnull=True)


def get_balances(*, account_id: int, at: datetime | None = None) -> list[UnitBalance]:
    """Per unit: what the account can spend now, and the lots that hold it."""
    at = at or clock.now()
    balances: dict[int, UnitBalance] = {}
    lots = (
        visible_lots()
        .filter(account_id=account_id)
        .select_related("unit")
        .order_by("unit_id", *allocation_order())
    )
    for lot in lots:
        balance = balances.setdefault(lot.unit_id, UnitBalance(unit=lot.unit))
        balance.lots.append(lot)
        if lot.is_expired_at(at):
            continue
        if lot.status == Lot.Status.ACTIVE:
            balance.available += lot.remaining
        else:
            balance.inactive += lot.remaining
    for unit_id, held in held_by_unit(account_id=account_id).items():
        if unit_id in balances:
            balances[unit_id].held = held
    return list(balances.values())


def held_by_unit(*, account_id: int) -> dict[int, int]:
    """Per unit id: the value this account's pending holds reserve."""
    return dict(
        Hold.objects.filter(account_id=account_id, status=Hold.Status.PENDING)
        .values("unit_id")
        .annotate(total=Sum("amount"))
        .values_list("unit_id", "total")
    )


def pending_holds(*, account_id: int | None = None) -> QuerySet[Hold]:
    holds = Hold.objects.filter(status=Hold.Status.PENDING)
    if account_id is not None:
        holds = holds.filter(account_id=account_id)
    return holds.select_related("unit").order_by("expires_at", "id")


def available_balance(*, account_id: int, unit_id: int, at: datetime | None = None) -> int:
    at = at or clock.now()
    total = usable_lots(account_id=account_id, unit_id=unit_id, at=at).aggregate(
        total=Sum("remaining")
    )["total"]
    return total or 0
