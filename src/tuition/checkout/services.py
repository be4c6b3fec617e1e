"""Checkout and what follows it: quote, pay (card, coupon, training credit, tokens), book,
reschedule, unenroll, cancel (with or without refund), mark invoice orders paid, buy refills.

One checkout is one short transaction: lock the code's wallet first, re-read and decide under
the lock, take the seat with a guarded update, debit through the ledger, then write order,
registration, booking, invoice, receipt and the notification event. Anything that fails rolls
all of it back. Failed code entries are counted (codes.limiter) after the rollback.
"""

import math
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum

from tuition.accounts.models import Membership, TrainingAccount, User
from tuition.accounts.services import get_or_create_user, normalize_email
from tuition.catalog.models import Activity, Group, RefillPrice, Session
from tuition.catalog.selectors import Item, price_in_unit
from tuition.codes import limiter, text
from tuition.codes import services as codes
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
from tuition.codes.selectors import find_code, wallet_of_code
from tuition.core import clock
from tuition.core.amounts import MAX_MINOR, amount_error, format_amount
from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.faults import fault_point
from tuition.core.features import pay_by_tokens
from tuition.core.transactions import use_case
from tuition.ledger import services as ledger
from tuition.ledger.errors import InsufficientBalanceError
from tuition.ledger.locks import lock_wallet
from tuition.ledger.models import Lot, Unit
from tuition.ledger.selectors import ItemRef, in_scope_of, lot_covers
from tuition.notifications import events, personal

from .errors import (
    AlreadyCancelledError,
    AlreadyRegisteredError,
    NotCancellableError,
    PaymentDeclinedError,
    RefundNotAllowedError,
    SessionFullError,
    SessionRequiredError,
    SessionStartedError,
)
from .locks import lock_registration, lock_sessions
from .models import (
    Booking,
    DocumentCounter,
    Invoice,
    ItemKind,
    Order,
    Receipt,
    Registration,
)
from .payments import PaymentProvider, PaymentResult, get_provider

# Refusals that count as a failed code entry (rule 27): only a failed look-up. Refusing a valid
# code (balance, scope, unit, eligibility, seats) is never a guess, and counts for nobody.
_CODE_FAILURES = (CodeNotFoundError, CodeInactiveError, CodeExpiredError)


# --- inputs and outputs ----------------------------------------------------------------------


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

    def as_dict(self) -> dict[str, Any]:
        usd = Unit.objects.get(code=Unit.USD) if self.unit.code != Unit.USD else self.unit
        return {
            "item": {"kind": self.item_kind, "id": str(self.item_id), "title": self.title},
            "list_price": {"amount": usd.format(self.list_price), "unit": Unit.USD},
            "price": {"amount": self.unit.format(self.price), "unit": self.unit.code},
            "discount": {"amount": self.unit.format(self.discount), "unit": self.unit.code},
            "payable": {"amount": self.unit.format(self.payable), "unit": self.unit.code},
            "method": self.method,
        }


@dataclass
class CheckoutResult:
    order: Order
    registration: Registration
    bookings: list[Booking]
    invoice: Invoice
    receipt: Receipt | None

    @property
    def booking(self) -> Booking | None:
        return self.bookings[0] if self.bookings else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "order": order_dict(self.order),
            "registration": {"id": str(self.registration.pk), "status": self.registration.status},
            "booking": (
                {"id": str(self.booking.pk), "session": str(self.booking.session_id)}
                if self.booking
                else None
            ),
            "receipt": {"number": self.receipt.number} if self.receipt else None,
            "invoice": {"number": self.invoice.number},
        }


def order_dict(order: Order) -> dict[str, Any]:
    usd = Unit.objects.get(code=Unit.USD)
    return {
        "id": str(order.pk),
        "number": order.number,
        "status": order.status,
        "list_price": {"amount": usd.format(order.list_price), "unit": Unit.USD},
        "price": {"amount": order.unit.format(order.price), "unit": order.unit.code},
        "discount": {"amount": order.unit.format(order.discount), "unit": order.unit.code},
        "charged": {"amount": order.unit.format(order.charged), "unit": order.unit.code},
        "method": order.method,
        "code_hint": order.code_hint or None,
    }


@dataclass
class _Plan:
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


@dataclass
class CodeEntry:
    """One code entered at checkout, as the attempt limiter sees it (SPEC rule 27): counted
    against the learner (per API key, when one is used) and the client IP before the code is
    looked up."""

    keys: list[limiter.Key] = field(default_factory=list)
    entered_code: bool = False


@contextmanager
def counted_code_entry(
    *,
    learner_email: str,
    payment: PaymentChoice,
    ip: str | None = None,
    api_key: str | None = None,
) -> Iterator[CodeEntry]:
    """Count the code entry of a quote or checkout around the work that checks it.

    The learner's and the IP's attempt is taken (and committed) before the code is looked
    at, so parallel guesses cannot overrun the limit; it is given back when the entry was not a
    failed look-up, and confirmed (locking the key out at its limit) when it was. Entries made
    with an API key count per key and learner, never per IP: the integrating system's server
    speaks for all its learners, who must not lock each other out. Run it outside
    any transaction: `checkout` and `quote` do; an interface that wraps checkout in a
    transaction of its own (the API's idempotency) runs it around that transaction and passes
    the entry in.

    Raises:
        TooManyAttemptsError: the learner or the IP is locked out (nothing else is checked).
        ValidationError: not an email address.
    """
    entry = CodeEntry()
    entered = payment.code if payment.method == "code" else payment.coupon
    if entered:
        learner = learner_for(learner_email)
        entry.entered_code = True
        entry.keys = limiter.keys_for(learner_id=learner.pk, ip=ip, api_key=api_key)
        limiter.reserve(entry.keys)
    try:
        yield entry
    except _CODE_FAILURES:
        limiter.settle_failure(entry.keys)
        raise
    except BaseException:
        limiter.release(entry.keys)
        raise
    limiter.release(entry.keys)


# --- quote and checkout ----------------------------------------------------------------------


def learner_for(email: str, name: str = "") -> User:
    """The learner with this email, created on first use; two first checkouts of one new
    learner at the same moment both get the same person.

    Raises:
        ValidationError: not an email address.
    """
    known = User.objects.filter(email=normalize_email(email)).first()
    if known is not None and (known.name or not name):
        return known  # the common case: one read, no transaction
    try:
        with transaction.atomic():
            return get_or_create_user(email=email, name=name)
    except IntegrityError:
        return get_or_create_user(email=email, name=name)


def quote(
    *,
    learner_email: str,
    payment: PaymentChoice,
    actor: str,
    activity_id: int | None = None,
    group_id: int | None = None,
    session_id: int | None = None,
    ip: str | None = None,
    api_key: str | None = None,
) -> Quote:
    """What checkout would charge, or the error it would give. Writes nothing but the
    failed-attempt counters.

    Raises:
        the same errors as `checkout` (except those only the payment itself can give).
    """
    with counted_code_entry(learner_email=learner_email, payment=payment, ip=ip, api_key=api_key):
        learner = learner_for(learner_email)
        plan = _plan(
            learner=learner,
            activity_id=activity_id,
            group_id=group_id,
            session_id=session_id,
            payment=payment,
        )
    return Quote(
        item_kind=plan.item.kind,
        item_id=plan.item.pk,
        title=plan.item.title,
        list_price=plan.item.list_price,
        unit=plan.unit,
        price=plan.price,
        discount=plan.discount,
        payable=plan.payable,
        method=plan.method,
    )


def checkout(
    *,
    learner_email: str,
    payment: PaymentChoice,
    actor: str,
    activity_id: int | None = None,
    group_id: int | None = None,
    session_id: int | None = None,
    learner_name: str = "",
    ip: str | None = None,
    api_key: str | None = None,
    code_entry: CodeEntry | None = None,
) -> CheckoutResult:
    """Buy an activity or a group for a learner (identified by email, created on first use).

    Raises:
        ValidationError: malformed input (no item, a bad code, an unknown provider, a session
            of another activity).
        NotFoundError: no such activity, group or session.
        TooManyAttemptsError: too many failed code entries (nothing else is checked).
        CodeNotFoundError, CodeInactiveError, CodeExpiredError, NotEligibleError,
        NotInScopeError, NotPricedInUnitError, InsufficientBalanceError, OneCodeOnlyError:
            rules 10-14.
        SessionRequiredError, SessionFullError, SessionStartedError: rule 15.
        AlreadyRegisteredError: rule 16.
        PaymentDeclinedError: the card was refused.
    """
    if code_entry is not None:  # counted by the caller, around its own transaction
        learner = learner_for(learner_email, learner_name)
        return _checkout(
            learner=learner,
            activity_id=activity_id,
            group_id=group_id,
            session_id=session_id,
            payment=payment,
            actor=actor,
        )
    with counted_code_entry(learner_email=learner_email, payment=payment, ip=ip, api_key=api_key):
        learner = learner_for(learner_email, learner_name)
        return _checkout(
            learner=learner,
            activity_id=activity_id,
            group_id=group_id,
            session_id=session_id,
            payment=payment,
            actor=actor,
        )


@use_case
def _checkout(
    *,
    learner: User,
    activity_id: int | None,
    group_id: int | None,
    session_id: int | None,
    payment: PaymentChoice,
    actor: str,
) -> CheckoutResult:
    # Resolve the code once to learn which wallet to lock, then decide everything under it.
    wallet = _wallet_of(payment)
    if wallet is not None:
        lock_wallet(*wallet)
    plan = _plan(
        learner=learner,
        activity_id=activity_id,
        group_id=group_id,
        session_id=session_id,
        payment=payment,
    )
    at = clock.now()
    if plan.session is not None:
        _take_seat(plan.session.pk, at)
    if plan.coupon is not None:
        _use_coupon(plan.coupon, learner=learner)
    transfer = None
    status = Order.Status.PAID
    provider_name, reference, method = "", "", plan.method
    if plan.code is not None and plan.payable > 0:
        if plan.code.kind == RedemptionCode.Kind.MEMBER and not codes.add_member_spend(
            code_id=plan.code.pk, amount=plan.payable
        ):
            raise InsufficientBalanceError()
        transfer = ledger.debit(
            account_id=plan.account_id,
            unit=plan.unit,
            amount=plan.payable,
            actor=actor,
            item=ItemRef(plan.item.kind, plan.item.pk),
            lot_ids=plan.lot_ids,
            reason=f"checkout: {plan.item.title}"[:500],
            metadata={"learner": learner.email, "item": f"{plan.item.kind}:{plan.item.pk}"},
        )
    elif plan.method == Order.Method.CARD:
        provider = get_provider(payment.provider)
        result = _charge(provider, plan, card_number=payment.card_number)
        provider_name, reference, method = provider.name, result.reference, provider.method
        if not result.paid:
            status = Order.Status.PENDING_PAYMENT
    entered = plan.code or (plan.coupon.code if plan.coupon else None)
    order = Order.objects.create(
        number=_order_number(at),
        learner=learner,
        account_id=plan.account_id,
        item_kind=plan.item.kind,
        activity=plan.item.obj if plan.item.kind == ItemKind.ACTIVITY else None,
        group=plan.item.obj if plan.item.kind == ItemKind.GROUP else None,
        session=plan.session,
        title=plan.item.title[:200],
        list_price=plan.item.list_price,
        unit=plan.unit,
        price=plan.price,
        discount=plan.discount,
        charged=plan.payable,
        method=method,
        provider=provider_name,
        payment_reference=reference,
        status=status,
        code=plan.code,
        coupon=plan.coupon,
        code_hint=entered.hint if entered else "",
        transfer=transfer,
        created_at=at,
        paid_at=at if status == Order.Status.PAID else None,
        actor=actor[:200],
    )
    if plan.coupon is not None:
        CouponUse.objects.filter(coupon=plan.coupon, learner=learner, order_id=None).update(
            order_id=order.pk
        )
    registration = _register(
        order, learner=learner, item=plan.item, at=at, active=status == Order.Status.PAID
    )
    bookings = []
    if plan.session is not None:
        bookings.append(
            Booking.objects.create(
                registration=registration,
                activity_id=plan.session.activity_id,
                session=plan.session,
                created_at=at,
            )
        )
    paid = status == Order.Status.PAID
    # The learner's confirmation and the account's redemption notice: one insert of both. The
    # confirmation names the order; its receipt and invoice are in My learning.
    notices = (
        [
            personal.registration_confirmed(
                order=order,
                registration=registration,
                learner=learner,
                session=plan.session,
                account_name=plan.account_name,
            )
        ]
        if paid
        else []
    )
    if transfer is not None:
        notices.append(
            events.pending(
                events.CREDIT_REDEEMED,
                account_id=plan.account_id,
                data={
                    "unit": plan.unit.code,
                    "amount": plan.unit.format(plan.payable),
                    "lot_ids": [str(e.lot_id) for e in transfer.entries.all() if e.lot_id],
                    "order_number": order.number,
                    "learner_email": learner.email,
                    "item_title": plan.item.title,
                    "account_name": plan.account_name,
                },
            )
        )
    events.record_many(notices)
    # Numbered last: the yearly counters are one row for every checkout of every account, and
    # each is held from its update until commit, so nothing else may run after them.
    invoice = _issue_document(Invoice, order, at)
    receipt = _issue_document(Receipt, order, at) if paid else None
    fault_point("after_entries_before_commit")
    return CheckoutResult(order, registration, bookings, invoice, receipt)


def _charge(provider: PaymentProvider, plan: _Plan, *, card_number: str | None) -> PaymentResult:
    """Charge what the card pays. A coupon that leaves something to pay needs a card for it,
    whichever method the learner picked first (SPEC rule 9).

    Raises:
        PaymentDeclinedError: no card, or the card was refused.
    """
    if plan.coupon is not None and provider.method == Order.Method.CARD and not card_number:
        rest = format_amount(plan.payable, decimals=plan.unit.decimals)
        raise PaymentDeclinedError(
            f"The coupon leaves ${rest} to pay by card: enter a card number.",
            details={"field": "payment.card_number", "payable": rest},
        )
    return provider.charge(
        amount=plan.payable, description=plan.item.title, card_number=card_number
    )


def _wallet_of(payment: PaymentChoice) -> tuple[int, int] | None:
    if payment.method != "code" or not payment.code:
        return None
    return wallet_of_code(payment.code)


def _plan(
    *,
    learner: User,
    activity_id: int | None,
    group_id: int | None,
    session_id: int | None,
    payment: PaymentChoice,
) -> _Plan:
    """Check everything a checkout needs and work out what it costs; writes nothing."""
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
    item = _item(activity_id, group_id)
    session = _session(item, session_id, at)
    _ensure_not_registered(learner, item)

    entered = payment.code if payment.method == "code" else payment.coupon
    if not entered:
        usd = Unit.objects.get(code=Unit.USD)
        return _Plan(
            learner, item, session, usd, item.list_price, 0, item.list_price, Order.Method.CARD
        )
    code = find_code(entered)
    if code is None:
        raise CodeNotFoundError()
    if code.kind == RedemptionCode.Kind.COUPON:
        return _coupon_plan(code, learner=learner, item=item, session=session, at=at)
    if payment.method == "card":
        raise OneCodeOnlyError("A training credit or token code cannot be used as a coupon.")
    return _code_plan(code, learner=learner, item=item, session=session, at=at)


def _ensure_not_registered(learner: User, item: Item) -> None:
    """Rule 16: no second live registration for an item, nor for an activity a group holds.

    Raises:
        AlreadyRegisteredError: the learner holds one (named, when it came with a group or is
            one of the group's activities).
    """
    live = Registration.objects.filter(
        learner=learner, status__in=[Registration.Status.PENDING, Registration.Status.ACTIVE]
    )
    if item.kind == ItemKind.ACTIVITY:
        held = live.filter(activity_id=item.pk).select_related("part_of__group").first()
        if held is not None and held.part_of is not None:
            raise AlreadyRegisteredError(
                f"You are already registered for this activity with {held.part_of.group.title}."
            )
    else:
        held = live.filter(group_id=item.pk).first()
        if held is None:
            held = live.filter(activity__groups=item.pk).select_related("activity").first()
            if held is not None:
                raise AlreadyRegisteredError(
                    f"You are already registered for {held.activity.title}, part of this group."
                )
    if held is not None:
        raise AlreadyRegisteredError()


def _item(activity_id: int | None, group_id: int | None) -> Item:
    if (activity_id is None) == (group_id is None):
        raise ValidationError("Choose one activity or one group.", details={"field": "item"})
    if activity_id is not None:
        activity = Activity.objects.filter(pk=activity_id, is_published=True).first()
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
    _check_bookable(session, at)
    return session


def _check_bookable(session: Session, at: datetime) -> None:
    if session.starts_at <= at:
        raise SessionStartedError()
    if session.booked >= session.capacity:
        raise SessionFullError()


def _coupon_plan(
    code: RedemptionCode, *, learner: User, item: Item, session: Session | None, at: datetime
) -> _Plan:
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
    return _Plan(learner, item, session, usd, price, discount, payable, method, coupon=coupon)


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
) -> _Plan:
    lot = code.lot
    account_id = lot.account_id if lot is not None else code.account_id
    if code.is_deleted or code.status != RedemptionCode.Status.ACTIVE:
        raise CodeInactiveError()
    if lot is not None:
        lot.refresh_from_db()
        if lot.is_deleted or lot.status != Lot.Status.ACTIVE:
            raise CodeInactiveError()
        if lot.is_expired_at(at):
            raise CodeExpiredError()
    account = TrainingAccount.objects.get(pk=account_id)
    is_member = Membership.objects.filter(account_id=account_id, user=learner).exists()
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
    ref = ItemRef(item.kind, item.pk)
    lot_ids = [lot.pk] if lot is not None else None
    if lot is not None:
        if not lot_covers(lot, ref):
            raise NotInScopeError()
        available = lot.remaining
    else:
        # One query tells the three outcomes apart: nothing live (expired or empty), nothing
        # live for this item, or how much the item may spend.
        unexpired = Q(expires_at__isnull=True) | Q(expires_at__gt=at)
        pool = Lot.objects.filter(
            account_id=account_id,
            unit=unit,
            status=Lot.Status.ACTIVE,
            deleted_at__isnull=True,
            remaining__gt=0,
        ).aggregate(
            live=Count("id", filter=unexpired),
            expired=Count("id", filter=~unexpired),
            in_scope=Sum("remaining", filter=unexpired & in_scope_of(ref)),
        )
        if not pool["live"]:
            if pool["expired"]:
                raise CodeExpiredError()
            raise InsufficientBalanceError()
        if not pool["in_scope"]:
            raise NotInScopeError()
        available = pool["in_scope"]
    if code.kind == RedemptionCode.Kind.MEMBER and code.cap is not None:
        code.refresh_from_db(fields=["spent"])
        available = min(available, code.cap - code.spent)
    if price > available:
        raise InsufficientBalanceError()
    method = Order.Method.TRAINING_CREDIT if unit.code == Unit.USD else Order.Method.TOKENS
    return _Plan(
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
        lot_ids=lot_ids,
    )


# --- writes shared by checkout and the after-checkout services -------------------------------


def _take_seat(session_id: int, at: datetime) -> None:
    """Book one seat with a guarded update (the row lock is held until commit)."""
    taken = Session.objects.filter(
        pk=session_id, is_cancelled=False, starts_at__gt=at, booked__lt=F("capacity")
    ).update(booked=F("booked") + 1)
    if taken != 1:
        session = Session.objects.get(pk=session_id)
        if session.is_cancelled:
            raise NotFoundError("No such session.", details={"field": "session"})
        _check_bookable(session, at)
        raise SessionFullError()


def _free_seat(session_id: int) -> None:
    Session.objects.filter(pk=session_id, booked__gt=0).update(booked=F("booked") - 1)


def _use_coupon(coupon: Coupon, *, learner: User) -> None:
    used = (
        Coupon.objects.filter(pk=coupon.pk)
        .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
        .update(uses=F("uses") + 1)
    )
    if used != 1:
        raise CodeInactiveError("This coupon has been used up.")
    once_key = f"{coupon.pk}:{learner.pk}" if coupon.once_per_learner else None
    try:
        with transaction.atomic():
            CouponUse.objects.create(
                coupon=coupon, learner=learner, once_key=once_key, created_at=clock.now()
            )
    except IntegrityError as exc:
        raise NotEligibleError("You have already used this coupon.") from exc


def _register(
    order: Order, *, learner: User, item: Item, at: datetime, active: bool
) -> Registration:
    """The order's registration, and for a group one per activity it holds (SPEC §2)."""
    status = Registration.Status.ACTIVE if active else Registration.Status.PENDING
    try:
        with transaction.atomic():
            registration = Registration.objects.create(
                learner=learner,
                order=order,
                item_kind=item.kind,
                activity=item.obj if item.kind == ItemKind.ACTIVITY else None,
                group=item.obj if item.kind == ItemKind.GROUP else None,
                status=status,
                created_at=at,
            )
            if item.kind == ItemKind.GROUP:
                Registration.objects.bulk_create(
                    Registration(
                        learner=learner,
                        part_of=registration,
                        item_kind=ItemKind.ACTIVITY,
                        activity_id=activity_id,
                        status=status,
                        created_at=at,
                    )
                    for activity_id in item.obj.activities.values_list("pk", flat=True)  # type: ignore[union-attr]
                )
            return registration
    except IntegrityError as exc:  # a concurrent checkout of the same learner and item won
        raise AlreadyRegisteredError() from exc


def _order_number(at: datetime) -> str:
    # Order numbers only need to be unique and unguessable; receipts and invoices carry the
    # gap-free sequences, so orders do not queue on a counter.
    return f"{at.year}-{''.join(secrets.choice(text.ALPHABET) for _ in range(10))}"


def next_number(kind: str, year: int) -> int:
    """The next number of a gap-free yearly sequence. The UPDATE holds the counter's row lock
    until commit, so a rolled-back transaction gives its number back."""
    table = DocumentCounter._meta.db_table
    sql = f"UPDATE {table} SET last = last + 1 WHERE kind = %s AND year = %s RETURNING last"
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind, year])
        row = cursor.fetchone()
        if row is None:  # the first number of the year
            DocumentCounter.objects.bulk_create(
                [DocumentCounter(kind=kind, year=year, last=0)], ignore_conflicts=True
            )
            cursor.execute(sql, [kind, year])
            row = cursor.fetchone()
    return row[0]


_PREFIX = {Invoice: "INV", Receipt: "R"}


def _issue_document(model: type[Invoice] | type[Receipt], order: Order, at: datetime):  # type: ignore[no-untyped-def]
    kind = "invoice" if model is Invoice else "receipt"
    sequence = next_number(kind, at.year)
    return model.objects.create(
        order=order,
        year=at.year,
        sequence=sequence,
        number=f"{_PREFIX[model]}-{at.year}-{sequence:06d}",
        issued_at=at,
        amount=order.charged,
        unit=order.unit,
        list_price=order.list_price,
    )


# --- after checkout ----------------------------------------------------------------------------


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


@use_case
def book_session(
    *,
    registration_id: int,
    session_id: int,
    actor: str,
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
    _take_seat(session.pk, at)
    booking = Booking.objects.create(
        registration=registration, activity=activity, session=session, created_at=at
    )
    _tell_learner("booked", registration, booking, activity, learner, session)
    return booking


@use_case
def reschedule_booking(
    *,
    registration_id: int,
    session_id: int,
    actor: str,
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
    _take_seat(target.pk, at)
    _free_seat(current.session_id)
    Booking.objects.filter(pk=current.pk).update(status=Booking.Status.MOVED, ended_at=at)
    booking = Booking.objects.create(
        registration=registration, activity=activity, session=target, created_at=at
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


@use_case
def unenroll_from_session(
    *, registration_id: int, actor: str, learner: User | None = None, activity_id: int | None = None
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
    _free_seat(session.pk)
    Booking.objects.filter(pk=current.pk).update(status=Booking.Status.CANCELLED, ended_at=at)
    current.refresh_from_db()
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


@use_case
def cancel_registration(
    *,
    registration_id: int,
    actor: str,
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
        _free_seat(booking.session_id)
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


def _refund(order: Order, *, actor: str, at: datetime) -> None:
    if order.status == Order.Status.REFUNDED:
        from tuition.ledger.errors import AlreadyReversedError

        raise AlreadyReversedError()
    reversal = None
    if order.transfer_id is not None:
        reversal = ledger.reverse_transfer(
            transfer_id=order.transfer_id, actor=actor, reason=f"refund of order {order.number}"
        )
        if order.code_id is not None and order.code.kind == RedemptionCode.Kind.MEMBER:
            codes.add_member_spend(code_id=order.code_id, amount=-order.charged)
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.REFUNDED, cancelled_at=at, refund_transfer=reversal
    )


@use_case
def mark_order_paid(*, order_id: int, actor: str, reference: str = "") -> Order:
    """Record that an invoice order was paid: its registration becomes active (or its refill
    lot is issued) and it gets a receipt. Marking a paid order again changes nothing.

    Raises:
        NotFoundError: no such order.
        ValidationError: the order was cancelled.
    """
    order = Order.objects.select_for_update().filter(pk=order_id).select_related("unit").first()
    if order is None:
        raise NotFoundError("No such order.")
    if order.status == Order.Status.PAID:
        return order
    if order.status != Order.Status.PENDING_PAYMENT:
        raise ValidationError("This order was cancelled.")
    at = clock.now()
    if order.item_kind == ItemKind.REFILL:
        _deliver_refill(order, actor=actor)
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
    _issue_document(Receipt, order, at)  # numbered last, like at checkout
    return order


# --- refills -----------------------------------------------------------------------------------


def refill_price(unit: Unit, amount: int) -> int:
    """USD cents for `amount` minor units of `unit` (rounded up to the cent).

    Raises:
        NotPricedInUnitError: no refill price for this token type.
    """
    if unit.code == Unit.USD:
        return amount
    price = RefillPrice.objects.filter(unit=unit, is_active=True).first()
    if price is None:
        raise NotPricedInUnitError("This token type cannot be bought as a refill.")
    return math.ceil(amount * price.unit_price / 10**unit.decimals)


@use_case
def purchase_refill(
    *,
    account_id: int,
    unit: Unit,
    amount: int,
    buyer_email: str,
    actor: str,
    provider: str = "sandbox",
    card_number: str | None = None,
) -> Order:
    """An account owner buys more value. Paid by card (sandbox) the lot is issued at once;
    by invoice when the order is marked paid. The lot expires by the unit's policy.

    Raises:
        ValidationError: a non-positive amount or an unknown provider.
        NotFoundError: no such account.
        NotPricedInUnitError: the token type has no refill price.
        PaymentDeclinedError: the card was refused.
    """
    if not (isinstance(amount, int) and 0 < amount <= MAX_MINOR):
        raise amount_error("amount", "not_positive")
    if not TrainingAccount.objects.filter(pk=account_id).exists():
        raise NotFoundError("No such account.")
    buyer = learner_for(buyer_email)
    price = refill_price(unit, amount)
    payment = get_provider(provider)
    result = payment.charge(
        amount=price, description=f"Refill {unit.code}", card_number=card_number
    )
    at = clock.now()
    usd = Unit.objects.get(code=Unit.USD)
    order = Order.objects.create(
        number=_order_number(at),
        learner=buyer,
        account_id=account_id,
        item_kind=ItemKind.REFILL,
        title=f"Refill: {unit.format(amount)} {unit.code}",
        list_price=price,
        unit=usd,
        price=price,
        discount=0,
        charged=price,
        method=payment.method,
        provider=payment.name,
        payment_reference=result.reference,
        status=Order.Status.PAID if result.paid else Order.Status.PENDING_PAYMENT,
        refill_unit=unit,
        refill_amount=amount,
        created_at=at,
        paid_at=at if result.paid else None,
        actor=actor[:200],
    )
    if result.paid:
        _deliver_refill(order, actor=actor)
        order.save(update_fields=["refill_lot"])
    # Numbered last: after the wallet lock the refill takes, in the same order as checkout.
    _issue_document(Invoice, order, at)
    if result.paid:
        _issue_document(Receipt, order, at)
    return order


def _deliver_refill(order: Order, *, actor: str) -> None:
    unit = order.refill_unit
    assert unit is not None and order.account_id is not None and order.refill_amount
    issued = codes.create_credit(
        account_id=order.account_id,
        unit=unit,
        redeemable_value=order.refill_amount,
        actor=actor,
        purchase_price=order.charged,
        source=Lot.Source.PURCHASE,
        external_id=order.number,
        notes=f"Refill, order {order.number}",
    )
    order.refill_lot = issued.lot
    events.record(
        events.REFILL_PURCHASED,
        account_id=order.account_id,
        data={
            "lot_id": str(issued.lot.pk),
            "unit": unit.code,
            "amount": unit.format(issued.lot.redeemable_value),
            "price": order.unit.format(order.charged),
            "expires_at": issued.lot.expires_at.isoformat() if issued.lot.expires_at else None,
            "order_number": order.number,
            "account_name": issued.lot.account.name,
        },
    )


__all__ = [
    "CheckoutResult",
    "PaymentChoice",
    "Quote",
    "book_session",
    "cancel_registration",
    "checkout",
    "mark_order_paid",
    "next_number",
    "order_dict",
    "purchase_refill",
    "quote",
    "refill_price",
    "refund_window_open",
    "reschedule_booking",
    "unenroll_from_session",
]
