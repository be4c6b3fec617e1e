"""The only code that writes to the ledger.

Every function here moves value in one short transaction: lock the wallet row, re-read what
the decision needs, decide, then write with guarded updates (`remaining >= x`) and append the
transfer with its entries. Amounts are integers in the unit's minor unit.
"""

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection
from django.db.models import Count, F
from django.utils.translation import gettext

from tuition.core import clock, round_trips
from tuition.core.actors import Actor
from tuition.core.amounts import MAX_MINOR, amount_error
from tuition.core.audit import record_change
from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.metrics import count_redeemed_on_commit
from tuition.core.reused_queries import insert, insert_many
from tuition.core.round_trips import one_round_trip
from tuition.core.transactions import use_case

from .errors import AlreadyReversedError, InsufficientBalanceError
from .locks import lock_wallet, lock_wallets
from .models import Entry, Lot, LotScopeItem, SystemAccount, Transfer, Unit
from .selectors import ItemRef, send_usable_amounts, unexpired, usable_lots

# `expires_at=BY_POLICY` asks for the unit's expiry policy (one year after issue by default).
BY_POLICY: Any = object()


@dataclass(frozen=True)
class Allocation:
    lot_id: int
    amount: int


@use_case
def issue_credit(
    *,
    account_id: int,
    unit: Unit,
    redeemable_value: int,
    actor: Actor,
    purchase_price: int | None = None,
    expires_at: datetime | None = BY_POLICY,
    status: str = Lot.Status.ACTIVE,
    notes: str = "",
    scope_kind: str = Lot.ScopeKind.ACTIVITY,
    scope_all: bool = True,
    scope_items: Iterable[int] = (),
    external_id: str = "",
    source: str = Lot.Source.ADMIN,
) -> Lot:
    """Issue value into an account as a new lot.

    Raises:
        ValidationError: a value out of range, an unknown status, scope kind or source, or an
            expiry that is not in the future.
    """
    at = clock.now()
    if not 0 < redeemable_value <= MAX_MINOR:
        raise amount_error("redeemable_value", "not_positive")
    if purchase_price is not None and not 0 <= purchase_price <= MAX_MINOR:
        raise amount_error("purchase_price", "negative")
    _check_choice(status, Lot.Status, "status")
    _check_choice(scope_kind, Lot.ScopeKind, "scope.kind")
    _check_choice(source, Lot.Source, "source")
    if expires_at is BY_POLICY:
        expires_at = expiry_by_policy(unit, at)
    if expires_at is not None and expires_at <= at:
        raise ValidationError(
            gettext("The expiry date must be in the future."), details={"field": "expires_at"}
        )
    items = sorted(set(scope_items))
    if not scope_all and not items:
        raise ValidationError(
            "A scope that is not 'all' needs at least one item.", details={"field": "scope.items"}
        )

    lock_wallet(account_id, unit.pk)
    lot = Lot(
        account_id=account_id,
        unit=unit,
        redeemable_value=redeemable_value,
        remaining=redeemable_value,
        purchase_price=purchase_price,
        external_id=external_id or "",
        expires_at=expires_at,
        status=status,
        notes=notes or "",
        scope_kind=scope_kind,
        scope_all=scope_all,
        scope_item_list=[] if scope_all else items,
        source=source,
        created_at=at,
        created_by=actor,
    )
    lot._change_reason = f"issued by {actor}"  # type: ignore[attr-defined]
    lot.save()
    if not scope_all:
        LotScopeItem.objects.bulk_create([LotScopeItem(lot=lot, item_id=i) for i in items])
    _append_transfer(
        kind=Transfer.Kind.ISSUE,
        account_id=account_id,
        unit_id=unit.pk,
        at=at,
        actor=actor,
        legs=[(lot.pk, redeemable_value)],
        system_account=SystemAccount.ISSUANCE,
    )
    return lot


@use_case
def debit(
    *,
    account_id: int,
    unit: Unit,
    amount: int,
    actor: Actor,
    item: ItemRef | None = None,
    lot_ids: Sequence[int] | None = None,
    spend_cap_left: int | None = None,
    reason: str = "",
    metadata: dict | None = None,
    wallet_locked: bool = False,
    usable: Sequence[tuple[int, int]] | None = None,
    transfer_key: int | None = None,
) -> Transfer:
    """Spend `amount` from the account's usable lots in `unit`, soonest-expiring first.

    Usable means active, not deleted, not expired at this instant and, given an item, scoped to
    it; `lot_ids` narrows the lots further (a code that points at one lot). One payment may span
    several lots; there are no partial payments. `wallet_locked`: the caller's transaction
    already holds this wallet's lock (a checkout takes it first), so it is not taken again;
    `usable`: it has also read the usable lots under that lock, as (id, remaining) in the order
    they are spent, so they are not read again. Either way each lot's update is guarded.
    `transfer_key`: the transfer's primary key, drawn with that lock (`lock_wallet(keys_for=)`).
    With a key, the updates and inserts go to the database in one round trip.

    Raises:
        InsufficientBalanceError: the usable lots do not cover the amount (nothing is written).
        ValidationError: a non-positive amount.
    """
    if not 0 < amount <= MAX_MINOR:
        raise amount_error("amount", "not_positive")
    lots = round_trips.Rows()  # usable lots, expired or not (at is not known yet)
    reads_lots = usable is None and lot_ids is None

    def read_lots() -> None:
        send_usable_amounts(lots.keep, account_id=account_id, unit_id=unit.pk, item=item)

    if wallet_locked:
        assert connection.in_atomic_block, "wallet_locked: only inside the locking transaction"
        if reads_lots:
            read_lots()
    else:
        assert usable is None, "usable: only as read under the wallet's lock"
        # The lots are read in the lock's own round trip, once the lock is held.
        (transfer_key,) = lock_wallet(
            account_id, unit.pk, keys_for=[Transfer], reads=read_lots if reads_lots else None
        )
    at = clock.now()  # read after the lock: a waiter decides on the time it gets the lock
    if spend_cap_left is not None and amount > spend_cap_left:
        raise InsufficientBalanceError()
    if reads_lots:
        usable = unexpired(lots.rows, at)
    elif usable is None:
        narrowed = usable_lots(
            account_id=account_id, unit_id=unit.pk, at=at, item=item, lot_ids=lot_ids
        )
        usable = narrowed.values_list("id", "remaining")
    allocations = allocate(amount, usable)
    # With its key drawn, the transfer needs nothing back from the database: the lots'
    # updates, the transfer and its entries are sent together.
    with one_round_trip() if transfer_key is not None else contextlib.nullcontext():
        for allocation in allocations:
            _take_from_lot(allocation.lot_id, allocation.amount)
        transfer = _append_transfer(
            kind=Transfer.Kind.REDEEM,
            account_id=account_id,
            unit_id=unit.pk,
            at=at,
            actor=actor,
            legs=[(a.lot_id, -a.amount) for a in allocations],
            system_account=SystemAccount.REDEMPTIONS,
            reason=reason,
            metadata=metadata,
            key=transfer_key,
        )
    count_redeemed_on_commit(unit_code=unit.code, decimals=unit.decimals, amount=amount)
    return transfer


def allocate(amount: int, lots: Iterable[tuple[int, int]]) -> list[Allocation]:
    """Split `amount` over (lot_id, remaining) pairs in the order given.

    Raises:
        InsufficientBalanceError: the lots do not cover the amount.
    """
    allocations: list[Allocation] = []
    left = amount
    for lot_id, remaining in lots:
        if left == 0:
            break
        take = min(remaining, left)
        if take > 0:
            allocations.append(Allocation(lot_id, take))
            left -= take
    if left > 0:
        raise InsufficientBalanceError()
    return allocations


@use_case
def reverse_transfer(*, transfer_id: int, actor: Actor, reason: str = "") -> Transfer:
    """Undo a transfer by booking its opposite into the same lots, which keep their expiry.

    Value returned to a lot that has expired by now is expired again at once, and value returned
    to a deleted lot is voided again, each by its own transfer.

    Raises:
        NotFoundError: no such transfer.
        AlreadyReversedError: it was reversed before.
        ValidationError: it is itself a reversal, or an issue (void the lot instead).
    """
    original = Transfer.objects.filter(pk=transfer_id).first()
    if original is None:
        raise NotFoundError("No such transaction.")
    if original.kind in (Transfer.Kind.REVERSE, Transfer.Kind.ISSUE):
        raise ValidationError(
            gettext("“%(kind)s” transactions cannot be reversed.")
            % {"kind": original.get_kind_display()}
        )
    lock_wallet(original.account_id, original.unit_id)
    at = clock.now()
    if Transfer.objects.filter(reverses=original).exists():
        raise AlreadyReversedError()

    entries = list(original.entries.all())
    lot_legs = [(e.lot_id, -e.amount) for e in entries if e.lot_id is not None]
    system_legs = [(e.system_account, -e.amount) for e in entries if e.lot_id is None]
    for lot_id, amount in lot_legs:
        _move_lot(lot_id, amount)
    try:
        reversal = _append_transfer(
            kind=Transfer.Kind.REVERSE,
            account_id=original.account_id,
            unit_id=original.unit_id,
            at=at,
            actor=actor,
            legs=lot_legs,
            system_legs=system_legs,
            reason=reason,
            reverses=original,
            unique_key=f"reverse:{original.pk}",
        )
    except IntegrityError as exc:
        raise AlreadyReversedError() from exc

    _settle_returned_value(lot_legs, reversal=reversal, at=at, actor=actor)
    return reversal


@use_case
def reverse_part(
    *, transfer_id: int, amount: int, actor: str, reason: str = "", wallet_locked: bool = False
) -> Transfer:
    """Return part of a redemption to the lots it was taken from, which keep their expiry.

    May be repeated until the whole redemption is returned, never beyond: the parts returned
    before are re-read under the wallet lock. The value goes back in the reverse order of the
    redemption's allocation (the lot spent last gets its value back first: the latest-expiring
    one), each lot at most what it gave. Value returned to an expired lot is expired again at
    once, to a deleted one voided again, as with a full reversal. `wallet_locked`: the caller's
    transaction already holds this wallet's lock.

    Raises:
        NotFoundError: no such transfer.
        ValidationError: it is not a redemption, or the amount is not positive or more than is
            left to return (details: `returnable`, in minor units).
        AlreadyReversedError: it was reversed in full.
    """
    if not 0 < amount <= MAX_MINOR:
        raise amount_error("amount", "not_positive")
    original = Transfer.objects.filter(pk=transfer_id).first()
    if original is None:
        raise NotFoundError("No such transaction.")
    if original.kind != Transfer.Kind.REDEEM:
        raise ValidationError(f"Only a redemption can be returned in part, not a {original.kind}.")
    if wallet_locked:
        assert connection.in_atomic_block, "wallet_locked: only inside the locking transaction"
    else:
        lock_wallet(original.account_id, original.unit_id)
    at = clock.now()
    earlier = list(Transfer.objects.filter(reverses=original).values_list("pk", "unique_key"))
    if any(key == f"reverse:{original.pk}" for _, key in earlier):
        raise AlreadyReversedError()
    returned: dict[int, int] = {}
    for lot_id, back in Entry.objects.filter(
        transfer_id__in=[pk for pk, _ in earlier], lot__isnull=False
    ).values_list("lot_id", "amount"):
        returned[lot_id] = returned.get(lot_id, 0) + back
    spent: list[tuple[int, int]] = [
        (lot_id, -taken)
        for lot_id, taken in original.entries.filter(lot__isnull=False, amount__lt=0)
        .order_by("id")
        .values_list("lot_id", "amount")
    ]
    returnable = sum(taken - returned.get(lot_id, 0) for lot_id, taken in spent)
    if amount > returnable:
        raise ValidationError(
            gettext("Only %(left)s of this payment is left to refund.")
            % {"left": Unit.objects.get(pk=original.unit_id).format(returnable)},
            details={"field": "amount", "returnable": returnable},
        )
    lot_legs: list[tuple[int, int]] = []
    left = amount
    for lot_id, taken in reversed(spent):  # the lot spent last first
        give = min(taken - returned.get(lot_id, 0), left)
        if give > 0:
            lot_legs.append((lot_id, give))
            left -= give
        if left == 0:
            break
    for lot_id, give in lot_legs:
        _move_lot(lot_id, give)
    reversal = _append_transfer(
        kind=Transfer.Kind.REVERSE,
        account_id=original.account_id,
        unit_id=original.unit_id,
        at=at,
        actor=actor,
        legs=lot_legs,
        system_account=SystemAccount.REDEMPTIONS,
        reason=reason,
        reverses=original,
        unique_key=f"reverse:{original.pk}:part:{len(earlier) + 1}",
        metadata={"part": True},
    )
    _settle_returned_value(lot_legs, reversal=reversal, at=at, actor=actor)
    return reversal


def _settle_returned_value(
    lot_legs: Sequence[tuple[int, int]], *, reversal: Transfer, at: datetime, actor: str
) -> None:
    """Expire again what a reversal returned to an expired lot, void what it returned to a
    deleted one (inside the reversal's transaction)."""
    returned = [(lot_id, amount) for lot_id, amount in lot_legs if amount > 0]
    lots = Lot.objects.in_bulk([lot_id for lot_id, _ in returned])
    for lot_id, amount in returned:
        lot = lots[lot_id]
        if lot.is_deleted:
            _book_lot_removal(
                lot,
                amount,
                Transfer.Kind.VOID,
                SystemAccount.VOIDS,
                at,
                actor,
                f"void:{lot.pk}:after:{reversal.pk}",
            )
        elif lot.is_expired_at(at):
            _book_lot_removal(
                lot,
                amount,
                Transfer.Kind.EXPIRE,
                SystemAccount.BREAKAGE,
                at,
                actor,
                f"expire:{lot.pk}:after:{reversal.pk}",
            )


@use_case(answers=True)
def adjust_lot(*, lot_id: int, delta: int, reason: str, actor: Actor) -> Transfer:
    """Add value to a lot or take it away, with a reason; never below zero.

    Raises:
        NotFoundError: no such lot, or it was deleted.
        ValidationError: no reason, a zero delta, a result below zero, or an expired lot.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("An adjustment needs a reason.", details={"field": "reason"})
    if delta == 0 or abs(delta) > MAX_MINOR:
        raise ValidationError("The adjustment must not be zero.", details={"field": "amount"})
    lot = _lot_for_update(lot_id)
    at = clock.now()
    if lot.is_expired_at(at):
        raise ValidationError("This credit has expired; extend its expiry before adjusting it.")
    if delta < 0 and lot.remaining < -delta:
        raise ValidationError(
            "The adjustment would take the credit below zero.", details={"field": "amount"}
        )
    _move_lot(lot.pk, delta)
    # The amount, not the reason: the audit trail holds no free text a person wrote.
    shown = lot.unit.format(delta)
    record_change(
        actor=actor,
        verb="adjusted",
        obj=lot,
        summary=f"{'+' if delta > 0 else ''}{shown} {lot.unit.code}",
    )
    return _append_transfer(
        kind=Transfer.Kind.ADJUST,
        account_id=lot.account_id,
        unit_id=lot.unit_id,
        at=at,
        actor=actor,
        legs=[(lot.pk, delta)],
        system_account=SystemAccount.ADJUSTMENTS,
        reason=reason,
    )


@use_case
def void_lot(*, lot_id: int, actor: Actor, reason: str = "") -> Transfer | None:
    """Delete a credit: it leaves every list, its code stops working, its remaining value is
    voided. Its past transfers stay. Deleting a deleted credit changes nothing.

    Raises:
        NotFoundError: no such lot.
    """
    lot = _lot_for_update(lot_id, include_deleted=True)
    if lot.is_deleted:
        return None
    at = clock.now()
    lot.deleted_at = at
    lot.status = Lot.Status.INACTIVE
    lot._change_reason = f"deleted by {actor}" + (f": {reason}" if reason else "")  # type: ignore[attr-defined]
    lot.save(update_fields=["deleted_at", "status"])
    if lot.remaining == 0:
        return None
    return _book_lot_removal(
        lot,
        lot.remaining,
        Transfer.Kind.VOID,
        SystemAccount.VOIDS,
        at,
        actor,
        f"void:{lot.pk}",
        reason=reason,
    )


@use_case
def set_lot_status(*, lot_id: int, status: str, actor: Actor) -> Lot:
    """Activate or deactivate a credit. An inactive credit cannot pay until reactivated.

    Raises:
        NotFoundError: no such lot, or it was deleted.
        ValidationError: an unknown status.
    """
    _check_choice(status, Lot.Status, "status")
    lot = _lot_for_update(lot_id)
    if lot.status != status:
        lot.status = status
        lot._change_reason = f"{status} by {actor}"  # type: ignore[attr-defined]
        lot.save(update_fields=["status"])
    return lot


@use_case
def change_expiry(*, lot_id: int, expires_at: datetime | None, actor: Actor) -> Lot:
    """Move a credit's expiry either way (or remove it).

    Moving it into the past makes the credit unusable at once (the sweep books the expiry).
    Moving an already swept credit into the future brings its expired value back, by reversing
    those expiry transfers.

    Raises:
        NotFoundError: no such lot, or it was deleted.
    """
    lot = _lot_for_update(lot_id)
    at = clock.now()
    if lot.expires_at != expires_at:
        lot.expires_at = expires_at
        lot._change_reason = f"expiry changed by {actor}"  # type: ignore[attr-defined]
        lot.save(update_fields=["expires_at"])
    if not lot.is_expired_at(at):
        swept = Transfer.objects.filter(
            kind=Transfer.Kind.EXPIRE, entries__lot_id=lot.pk, reversals__isnull=True
        ).order_by("pk")
        for expiry in swept:
            reverse_transfer.joining(transfer_id=expiry.pk, actor=actor, reason="expiry extended")
    return lot


# Called inside each expiry batch's transaction with the lots just expired (their `remaining`
# still as it was before the sweep) and their transfers, so a caller can record what happened
# atomically with it (e.g. notifications) without the ledger importing that caller.
EXPIRY_JOB = Actor.for_job("expire_credits")

ExpiryCallback = Callable[[list[Lot], list[Transfer]], None]


def expire_lots(
    *,
    at: datetime | None = None,
    batch_size: int = 500,
    actor: Actor = EXPIRY_JOB,
    on_expired: ExpiryCallback | None = None,
) -> list[Transfer]:
    """Book an `expire` transfer for every expired lot that still holds value (once per lot).

    Works in batches, one short transaction each, so a large sweep never holds locks long and
    a crash loses at most the batch in flight (which the next run picks up). `on_expired`, when
    given, runs inside each batch's transaction.
    """
    at = at or clock.now()
    booked: list[Transfer] = []
    after_id = 0
    while True:
        batch = list(
            Lot.objects.filter(
                pk__gt=after_id, expires_at__lte=at, remaining__gt=0, deleted_at__isnull=True
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return booked
        booked.extend(_expire_batch(lot_ids=batch, at=at, actor=actor, on_expired=on_expired))
        after_id = batch[-1]


@use_case
def _expire_batch(
    *, lot_ids: list[int], at: datetime, actor: Actor, on_expired: ExpiryCallback | None = None
) -> list[Transfer]:
    pairs = Lot.objects.filter(pk__in=lot_ids).values_list("account_id", "unit_id").distinct()
    lock_wallets(pairs)
    lots = list(
        Lot.objects.filter(pk__in=lot_ids, remaining__gt=0, expires_at__lte=at).order_by("pk")
    )
    if not lots:
        return []
    # Under the wallet locks a second sweeper re-reads `remaining` = 0 and books nothing; the
    # numbered unique key makes a double booking impossible even if that ever failed.
    earlier = dict(
        Entry.objects.filter(
            lot_id__in=[lot.pk for lot in lots], transfer__kind=Transfer.Kind.EXPIRE
        )
        .values("lot_id")
        .annotate(n=Count("id"))
        .values_list("lot_id", "n")
    )
    transfers = Transfer.objects.bulk_create(
        [
            Transfer(
                kind=Transfer.Kind.EXPIRE,
                account_id=lot.account_id,
                unit_id=lot.unit_id,
                amount=lot.remaining,
                created_at=at,
                actor=actor,
                unique_key=f"expire:{lot.pk}:{earlier.get(lot.pk, 0)}",
            )
            for lot in lots
        ]
    )
    entries = []
    for lot, transfer in zip(lots, transfers, strict=True):
        entries.append(Entry(transfer=transfer, lot_id=lot.pk, amount=-lot.remaining))
        entries.append(
            Entry(transfer=transfer, system_account=SystemAccount.BREAKAGE, amount=lot.remaining)
        )
    Entry.objects.bulk_create(entries)
    emptied = Lot.objects.filter(pk__in=[lot.pk for lot in lots], remaining__gt=0).update(
        remaining=0
    )
    if emptied != len(lots):  # cannot happen under the locks; refuse rather than mis-book
        raise RuntimeError("A lot changed during the expiry sweep.")
    if on_expired is not None:
        on_expired(lots, transfers)
    return transfers


# Token types: units other than the built-in USD.


@use_case
def create_token_type(
    *, code: str, name: str, decimals: int = 0, expiry_days: int | None = 365, actor: Actor
) -> Unit:
    """Add a token type (a unit other than the built-in USD).

    Raises:
        ValidationError: a bad or taken code, an empty name, decimals outside 0-6.
    """
    code = (code or "").strip().upper()
    if not code or len(code) > 16 or not code.isascii() or not code.replace("_", "").isalnum():
        raise ValidationError(
            gettext("The unit code must be 1 to 16 letters or digits."), details={"field": "code"}
        )
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError(
            gettext("The name must be 1 to 100 characters."), details={"field": "name"}
        )
    if not 0 <= decimals <= 6:
        raise ValidationError(
            gettext("The number of decimals must be between 0 and 6."),
            details={"field": "decimals"},
        )
    if expiry_days is not None and not 1 <= expiry_days <= 36500:
        raise ValidationError(
            gettext("The expiry must be between 1 and 36500 days."),
            details={"field": "expiry_days"},
        )
    if Unit.objects.filter(code__iexact=code).exists():
        raise ValidationError("A unit with this code exists.", details={"field": "code"})
    unit = Unit(code=code, name=name, decimals=decimals, expiry_days=expiry_days)
    unit._change_reason = f"created by {actor}"  # type: ignore[attr-defined]
    unit.save()
    return unit


@use_case
def update_token_type(
    *,
    unit_id: int,
    actor: Actor,
    name: str | None = None,
    expiry_days: object = ...,
    is_active: bool | None = None,
) -> Unit:
    """Rename a token type, change its default expiry for refills and API issues, or retire it.
    Its code and decimals never change: existing amounts are stored in its minor unit.

    Raises:
        NotFoundError: no such token type, or it is the built-in USD.
        ValidationError: an empty name, an expiry outside 1-36500 days.
    """
    unit = Unit.objects.select_for_update().filter(pk=unit_id, is_builtin=False).first()
    if unit is None:
        raise NotFoundError("No such token type.")
    fields = []
    if name is not None:
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationError(
                gettext("The name must be 1 to 100 characters."), details={"field": "name"}
            )
        if name != unit.name:
            unit.name, fields = name, [*fields, "name"]
    if expiry_days is not ...:
        if expiry_days is not None and not (
            isinstance(expiry_days, int) and 1 <= expiry_days <= 36500
        ):
            raise ValidationError(
                gettext("The expiry must be between 1 and 36500 days."),
                details={"field": "expiry_days"},
            )
        if expiry_days != unit.expiry_days:
            unit.expiry_days, fields = expiry_days, [*fields, "expiry_days"]  # type: ignore[assignment]
    if is_active is not None and is_active != unit.is_active:
        unit.is_active, fields = is_active, [*fields, "is_active"]
    if fields:
        unit._change_reason = f"edited by {actor}"  # type: ignore[attr-defined]
        unit.save(update_fields=fields)
    return unit


def expiry_by_policy(unit: Unit, at: datetime) -> datetime | None:
    """When value issued now in this unit expires: by default one year later."""
    if unit.expiry_days is None:
        return None
    return at + timedelta(days=unit.expiry_days)


# Internal helpers: every one of them runs inside a use case, after the wallet lock.


def _lot_for_update(lot_id: int, *, include_deleted: bool = False) -> Lot:
    found = Lot.objects.filter(pk=lot_id).values_list("account_id", "unit_id").first()
    if found is None:
        raise NotFoundError("No such credit.")
    lock_wallet(*found)
    lot = Lot.objects.get(pk=lot_id)
    if lot.is_deleted and not include_deleted:
        raise NotFoundError("No such credit.")
    return lot


def _take_from_lot(lot_id: int, amount: int) -> None:
    # The guarded update every debit makes, as one fixed statement (not rebuilt by the ORM).
    round_trips.execute(_TAKE_FROM_LOT, [amount, lot_id, amount], then=_one_lot_updated)


def _one_lot_updated(cursor: Any) -> None:
    if cursor.rowcount != 1:
        # Under the wallet lock this cannot happen; if it ever does, refuse rather than overdraw.
        raise InsufficientBalanceError()


_TAKE_FROM_LOT = (
    f"UPDATE {Lot._meta.db_table} SET remaining = remaining - %s WHERE id = %s AND remaining >= %s"
)


def _move_lot(lot_id: int, delta: int) -> None:
    if delta < 0:
        _take_from_lot(lot_id, -delta)
    else:
        Lot.objects.filter(pk=lot_id).update(remaining=F("remaining") + delta)


def _book_lot_removal(
    lot: Lot,
    amount: int,
    kind: str,
    system_account: str,
    at: datetime,
    actor: Actor,
    unique_key: str,
    reason: str = "",
) -> Transfer:
    _take_from_lot(lot.pk, amount)
    return _append_transfer(
        kind=kind,
        account_id=lot.account_id,
        unit_id=lot.unit_id,
        at=at,
        actor=actor,
        legs=[(lot.pk, -amount)],
        system_account=system_account,
        unique_key=unique_key,
        reason=reason,
    )


def _append_transfer(
    *,
    kind: str,
    account_id: int,
    unit_id: int,
    at: datetime,
    actor: Actor,
    legs: Sequence[tuple[int, int]],
    system_account: str | None = None,
    system_legs: Sequence[tuple[str, int]] = (),
    reason: str = "",
    reverses: Transfer | None = None,
    unique_key: str | None = None,
    metadata: dict | None = None,
    key: int | None = None,
) -> Transfer:
    """Write one transfer whose lot legs are balanced by system legs (or by `system_account`);
    `key`: its primary key, when drawn beforehand."""
    lot_total = sum(amount for _, amount in legs)
    if system_account is not None:
        system_legs = [(system_account, -lot_total)]
    assert lot_total + sum(a for _, a in system_legs) == 0, "entries must sum to zero"
    transfer = insert(
        Transfer(
            pk=key,
            kind=kind,
            account_id=account_id,
            unit_id=unit_id,
            amount=sum(abs(a) for _, a in legs),
            created_at=at,
            actor=actor[:200],
            reason=reason[:500],
            reverses=reverses,
            unique_key=unique_key,
            metadata=metadata or {},
        )
    )
    entries = insert_many(
        [Entry(transfer=transfer, lot_id=lot_id, amount=a) for lot_id, a in legs if a]
        + [Entry(transfer=transfer, system_account=s, amount=a) for s, a in system_legs if a]
    )
    # The rows just written, for a caller that needs them (the lots a redemption spent) without
    # reading them back.
    transfer.written_entries = entries  # type: ignore[attr-defined]
    return transfer


def _check_choice(value: str, choices: Any, field: str) -> None:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise ValidationError(f"{field} must be one of: {allowed}.", details={"field": field})
