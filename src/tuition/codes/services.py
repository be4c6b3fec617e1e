"""Writes to credits (through the ledger), redemption codes and coupons.

The admin, the API and the owner pages call these; none of them touch the models directly.
A code's text is returned once, by the service that makes it (and later only through
`selectors.reveal_code` for people allowed to see it).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext

from tuition.accounts.models import Membership, TrainingAccount
from tuition.accounts.services import get_or_create_user, personal_account_for
from tuition.core import clock, round_trips
from tuition.core.actors import Actor
from tuition.core.amounts import MAX_MINOR, amount_error
from tuition.core.errors import NotFoundError, ScopeKindImmutableError, ValidationError
from tuition.core.transactions import use_case
from tuition.ledger import services as ledger
from tuition.ledger.errors import InsufficientBalanceError
from tuition.ledger.locks import lock_wallet, lock_wallets
from tuition.ledger.models import Lot, LotScopeItem, Unit
from tuition.notifications import events

from . import crypto, text
from .errors import CodeTakenError
from .models import Coupon, CouponScopeItem, RedemptionCode, ScopeKind

UNSET: Any = object()
BY_POLICY = ledger.BY_POLICY


@dataclass(frozen=True)
class IssuedCredit:
    lot: Lot
    code: RedemptionCode
    code_text: str  # shown to the creator now; later only via selectors.reveal_code


@dataclass(frozen=True)
class NewCode:
    code: RedemptionCode
    code_text: str


@dataclass(frozen=True)
class NewCoupon:
    coupon: Coupon
    code_text: str


@dataclass(frozen=True)
class ScopeInput:
    kind: str
    all: bool = True
    items: Sequence[int] = ()


# --- code text -------------------------------------------------------------------------------


def _code_parts(code: str | None) -> tuple[str, str, bool]:
    """(display, normalized, is_custom) for a requested code, generating one when blank."""
    if code is None or (isinstance(code, str) and not code.strip()):
        display = text.generate_code()
        return display, text.normalize_code(display), False
    display, normalized = text.clean_custom_code(code)
    return display, normalized, True


def _store_code(*, code: str | None, kind: str, actor: Actor, **targets: Any) -> NewCode:
    display, normalized, is_custom = _code_parts(code)
    _ensure_free(normalized)
    return _insert_code(display, normalized, is_custom, kind=kind, actor=actor, **targets)


def _ensure_free(normalized: str) -> None:
    if RedemptionCode.objects.filter(digest=crypto.digest(normalized)).exists():
        raise CodeTakenError(details={"field": "code"})


def _insert_code(
    display: str, normalized: str, is_custom: bool, *, kind: str, actor: Actor, **targets: Any
) -> NewCode:
    try:
        with transaction.atomic():
            row = RedemptionCode.objects.create(
                digest=crypto.digest(normalized),
                sealed=crypto.seal(display),
                hint=normalized[-4:],
                is_custom=is_custom,
                kind=kind,
                created_at=clock.now(),
                created_by=actor[:200],
                **targets,
            )
    except IntegrityError as exc:  # a concurrent creator took the same custom code
        raise CodeTakenError(details={"field": "code"}) from exc
    return NewCode(row, display)


# --- credits ---------------------------------------------------------------------------------


def _lot_event_data(lot: Lot) -> dict[str, Any]:
    return {
        "lot_id": str(lot.pk),
        "unit": lot.unit.code,
        "amount": lot.unit.format(lot.redeemable_value),
        "expires_at": lot.expires_at.isoformat() if lot.expires_at else None,
        "source": lot.source,
        "notes": lot.notes,
        "account_name": lot.account.name,
    }


@use_case(answers=True)
def create_credit(
    *,
    unit: Unit,
    redeemable_value: int,
    actor: Actor,
    account_id: int | None = None,
    owner_email: str | None = None,
    purchase_price: int | None = None,
    expires_at: datetime | None = BY_POLICY,
    status: str = Lot.Status.ACTIVE,
    notes: str = "",
    scope: ScopeInput | None = None,
    external_id: str = "",
    source: str = Lot.Source.ADMIN,
    code: str | None = None,
    emailed: bool = True,
) -> IssuedCredit:
    """Issue a credit (a lot) into an account, or into the personal account of `owner_email`,
    with its own redemption code (generated when blank), and record `credit.issued`.
    `emailed=False`: the event goes to webhooks only, because the caller records a fuller one
    that the account's people are emailed about (a refill's).

    Raises:
        ValidationError: neither or both of account and owner, bad values (see
            ledger.issue_credit), a malformed custom code, a custom code already in use.
        NotFoundError: no such account.
    """
    if (account_id is None) == (owner_email is None):
        raise ValidationError(
            "Give either an account or an owner email.", details={"field": "account"}
        )
    if owner_email is not None:
        account_id = personal_account_for(email=owner_email, actor=actor).pk

    if not TrainingAccount.objects.filter(pk=account_id).exists():
        raise NotFoundError("No such account.")
    scope = scope or ScopeInput(kind=Lot.ScopeKind.ACTIVITY)
    display, normalized, is_custom = _code_parts(code)  # refuse a bad code before issuing
    _ensure_free(normalized)
    lot = ledger.issue_credit.joining(
        account_id=account_id,
        unit=unit,
        redeemable_value=redeemable_value,
        actor=actor,
        purchase_price=purchase_price,
        expires_at=expires_at,
        status=status,
        notes=notes,
        scope_kind=scope.kind,
        scope_all=scope.all,
        scope_items=scope.items,
        external_id=external_id,
        source=source,
    )
    new = _insert_code(
        display, normalized, is_custom, kind=RedemptionCode.Kind.LOT, actor=actor, lot=lot
    )
    events.record(
        events.CREDIT_ISSUED,
        account_id=lot.account_id,
        data={**_lot_event_data(lot), "code_hint": new.code.hint},
        recipients=None if emailed else (),
    )
    return IssuedCredit(lot, new.code, new.code_text)


@use_case
def attach_lot_code(*, lot_id: int, actor: Actor, code: str | None = None) -> NewCode:
    """Give a credit issued without one (an import, older data) its own code.

    Raises:
        NotFoundError: no such credit, or it was deleted.
        ValidationError: it has a code already, or a malformed or taken custom code.
    """
    lot = Lot.objects.filter(pk=lot_id, deleted_at__isnull=True).first()
    if lot is None:
        raise NotFoundError("No such credit.")
    if RedemptionCode.objects.filter(lot=lot).exists():
        raise ValidationError("This credit already has a code; rotate it instead.")
    return _store_code(code=code, kind=RedemptionCode.Kind.LOT, actor=actor, lot=lot)


@use_case
def update_credit(
    *,
    lot_id: int,
    actor: Actor,
    status: str = UNSET,
    expires_at: datetime | None = UNSET,
    scope: ScopeInput = UNSET,
    notes: str = UNSET,
    external_id: str = UNSET,
    purchase_price: int | None = UNSET,
) -> Lot:
    """Edit one credit. Only what is passed changes; every change is kept in its history.

    Raises:
        NotFoundError: no such credit, or it was deleted.
        ScopeKindImmutableError: the scope kind differs from the credit's.
        ValidationError: a bad status, purchase price or scope list.
    """
    found = (
        Lot.objects.filter(pk=lot_id, deleted_at__isnull=True)
        .values_list("account_id", "unit_id")
        .first()
    )
    if found is None:
        raise NotFoundError("No such credit.")
    lock_wallet(*found)
    lot = Lot.objects.select_related("unit", "account").get(pk=lot_id)
    if scope is not UNSET and scope.kind != lot.scope_kind:
        raise ScopeKindImmutableError(details={"field": "scope.kind"})
    if status is not UNSET:
        ledger.set_lot_status.joining(lot_id=lot.pk, status=status, actor=actor)
    if expires_at is not UNSET and expires_at != lot.expires_at:
        old = lot.expires_at
        ledger.change_expiry.joining(lot_id=lot.pk, expires_at=expires_at, actor=actor)
        lot.refresh_from_db()
        events.record(
            events.CREDIT_EXPIRY_CHANGED,
            account_id=lot.account_id,
            data={
                "lot_id": str(lot.pk),
                "unit": lot.unit.code,
                "account_name": lot.account.name,
                "old_expires_at": old.isoformat() if old else None,
                "new_expires_at": expires_at.isoformat() if expires_at else None,
                "remaining": lot.unit.format(lot.remaining),
            },
        )
    lot.refresh_from_db()
    fields: list[str] = []
    if notes is not UNSET and notes != lot.notes:
        lot.notes, fields = notes or "", [*fields, "notes"]
    if external_id is not UNSET and external_id != lot.external_id:
        lot.external_id, fields = (external_id or "")[:200], [*fields, "external_id"]
    if purchase_price is not UNSET and purchase_price != lot.purchase_price:
        if purchase_price is not None and not 0 <= purchase_price <= MAX_MINOR:
            raise amount_error("purchase_price", "negative")
        lot.purchase_price, fields = purchase_price, [*fields, "purchase_price"]
    if scope is not UNSET:
        items = sorted(set(scope.items))
        if not scope.all and not items:
            raise ValidationError(
                "A scope that is not 'all' needs at least one item.",
                details={"field": "scope.items"},
            )
        if scope.all != lot.scope_all:
            lot.scope_all, fields = scope.all, [*fields, "scope_all"]
        if sorted(lot.scope_item_ids()) != items or scope.all:
            LotScopeItem.objects.filter(lot=lot).delete()
            if not scope.all:
                LotScopeItem.objects.bulk_create([LotScopeItem(lot=lot, item_id=i) for i in items])
        chosen = [] if scope.all else items
        if lot.scope_item_list != chosen:  # recorded in the change history, old -> new
            lot.scope_item_list, fields = chosen, [*fields, "scope_item_list"]
    if fields:
        lot._change_reason = f"edited by {actor}"  # type: ignore[attr-defined]
        lot.save(update_fields=fields)
    return lot


@use_case(answers=True)
def bulk_credit_action(*, action: str, lot_ids: Iterable[int], actor: Actor) -> int:
    """Activate, deactivate or delete many credits at once, all or nothing. Returns how many.

    Raises:
        ValidationError: an unknown action or no ids.
        NotFoundError: one of the credits does not exist (or was deleted).
    """
    if action not in ("activate", "deactivate", "delete"):
        raise ValidationError(
            "action must be activate, deactivate or delete.", details={"field": "action"}
        )
    ids = sorted(set(lot_ids))
    if not ids:
        raise ValidationError("Give at least one credit.", details={"field": "ids"})
    rows = list(
        Lot.objects.filter(pk__in=ids, deleted_at__isnull=True).values_list(
            "pk", "account_id", "unit_id"
        )
    )
    if len(rows) != len(ids):
        raise NotFoundError(
            "No such credit.",
            details={"ids": [str(i) for i in sorted(set(ids) - {r[0] for r in rows})]},
        )
    lock_wallets({(a, u) for _, a, u in rows})
    for lot_id in ids:
        if action == "delete":
            delete_credit.joining(lot_id=lot_id, actor=actor)
        else:
            status = Lot.Status.ACTIVE if action == "activate" else Lot.Status.INACTIVE
            ledger.set_lot_status.joining(lot_id=lot_id, status=status, actor=actor)
    return len(ids)


@use_case
def delete_credit(*, lot_id: int, actor: Actor, reason: str = "") -> None:
    """Delete a credit for good: its remaining value is voided and its code never works again.

    Raises:
        NotFoundError: no such credit.
    """
    ledger.void_lot.joining(lot_id=lot_id, actor=actor, reason=reason)
    at = clock.now()
    for code in RedemptionCode.objects.filter(lot_id=lot_id, deleted_at__isnull=True):
        code.deleted_at = at
        code.status = RedemptionCode.Status.INACTIVE
        code._change_reason = f"credit deleted by {actor}"  # type: ignore[attr-defined]
        code.save(update_fields=["deleted_at", "status"])


# --- pool and member codes -------------------------------------------------------------------


@use_case
def create_pool_code(
    *, account_id: int, unit: Unit, actor: Actor, code: str | None = None, label: str = ""
) -> NewCode:
    """A code that pays from the account's lots in `unit` (soonest expiring first).

    Raises:
        ValidationError: a malformed or taken custom code.
    """
    return _store_code(
        code=code,
        kind=RedemptionCode.Kind.POOL,
        actor=actor,
        account_id=account_id,
        unit=unit,
        label=label[:200],
    )


@use_case
def create_member_code(
    *,
    account_id: int,
    unit: Unit,
    member_email: str,
    actor: Actor,
    cap: int | None = None,
    code: str | None = None,
) -> NewCode:
    """A pool code only this member may use, spending at most `cap` (minor units) if given.

    Raises:
        ValidationError: the person is not on the account, a bad cap, a bad or taken code.
    """
    user = get_or_create_user(email=member_email)
    if not Membership.objects.filter(account_id=account_id, user=user).exists():
        raise ValidationError(
            "This person is not a member of the account.", details={"field": "member"}
        )
    if cap is not None and not 0 < cap <= MAX_MINOR:
        raise amount_error("cap", "not_positive")
    return _store_code(
        code=code,
        kind=RedemptionCode.Kind.MEMBER,
        actor=actor,
        account_id=account_id,
        unit=unit,
        member=user,
        cap=cap,
        label=user.email[:200],
    )


@use_case
def set_code_status(*, code_id: int, status: str, actor: Actor) -> RedemptionCode:
    """Activate or deactivate a pool, member or coupon code (a credit's code follows its credit).

    Raises:
        NotFoundError: no such code, or it was deleted.
        ValidationError: an unknown status.
    """
    if status not in RedemptionCode.Status.values:
        raise ValidationError(
            gettext("The status must be active or inactive."), details={"field": "status"}
        )
    row = _code_for_update(code_id)
    if row.status != status:
        row.status = status
        row._change_reason = f"{status} by {actor}"  # type: ignore[attr-defined]
        row.save(update_fields=["status"])
    return row


@use_case
def delete_code(*, code_id: int, actor: Actor) -> None:
    """Retire a pool or member code for good (the account's lots are untouched).

    Raises:
        NotFoundError: no such code.
        ValidationError: a credit's own code (delete the credit instead).
    """
    row = _code_for_update(code_id)
    if row.kind == RedemptionCode.Kind.LOT:
        raise ValidationError("Delete the credit to retire its code.")
    row.deleted_at = clock.now()
    row.status = RedemptionCode.Status.INACTIVE
    row._change_reason = f"deleted by {actor}"  # type: ignore[attr-defined]
    row.save(update_fields=["deleted_at", "status"])


@use_case
def rotate_code(*, code_id: int, actor: Actor, new_code: str | None = None) -> NewCode:
    """Give a code new text (generated when blank); the old text stops working at once.

    Raises:
        NotFoundError: no such code, or it was deleted.
        ValidationError: a malformed or taken custom code.
    """
    row = _code_for_update(code_id)
    display, normalized, is_custom = _code_parts(new_code)
    digest = crypto.digest(normalized)
    if RedemptionCode.objects.filter(digest=digest).exclude(pk=row.pk).exists():
        raise CodeTakenError(details={"field": "code"})
    row.digest, row.sealed, row.hint, row.is_custom = (
        digest,
        crypto.seal(display),
        normalized[-4:],
        is_custom,
    )
    row._change_reason = f"code rotated by {actor}"  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            row.save(update_fields=["digest", "sealed", "hint", "is_custom"])
    except IntegrityError as exc:
        raise CodeTakenError(details={"field": "code"}) from exc
    return NewCode(row, display)


def _code_for_update(code_id: int) -> RedemptionCode:
    row = (
        RedemptionCode.objects.select_for_update()
        .filter(pk=code_id, deleted_at__isnull=True)
        .first()
    )
    if row is None:
        raise NotFoundError("No such code.")
    return row


# --- coupons ---------------------------------------------------------------------------------


def _check_coupon_scope(kind: str, scope_all: bool, items: Sequence[tuple[str, int]]) -> None:
    if kind not in ScopeKind.values:
        raise ValidationError(
            "scope.kind must be activity, group or any.", details={"field": "scope.kind"}
        )
    if not scope_all and not items:
        raise ValidationError(
            "A scope that is not 'all' needs at least one item.", details={"field": "scope.items"}
        )


def _coupon_items(kind: str, items: Iterable[int | tuple[str, int]]) -> list[tuple[str, int]]:
    out = []
    for item in items:
        if isinstance(item, tuple):
            out.append(item)
        else:
            if kind == ScopeKind.ANY:
                raise ValidationError(
                    "Items of an 'any' scope need their kind.", details={"field": "scope.items"}
                )
            out.append((kind, int(item)))
    return sorted(set(out))


@use_case
def create_coupon(
    *,
    name: str,
    actor: Actor,
    percent_off_bp: int | None = None,
    amount_off: int | None = None,
    scope_kind: str = ScopeKind.ANY,
    scope_all: bool = True,
    scope_items: Iterable[int | tuple[str, int]] = (),
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    max_uses: int | None = None,
    once_per_learner: bool = False,
    status: str = Coupon.Status.ACTIVE,
    notes: str = "",
    code: str | None = None,
) -> NewCoupon:
    """A discount code on the card price: percent (basis points, 10000 = free) or a fixed USD
    amount (cents), in the same code space as credits.

    Raises:
        ValidationError: no name, not exactly one discount, a bad window, scope or code.
    """
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError("name must be 1 to 200 characters.", details={"field": "name"})
    if (percent_off_bp is None) == (amount_off is None):
        raise ValidationError(
            gettext("Give either a percentage or an amount off."), details={"field": "discount"}
        )
    if percent_off_bp is not None and not 0 < percent_off_bp <= 10000:
        raise ValidationError(
            gettext("The percentage off must be above 0 and at most 100."),
            details={"field": "percent_off"},
        )
    if amount_off is not None and not 0 < amount_off <= MAX_MINOR:
        raise amount_error("amount_off", "not_positive")
    if valid_from and valid_until and valid_until <= valid_from:
        raise ValidationError(
            gettext("“Valid until” must be after “valid from”."), details={"field": "valid_until"}
        )
    if max_uses is not None and max_uses < 1:
        raise ValidationError(
            gettext("The maximum number of uses must be at least 1."), details={"field": "max_uses"}
        )
    if status not in Coupon.Status.values:
        raise ValidationError(
            gettext("The status must be active or inactive."), details={"field": "status"}
        )
    items = _coupon_items(scope_kind, scope_items)
    _check_coupon_scope(scope_kind, scope_all, items)
    coupon = Coupon.objects.create(
        name=name,
        percent_off_bp=percent_off_bp,
        amount_off=amount_off,
        scope_kind=scope_kind,
        scope_all=scope_all,
        valid_from=valid_from,
        valid_until=valid_until,
        max_uses=max_uses,
        once_per_learner=once_per_learner,
        status=status,
        notes=notes or "",
        created_at=clock.now(),
        created_by=actor[:200],
    )
    if not scope_all:
        CouponScopeItem.objects.bulk_create(
            [CouponScopeItem(coupon=coupon, item_kind=k, item_id=i) for k, i in items]
        )
    new = _store_code(
        code=code, kind=RedemptionCode.Kind.COUPON, actor=actor, coupon=coupon, label=name
    )
    return NewCoupon(coupon, new.code_text)


@use_case
def update_coupon(
    *,
    coupon_id: int,
    actor: Actor,
    name: str = UNSET,
    status: str = UNSET,
    valid_from: datetime | None = UNSET,
    valid_until: datetime | None = UNSET,
    max_uses: int | None = UNSET,
    once_per_learner: bool = UNSET,
    notes: str = UNSET,
    scope_kind: str = UNSET,
    scope_all: bool = UNSET,
    scope_items: Iterable[int | tuple[str, int]] = UNSET,
) -> Coupon:
    """Edit a coupon. Its discount and scope kind never change (make a new coupon instead).

    Raises:
        NotFoundError: no such coupon, or it was deleted.
        ScopeKindImmutableError: another scope kind.
        ValidationError: bad values (max_uses below the uses so far, a bad window).
    """
    coupon = (
        Coupon.objects.select_for_update().filter(pk=coupon_id, deleted_at__isnull=True).first()
    )
    if coupon is None:
        raise NotFoundError("No such coupon.")
    if scope_kind is not UNSET and scope_kind != coupon.scope_kind:
        raise ScopeKindImmutableError(details={"field": "scope.kind"})
    changes = {
        k: v
        for k, v in {
            "name": name,
            "status": status,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "max_uses": max_uses,
            "once_per_learner": once_per_learner,
            "notes": notes,
            "scope_all": scope_all,
        }.items()
        if v is not UNSET
    }
    if "status" in changes and changes["status"] not in Coupon.Status.values:
        raise ValidationError(
            gettext("The status must be active or inactive."), details={"field": "status"}
        )
    if changes.get("max_uses") is not None and changes["max_uses"] < max(coupon.uses, 1):
        raise ValidationError(
            gettext("The maximum number of uses cannot be below the uses so far."),
            details={"field": "max_uses"},
        )
    for key, value in changes.items():
        setattr(coupon, key, value)
    if coupon.valid_from and coupon.valid_until and coupon.valid_until <= coupon.valid_from:
        raise ValidationError(
            gettext("“Valid until” must be after “valid from”."), details={"field": "valid_until"}
        )
    if scope_items is not UNSET or "scope_all" in changes:
        items = (
            _coupon_items(coupon.scope_kind, scope_items)
            if scope_items is not UNSET
            else sorted(coupon.scope_items.values_list("item_kind", "item_id"))
        )
        _check_coupon_scope(coupon.scope_kind, coupon.scope_all, items)
        CouponScopeItem.objects.filter(coupon=coupon).delete()
        if not coupon.scope_all:
            CouponScopeItem.objects.bulk_create(
                [CouponScopeItem(coupon=coupon, item_kind=k, item_id=i) for k, i in items]
            )
    coupon._change_reason = f"edited by {actor}"  # type: ignore[attr-defined]
    coupon.save()
    if "status" in changes:
        RedemptionCode.objects.filter(coupon=coupon).update(status=changes["status"])
    return coupon


@use_case
def delete_coupon(*, coupon_id: int, actor: Actor) -> None:
    """Retire a coupon for good; its code never works again.

    Raises:
        NotFoundError: no such coupon.
    """
    coupon = (
        Coupon.objects.select_for_update().filter(pk=coupon_id, deleted_at__isnull=True).first()
    )
    if coupon is None:
        raise NotFoundError("No such coupon.")
    at = clock.now()
    coupon.deleted_at, coupon.status = at, Coupon.Status.INACTIVE
    coupon._change_reason = f"deleted by {actor}"  # type: ignore[attr-defined]
    coupon.save(update_fields=["deleted_at", "status"])
    RedemptionCode.objects.filter(coupon=coupon).update(
        deleted_at=at, status=RedemptionCode.Status.INACTIVE
    )


def spend_within_cap(*, code_id: int, amount: int) -> None:
    """Count a checkout's `amount` against a member code's cap, with a guarded update (one
    fixed statement). Inside `round_trips.one_round_trip` it is sent with the batch and checked
    when the batch is back. Called by checkout inside its transaction, after the wallet lock.

    Raises:
        InsufficientBalanceError: it would pass the cap.
    """
    round_trips.execute(_SPEND_WITHIN_CAP, [amount, code_id, amount], then=_refuse_unless_spent)


def _refuse_unless_spent(cursor: Any) -> None:
    if cursor.rowcount != 1:
        raise InsufficientBalanceError()


_SPEND_WITHIN_CAP = (
    f"UPDATE {RedemptionCode._meta.db_table} SET spent = spent + %s"
    " WHERE id = %s AND (cap IS NULL OR cap >= spent + %s)"
)


def add_member_spend(*, code_id: int, amount: int) -> bool:
    """Count `amount` against a member code's cap (or give it back, negative); False when it
    would pass the cap. Called by checkout inside its transaction, after the wallet lock."""
    rows = RedemptionCode.objects.filter(pk=code_id)
    if amount > 0:
        rows = rows.filter(Q(cap__isnull=True) | Q(cap__gte=F("spent") + amount))
    else:
        rows = rows.filter(spent__gte=-amount)
    return rows.update(spent=F("spent") + amount) == 1
