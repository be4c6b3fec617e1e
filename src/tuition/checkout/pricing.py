"""What a checkout would charge and how it would be paid, decided from what is read (no writes):
the item, its session, the learner's registrations, the code or coupon and its account."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, QuerySet
from django.utils.translation import gettext

from tuition.accounts.models import TrainingAccount, User
from tuition.catalog.models import Activity, Group, Session
from tuition.catalog.selectors import Item, price_in_unit
from tuition.codes.errors import (
    CodeExpiredError,
    CodeInactiveError,
    CodeNotFoundError,
    NotEligibleError,
    NotInScopeError,
    NotPricedInUnitError,
    OneCodeOnlyError,
)
from tuition.codes.models import Coupon, CouponUse, RedemptionCode, ScopeKind
from tuition.codes.selectors import find_code
from tuition.core import clock
from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.features import pay_by_tokens
from tuition.core.reused_queries import ReusedQuery
from tuition.core.round_trips import Rows
from tuition.ledger.errors import InsufficientBalanceError
from tuition.ledger.models import Lot, Unit, expired
from tuition.ledger.selectors import ItemRef, allocation_order, in_scope_of

from .errors import (
    AlreadyRegisteredError,
    SessionFullError,
    SessionRequiredError,
    SessionStartedError,
)
from .models import (
    ItemKind,
    Order,
    Registration,
)


@dataclass(frozen=True)
class PaymentChoice:
    """How the learner pays. `method` "code": a credit, token, member or coupon code;
    "card": a card (via `provider`), optionally with a coupon. `extra_codes` is any further
    code the caller received (always refused: one code per checkout)."""

    method: str
    code: str | None = None
    coupon: str | None = None
    provider: str = "sandbox"
    card_number: str | None = None
    extra_codes: tuple[str, ...] = ()


@dataclass
class Quote:
    item_kind: str
    item_id: int
    title: str
    list_price: int  # USD cents
    unit: Unit
    price: int  # in unit
    discount: int
    payable: int
    method: str
    # The account's approval rules cover this redemption: checkout would wait for an owner.
    needs_approval: bool = False
    account_name: str = ""

    def as_dict(self) -> dict[str, Any]:
        usd = Unit.objects.get(code=Unit.USD) if self.unit.code != Unit.USD else self.unit
        return {
            "item": {"kind": self.item_kind, "id": str(self.item_id), "title": self.title},
            "list_price": {"amount": usd.format(self.list_price), "unit": Unit.USD},
            "price": {"amount": self.unit.format(self.price), "unit": self.unit.code},
            "discount": {"amount": self.unit.format(self.discount), "unit": self.unit.code},
            "payable": {"amount": self.unit.format(self.payable), "unit": self.unit.code},
            "method": self.method,
            "needs_approval": self.needs_approval,
        }


@dataclass
class Plan:
    learner: User
    item: Item
    session: Session | None
    unit: Unit
    price: int
    discount: int
    payable: int
    method: str
    code: RedemptionCode | None = None
    coupon: Coupon | None = None
    account_id: int | None = None
    account_name: str = ""
    lot_ids: list[int] | None = None
    # The lots that can pay, with what they hold, as read under the wallet's lock
    # (`ensure_covered`), in the order they are spent.
    usable: list[tuple[int, int]] | None = None
    approval_policy: Any = None  # the account's approval rules (checkout.approvals), if any


def plan_purchase(
    *,
    learner: User,
    activity_id: int | None,
    group_id: int | None,
    session_id: int | None,
    payment: PaymentChoice,
) -> Plan:
    """Check what a checkout needs, except the lots (`ensure_covered`), and work out what it
    costs; writes nothing."""
    at = clock.now()
    if payment.method not in ("code", "card"):
        raise ValidationError(
            "payment.method must be 'code' or 'card'.", details={"field": "payment.method"}
        )
    if (
        payment.extra_codes
        or (payment.method == "code" and payment.coupon)
        or (payment.method == "card" and payment.code)
    ):
        raise OneCodeOnlyError()
    if payment.method == "code" and not payment.code:
        raise ValidationError("Enter a code.", details={"field": "payment.code"})
    item, session, surely_new = _item_and_session(learner, activity_id, group_id, session_id, at)
    if not surely_new:
        _ensure_not_registered(learner, item)

    entered = payment.code if payment.method == "code" else payment.coupon
    if not entered:
        usd = Unit.objects.get(code=Unit.USD)
        return Plan(
            learner, item, session, usd, item.list_price, 0, item.list_price, Order.Method.CARD
        )
    code = find_code(entered, learner_id=learner.pk, related=_ACCOUNT_RULES)
    if code is None:
        raise CodeNotFoundError()
    if code.kind == RedemptionCode.Kind.COUPON:
        return _coupon_plan(code, learner=learner, item=item, session=session, at=at)
    if payment.method == "card":
        raise OneCodeOnlyError("A training credit or token code cannot be used as a coupon.")
    return _code_plan(code, learner=learner, item=item, session=session, at=at)


# The account's approval rules, read with the code's account.
_ACCOUNT_RULES = ("lot__account__approval_policy", "account__approval_policy")


_LIVE = (Registration.Status.PENDING, Registration.Status.ACTIVE)
# A learner's live registration for an activity, with the group it may have come with.
_HELD_ACTIVITY = ReusedQuery(
    lambda *, learner_id, activity_id: (
        Registration.objects.filter(
            learner_id=learner_id, activity_id=activity_id, status__in=_LIVE
        )
        .select_related("part_of__group")
        .order_by()[:1]
    ),
    values=("learner_id", "activity_id"),
)


def _ensure_not_registered(learner: User, item: Item) -> None:
    """Rule 16: no second live registration for an item, nor for an activity a group holds.

    Raises:
        AlreadyRegisteredError: the learner holds one (named, when it came with a group or is
            one of the group's activities).
    """
    if item.kind == ItemKind.ACTIVITY:
        held = next(iter(_HELD_ACTIVITY.fetch(learner_id=learner.pk, activity_id=item.pk)), None)
        if held is not None and held.part_of is not None:
            raise AlreadyRegisteredError(
                gettext("You are already registered for this activity with %(group)s.")
                % {"group": held.part_of.group.title}
            )
    else:
        live = Registration.objects.filter(learner=learner, status__in=_LIVE)
        held = live.filter(group_id=item.pk).first()
        if held is None:
            held = live.filter(activity__groups=item.pk).select_related("activity").first()
            if held is not None:
                raise AlreadyRegisteredError(
                    gettext("You are already registered for %(activity)s, part of this group.")
                    % {"activity": held.activity.title}
                )
    if held is not None:
        raise AlreadyRegisteredError()


def _bookable_session(*, learner_id: int, session_id: int, activity_id: int) -> QuerySet[Session]:
    held = Registration.objects.filter(
        learner_id=learner_id, activity_id=OuterRef("activity_id"), status__in=_LIVE
    )
    return (
        Session.objects.select_related("activity")
        .annotate(learner_holds_it=Exists(held))
        .filter(
            pk=session_id,
            activity_id=activity_id,
            is_cancelled=False,
            activity__is_published=True,
            activity__is_dated=True,
        )
        .order_by("pk")[:1]
    )


# A session of a published dated activity, with whether the learner holds the activity.
_BOOKABLE_SESSION = ReusedQuery(
    _bookable_session, values=("learner_id", "session_id", "activity_id")
)


def _item_and_session(
    learner: User,
    activity_id: int | None,
    group_id: int | None,
    session_id: int | None,
    at: datetime,
) -> tuple[Item, Session | None, bool]:
    """The item and its session, and whether the learner surely holds no registration for it
    yet. A bookable session of a published dated activity takes one read that answers all
    three; anything else (and every refusal) is read the long way (and checked by
    `_ensure_not_registered`)."""
    if activity_id is not None and group_id is None and session_id is not None:
        session = next(
            iter(
                _BOOKABLE_SESSION.fetch(
                    learner_id=learner.pk, session_id=session_id, activity_id=activity_id
                )
            ),
            None,
        )
        if session is not None:
            check_bookable(session, at)
            return Item(ItemKind.ACTIVITY, session.activity), session, not session.learner_holds_it  # type: ignore[attr-defined]
    item = _item(activity_id, group_id)
    return item, _session(item, session_id, at), False


_PUBLISHED_ACTIVITY = ReusedQuery(
    lambda *, pk: Activity.objects.filter(pk=pk, is_published=True)[:1], values=("pk",)
)


def _item(activity_id: int | None, group_id: int | None) -> Item:
    if (activity_id is None) == (group_id is None):
        raise ValidationError("Choose one activity or one group.", details={"field": "item"})
    if activity_id is not None:
        activity = next(iter(_PUBLISHED_ACTIVITY.fetch(pk=activity_id)), None)
        if activity is None:
            raise NotFoundError("No such activity.")
        return Item(ItemKind.ACTIVITY, activity)
    group = Group.objects.filter(pk=group_id, is_published=True).first()
    if group is None:
        raise NotFoundError("No such group.")
    return Item(ItemKind.GROUP, group)


def _session(item: Item, session_id: int | None, at: datetime) -> Session | None:
    if item.kind != ItemKind.ACTIVITY or not item.obj.is_dated:  # type: ignore[union-attr]
        if session_id is not None:
            raise ValidationError(
                "This item has no sessions to choose.", details={"field": "session"}
            )
        return None
    if session_id is None:
        raise SessionRequiredError()
    session = Session.objects.filter(pk=session_id, activity_id=item.pk, is_cancelled=False).first()
    if session is None:
        raise NotFoundError("No such session.", details={"field": "session"})
    check_bookable(session, at)
    return session


def check_bookable(session: Session, at: datetime) -> None:
    if session.starts_at <= at:
        raise SessionStartedError()
    if session.booked >= session.capacity:
        raise SessionFullError()


def _coupon_plan(
    code: RedemptionCode, *, learner: User, item: Item, session: Session | None, at: datetime
) -> Plan:
    coupon = code.coupon
    assert coupon is not None
    if (
        code.is_deleted
        or coupon.deleted_at
        or code.status != RedemptionCode.Status.ACTIVE
        or coupon.status != Coupon.Status.ACTIVE
    ):
        raise CodeInactiveError()
    if coupon.valid_from and coupon.valid_from > at:
        raise CodeInactiveError("This coupon is not valid yet.")
    if coupon.valid_until and coupon.valid_until <= at:
        raise CodeExpiredError()
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        raise CodeInactiveError("This coupon has been used up.")
    if (
        coupon.once_per_learner
        and CouponUse.objects.filter(coupon=coupon, learner=learner).exists()
    ):
        raise NotEligibleError("You have already used this coupon.")
    if not _coupon_covers(coupon, item):
        raise NotInScopeError()
    price = item.list_price
    if coupon.percent_off_bp is not None:
        discount = (price * coupon.percent_off_bp + 5000) // 10000
    else:
        discount = min(coupon.amount_off or 0, price)
    payable = price - discount
    usd = Unit.objects.get(code=Unit.USD)
    method = Order.Method.COUPON if payable == 0 else Order.Method.CARD
    return Plan(learner, item, session, usd, price, discount, payable, method, coupon=coupon)


def _coupon_covers(coupon: Coupon, item: Item) -> bool:
    if coupon.scope_kind not in (ScopeKind.ANY, item.kind):
        return False
    return (
        coupon.scope_all or coupon.scope_items.filter(item_kind=item.kind, item_id=item.pk).exists()
    )


def _code_plan(
    code: RedemptionCode,
    *,
    learner: User,
    item: Item,
    session: Session | None,
    at: datetime,
) -> Plan:
    """What a credit, token or member code would pay, from what does not change under the
    wallet's lock (the code, its account, the learner's membership, the price); the lots
    themselves are checked by `ensure_covered`, under the lock."""
    lot = code.lot
    account_id = lot.account_id if lot is not None else code.account_id
    if code.is_deleted or code.status != RedemptionCode.Status.ACTIVE:
        raise CodeInactiveError()
    # The account and its approval rules (SPEC §7, checkout.approvals) came with the code.
    account = lot.account if lot is not None else code.account
    assert account is not None
    is_member = code.learner_is_member  # type: ignore[attr-defined]
    if account.redeemer_policy == TrainingAccount.RedeemerPolicy.MEMBERS and not is_member:
        raise NotEligibleError()
    if code.kind == RedemptionCode.Kind.MEMBER and (code.member_id != learner.pk or not is_member):
        raise NotEligibleError()
    unit = lot.unit if lot is not None else code.unit
    assert unit is not None
    if unit.code != Unit.USD and not pay_by_tokens():
        raise NotPricedInUnitError("Paying by tokens is not offered.")
    price = price_in_unit(item, unit)
    if price is None:
        raise NotPricedInUnitError()
    method = Order.Method.TRAINING_CREDIT if unit.code == Unit.USD else Order.Method.TOKENS
    return Plan(
        learner,
        item,
        session,
        unit,
        price,
        0,
        price,
        method,
        code=code,
        account_id=account_id,
        account_name=account.name,
        lot_ids=[lot.pk] if lot is not None else None,
        approval_policy=getattr(account, "approval_policy", None),
    )


def _spendable_lots(
    *, account_id: int, unit_id: int, item_kind: str, item_id: int
) -> QuerySet[Lot]:
    """The account's lots with value left, in the order they are spent: (pk, remaining,
    expires_at, in_scope) each. Expiry is the reader's to judge: the read goes out with the
    wallet's lock, before the moment it is held (which decides) is known."""
    ref = ItemRef(item_kind, item_id)
    return (
        Lot.objects.filter(
            account_id=account_id,
            unit_id=unit_id,
            status=Lot.Status.ACTIVE,
            deleted_at__isnull=True,
            remaining__gt=0,
        )
        .annotate(in_scope=ExpressionWrapper(in_scope_of(ref), output_field=BooleanField()))
        .order_by(*allocation_order())
        .values_list("pk", "remaining", "expires_at", "in_scope")
    )


def _code_lot(*, lot_id: int, item_kind: str, item_id: int) -> QuerySet[Lot]:
    """The one lot of a code that names it: (pk, remaining, expires_at, in_scope, status,
    deleted_at)."""
    ref = ItemRef(item_kind, item_id)
    return (
        Lot.objects.filter(pk=lot_id)
        .annotate(in_scope=ExpressionWrapper(in_scope_of(ref), output_field=BooleanField()))
        .values_list("pk", "remaining", "expires_at", "in_scope", "status", "deleted_at")
    )


# Read under the wallet's lock in every checkout by a code: compiled once.
_SPENDABLE_LOTS = ReusedQuery(_spendable_lots, values=("account_id", "unit_id", "item_id"))
_CODE_LOT = ReusedQuery(_code_lot, values=("lot_id", "item_id"))
_MEMBER_SPENT = ReusedQuery(
    lambda *, code_id: RedemptionCode.objects.filter(pk=code_id).values_list("spent"),
    values=("code_id",),
)


@dataclass
class LotReads:
    """What `ensure_covered` reads of the code's lots (and a member code's spending), sent
    with the wallet's lock (`lock_wallet(reads=)`): its rows, once that round trip is back."""

    lots: Rows = field(default_factory=Rows)
    spent: Rows = field(default_factory=Rows)


def send_lot_reads(plan: Plan, reads: LotReads) -> None:
    """Send the reads `ensure_covered` decides on (none for a card or a coupon)."""
    code = plan.code
    if code is None or code.kind == RedemptionCode.Kind.COUPON:
        return
    ref = ItemRef(plan.item.kind, plan.item.pk)
    if code.lot_id is not None:
        _CODE_LOT.send(reads.lots.keep, lot_id=code.lot_id, item_kind=ref.kind, item_id=ref.item_id)
    else:
        _SPENDABLE_LOTS.send(
            reads.lots.keep,
            account_id=plan.account_id,
            unit_id=plan.unit.pk,
            item_kind=ref.kind,
            item_id=ref.item_id,
        )
    if code.kind == RedemptionCode.Kind.MEMBER and code.cap is not None:
        _MEMBER_SPENT.send(reads.spent.keep, code_id=code.pk)


def ensure_covered(plan: Plan, at: datetime, reads: LotReads | None = None) -> None:
    """Whether the code's lots can pay the plan at `at` (rules 11, 13, 21), from `reads` as
    sent with the wallet's lock (checkout: the lots cannot change under it), or read now (a
    quote). Notes the lots that can pay in `plan.usable`, in the order they are spent.

    Raises:
        CodeInactiveError, CodeExpiredError: the code's own lot is inactive, deleted or expired
            (or every live lot of a pool code has expired).
        NotInScopeError: no lot the code may spend covers the item.
        InsufficientBalanceError: what it may spend does not cover the price.
    """
    code = plan.code
    if code is None or code.kind == RedemptionCode.Kind.COUPON:
        return
    if reads is None:
        reads = LotReads()
        send_lot_reads(plan, reads)
    if code.lot_id is not None:
        if not reads.lots.rows:
            raise CodeInactiveError()
        ((pk, remaining, expires_at, in_scope, status, deleted_at),) = reads.lots.rows
        if deleted_at is not None or status != Lot.Status.ACTIVE:
            raise CodeInactiveError()
        if expired(expires_at, at):
            raise CodeExpiredError()
        if not in_scope:
            raise NotInScopeError()
        plan.usable = [(pk, remaining)]
    else:
        # The lots with value left tell the three outcomes apart: nothing live (expired or
        # empty), nothing live for this item, or how much the item may spend; the debit then
        # spends those found.
        lots = reads.lots.rows
        live = [
            (pk, left, scoped)
            for pk, left, expires_at, scoped in lots
            if not expired(expires_at, at)
        ]
        if not live:
            if lots:
                raise CodeExpiredError()
            raise InsufficientBalanceError()
        plan.usable = [(pk, left) for pk, left, scoped in live if scoped]
        if not plan.usable:
            raise NotInScopeError()
    available = sum(left for _, left in plan.usable)
    if code.kind == RedemptionCode.Kind.MEMBER and code.cap is not None:
        ((spent,),) = reads.spent.rows
        available = min(available, code.cap - spent)
    if plan.payable > available:
        raise InsufficientBalanceError()
