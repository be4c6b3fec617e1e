"""Holds: value reserved for a redemption that waits for approval (SPEC §7).

Placing a hold is a `hold` transfer that takes the value out of the usable lots (soonest
expiring first, the same guarded `remaining >= x` updates as a debit) into the `holds` system
account: spendable by nobody, still the account's. A hold ends exactly once, decided by one
guarded update of its status (`WHERE status = 'pending'`) under the wallet lock:

- captured: a `release` transfer puts the value back into the same lots and a `redeem` transfer
  spends it from them again, in the same transaction. The redemption is an ordinary one, so a
  refund reverses it into those lots like any other.
- released (declined) or expired: a `release` transfer back into the same lots, which keep
  their expiry; value returned to a lot that has expired meanwhile is expired at once, and to a
  deleted lot voided at once (as a refund does).

A hold never outlives its lots: it expires at the owner's time limit or at the soonest expiry of
the lots it holds, whichever comes first, so a capture never spends an expired lot.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tuition.core import clock
from tuition.core.actors import Actor
from tuition.core.amounts import MAX_MINOR, amount_error
from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.metrics import count_redeemed_on_commit
from tuition.core.transactions import use_case

from .errors import HoldNotPendingError
from .locks import lock_wallet
from .models import Hold, HoldPart, Lot, SystemAccount, Transfer, Unit
from .selectors import ItemRef, usable_lots
from .services import _append_transfer, _book_lot_removal, _move_lot, _take_from_lot, allocate

ENDED = (Hold.Status.CAPTURED, Hold.Status.RELEASED, Hold.Status.EXPIRED)


@use_case
def place_hold(
    *,
    account_id: int,
    unit: Unit,
    amount: int,
    expires_at: datetime,
    actor: Actor,
    item: ItemRef | None = None,
    lot_ids: Sequence[int] | None = None,
    reason: str = "",
    metadata: dict | None = None,
    wallet_locked: bool = False,
) -> Hold:
    """Reserve `amount` from the account's usable lots until it is captured or released.

    The lots are chosen as a debit chooses them (rule 13); `expires_at` is the owner's time
    limit, shortened to the soonest expiry of the lots held.

    Raises:
        InsufficientBalanceError: the usable lots do not cover the amount (nothing is written).
        ValidationError: a non-positive amount, or a time limit that is not in the future.
    """
    if not 0 < amount <= MAX_MINOR:
        raise amount_error("amount", "not_positive")
    if wallet_locked:
        assert connection.in_atomic_block, "wallet_locked: only inside the locking transaction"
    else:
        lock_wallet(account_id, unit.pk)
    at = clock.now()
    if expires_at <= at:
        raise ValidationError("A hold must end in the future.", details={"field": "expires_at"})
    lots = usable_lots(account_id=account_id, unit_id=unit.pk, at=at, item=item, lot_ids=lot_ids)
    allocations = allocate(amount, lots.values_list("id", "remaining"))
    for allocation in allocations:
        _take_from_lot(allocation.lot_id, allocation.amount)
    lot_expiries = [
        e
        for e in Lot.objects.filter(pk__in=[a.lot_id for a in allocations]).values_list(
            "expires_at", flat=True
        )
        if e is not None
    ]
    transfer = _append_transfer(
        kind=Transfer.Kind.HOLD,
        account_id=account_id,
        unit_id=unit.pk,
        at=at,
        actor=actor,
        legs=[(a.lot_id, -a.amount) for a in allocations],
        system_account=SystemAccount.HOLDS,
        reason=reason,
        metadata=metadata,
    )
    hold = Hold.objects.create(
        account_id=account_id,
        unit=unit,
        amount=amount,
        created_at=at,
        expires_at=min([expires_at, *lot_expiries]),
        actor=actor[:200],
        hold_transfer=transfer,
    )
    HoldPart.objects.bulk_create(
        [HoldPart(hold=hold, lot_id=a.lot_id, amount=a.amount) for a in allocations]
    )
    return hold


@use_case
def capture_hold(
    *, hold_id: int, actor: Actor, reason: str = "", metadata: dict | None = None
) -> Transfer:
    """Spend what a hold reserved: the redemption it waited for. Returns the `redeem` transfer.

    Raises:
        NotFoundError: no such hold.
        HoldNotPendingError: it was decided before, or its time ran out (even if the expiry job
            has not released it yet).
    """
    hold = _pending_hold_for_update(hold_id)
    at = clock.now()
    # In the order the hold took them (soonest expiry first), so the redemption records its
    # lots as a debit would, and a partial refund gives back to the lot spent last first.
    parts = list(hold.parts.order_by("id"))
    if _ran_out(hold, parts, at):
        raise HoldNotPendingError(str(_("This request has run out of time.")))
    release = _release_transfer(hold, parts, at=at, actor=actor, reason=reason or "approved")
    for part in parts:
        _take_from_lot(part.lot_id, part.amount)
    unit = hold.unit
    count_redeemed_on_commit(unit_code=unit.code, decimals=unit.decimals, amount=hold.amount)
    redemption = _append_transfer(
        kind=Transfer.Kind.REDEEM,
        account_id=hold.account_id,
        unit_id=hold.unit_id,
        at=at,
        actor=actor,
        legs=[(part.lot_id, -part.amount) for part in parts],
        system_account=SystemAccount.REDEMPTIONS,
        reason=reason,
        unique_key=f"capture:{hold.pk}",
        metadata={**(metadata or {}), "hold": hold.pk},
    )
    _end(
        hold,
        Hold.Status.CAPTURED,
        at=at,
        actor=actor,
        release=release,
        capture=redemption,
    )
    return redemption


@use_case
def release_hold(
    *, hold_id: int, actor: Actor, expired: bool = False, reason: str = ""
) -> Transfer:
    """Give a hold's value back to the lots it came from (declined, or expired undecided).

    `expired`: the hold ran out of time (status `expired`, refused before its time limit);
    otherwise it was declined (status `released`).

    Raises:
        NotFoundError: no such hold.
        HoldNotPendingError: it was decided before, or (`expired`) its time has not run out.
    """
    hold = _pending_hold_for_update(hold_id)
    at = clock.now()
    parts = list(hold.parts.order_by("id"))
    if expired and not _ran_out(hold, parts, at):
        raise HoldNotPendingError("This request has not run out of time yet.")
    status = Hold.Status.EXPIRED if expired else Hold.Status.RELEASED
    release = _release_transfer(hold, parts, at=at, actor=actor, reason=reason or status)
    _end(hold, status, at=at, actor=actor, release=release)
    lots = Lot.objects.in_bulk([part.lot_id for part in parts])
    for part in parts:
        lot = lots[part.lot_id]
        if lot.is_deleted:
            _book_lot_removal(
                lot,
                part.amount,
                Transfer.Kind.VOID,
                SystemAccount.VOIDS,
                at,
                actor,
                f"void:{lot.pk}:after-release:{hold.pk}",
            )
        elif lot.is_expired_at(at):
            _book_lot_removal(
                lot,
                part.amount,
                Transfer.Kind.EXPIRE,
                SystemAccount.BREAKAGE,
                at,
                actor,
                f"expire:{lot.pk}:after-release:{hold.pk}",
            )
    return release


def due_holds(*, at: datetime | None = None, limit: int = 500) -> list[int]:
    """Pending holds whose time has run out, oldest deadline first."""
    at = at or clock.now()
    return list(
        Hold.objects.filter(status=Hold.Status.PENDING)
        .filter(Q(expires_at__lte=at) | Q(parts__lot__expires_at__lte=at))
        .distinct()
        .order_by("expires_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


# Internal helpers: inside a use case, after the wallet lock.


def _pending_hold_for_update(hold_id: int) -> Hold:
    found = Hold.objects.filter(pk=hold_id).values_list("account_id", "unit_id").first()
    if found is None:
        raise NotFoundError("No such hold.")
    lock_wallet(*found)
    hold = Hold.objects.select_related("unit").get(pk=hold_id)
    if not hold.is_pending:
        raise HoldNotPendingError()
    return hold


def _ran_out(hold: Hold, parts: list[HoldPart], at: datetime) -> bool:
    """Its time limit has passed, or a lot it holds has expired since (an expiry moved
    earlier): it can no longer be captured, only released."""
    if hold.expires_at <= at:
        return True
    lots = Lot.objects.filter(pk__in=[part.lot_id for part in parts])
    return lots.filter(expires_at__lte=at).exists()


def _end(
    hold: Hold,
    status: str,
    *,
    at: datetime,
    actor: Actor,
    release: Transfer,
    capture: Transfer | None = None,
) -> None:
    """Decide the hold, once: the guarded update is what makes a second decision lose, even
    where the wallet lock is not a real row lock (SQLite's single writer takes its place)."""
    ended = Hold.objects.filter(pk=hold.pk, status=Hold.Status.PENDING).update(
        status=status,
        ended_at=at,
        ended_by=actor[:200],
        release_transfer=release,
        capture_transfer=capture,
    )
    if ended != 1:
        raise HoldNotPendingError()
    hold.status, hold.ended_at, hold.ended_by = status, at, actor[:200]
    hold.release_transfer, hold.capture_transfer = release, capture


def _release_transfer(
    hold: Hold, parts: list[HoldPart], *, at: datetime, actor: Actor, reason: str
) -> Transfer:
    for part in parts:
        _move_lot(part.lot_id, part.amount)
    try:
        return _append_transfer(
            kind=Transfer.Kind.RELEASE,
            account_id=hold.account_id,
            unit_id=hold.unit_id,
            at=at,
            actor=actor,
            legs=[(part.lot_id, part.amount) for part in parts],
            system_account=SystemAccount.HOLDS,
            reason=reason,
            unique_key=f"release:{hold.pk}",
            metadata={"hold": hold.pk},
        )
    except IntegrityError as exc:  # cannot happen after the guarded update; refuse if it does
        raise HoldNotPendingError() from exc
