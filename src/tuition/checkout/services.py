"""Checkout: quote and pay (card, coupon, training credit, tokens). What follows a checkout
lives in `after_checkout`, refills in `refills`, pricing decisions in `pricing`, numbered
documents in `documents`; this module also gathers their use cases for the interfaces.

One checkout is one short transaction: read and decide what cannot change under the code's
wallet lock (item, session, code, account, membership, price), take the lock, check the lots,
take the seat with a guarded update, debit through the ledger, then write order, registration,
booking, the notification events, invoice and receipt. Anything that fails rolls all of it
back. A failed look-up of a code is counted (codes.limiter) after the rollback; a successful
checkout writes nothing to the limiter.
"""

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext

from tuition.accounts.models import User
from tuition.codes import limiter
from tuition.codes import services as codes
from tuition.codes.errors import (
    CodeExpiredError,
    CodeInactiveError,
    CodeNotFoundError,
    NotEligibleError,
)
from tuition.codes.models import Coupon, CouponUse, RedemptionCode
from tuition.core import clock, idempotency, l10n, round_trips
from tuition.core.actors import Actor
from tuition.core.amounts import format_amount
from tuition.core.faults import fault_point
from tuition.core.reused_queries import insert
from tuition.core.round_trips import one_round_trip
from tuition.core.transactions import use_case
from tuition.ledger import services as ledger
from tuition.ledger.locks import lock_wallet
from tuition.ledger.models import Transfer
from tuition.ledger.selectors import ItemRef
from tuition.notifications import events, personal

from . import approvals
from .after_checkout import (
    book_session,
    cancel_registration,
    mark_order_paid,
    refund_window_open,
    reschedule_booking,
    unenroll_from_session,
)
from .documents import (
    next_number,
    number_checkout_documents,
    number_new_checkout,
    order_number,
)
from .errors import AlreadyRegisteredError, PaymentDeclinedError
from .learners import learner_for, read_or_add_learner
from .models import Booking, ItemKind, Order, Registration
from .payments import PaymentProvider, PaymentResult, get_provider
from .pricing import (
    LotReads,
    PaymentChoice,
    Plan,
    Quote,
    ensure_covered,
    plan_purchase,
    send_lot_reads,
)
from .refills import purchase_refill, refill_price
from .results import REGISTRATION_CLASHES, CheckoutResult, order_dict, register
from .seats import take_seat

# Refusals that count as a failed code entry (rule 27): only a failed look-up. Refusing a valid
# code (balance, scope, unit, eligibility, seats) is never a guess, and counts for nobody.
_CODE_FAILURES = (CodeNotFoundError, CodeInactiveError, CodeExpiredError)


@dataclass
class CodeEntry:
    """One quote or checkout as the attempt limiter sees it (SPEC rule 27): its learner, and
    the counters a failed look-up of its code counts against (none when no code was entered)."""

    learner: User
    keys: list[limiter.Key] = field(default_factory=list)


@contextmanager
def counted_code_entry(
    *,
    learner_email: str,
    payment: PaymentChoice,
    learner_name: str = "",
    ip: str | None = None,
    api_key: str | None = None,
) -> Iterator[CodeEntry]:
    """Limit the code entry of a quote or checkout around the work that looks the code up.

    A code entered while the learner or the IP is locked out is refused unread. Otherwise the
    entry costs one read and no write: only a failed look-up is counted, after it failed.
    When the request has an Idempotency-Key, the count is written in the same transaction as
    the stored refusal; otherwise in a short transaction of its own. One that finds its
    counter already at the limit (parallel guesses) answers `too_many_attempts` instead.
    Entries made with an API key count per key and learner, never per IP: the integrating
    system's server speaks for all its learners, who must not lock each other out.

    Raises:
        TooManyAttemptsError: the learner or the IP is locked out, or this failed look-up
            went past the limit.
        ValidationError: not an email address.
    """
    entered = payment.code if payment.method == "code" else payment.coupon
    # A known learner is read with whether the request's Idempotency-Key is still unanswered
    # and, when a code was entered, with their lockout: one query.
    once = idempotency.current()
    unanswered_key = idempotency.key_to_read(once)
    if not entered:
        learner, _ = read_or_add_learner(learner_email, learner_name, unanswered_key=unanswered_key)
        idempotency.note_unanswered(once, learner)
        yield CodeEntry(learner=learner)
        return
    at = clock.now()
    learner, added = read_or_add_learner(
        learner_email,
        learner_name,
        code_entered_at=at,
        ip=ip,
        api_key=api_key,
        unanswered_key=unanswered_key,
    )
    entry = CodeEntry(learner=learner)
    idempotency.note_unanswered(once, learner)
    entry.keys = limiter.keys_for(learner_id=learner.pk, ip=ip, api_key=api_key)
    if hasattr(learner, "locked_until"):
        limiter.refuse_if_locked(learner.locked_until, at=at)
    elif added:  # nobody has counted against a learner added just now: only the IP can be
        limiter.ensure_not_locked(limiter.keys_for(ip=ip, api_key=api_key), at=at)
    else:  # named just now, or added by a simultaneous first checkout: read both
        limiter.ensure_not_locked(entry.keys, at=at)
    counted_with_refusal = idempotency.also_on_refusal(
        lambda error: (
            limiter.count_failure(entry.keys) if isinstance(error, _CODE_FAILURES) else None
        )
    )
    try:
        yield entry
    except _CODE_FAILURES:
        if not counted_with_refusal:
            limiter.count_failure(entry.keys)
        raise


# --- quote and checkout ----


def quote(
    *,
    learner_email: str,
    payment: PaymentChoice,
    actor: Actor,
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
    with counted_code_entry(
        learner_email=learner_email, payment=payment, ip=ip, api_key=api_key
    ) as entry:
        plan = plan_purchase(
            learner=entry.learner,
            activity_id=activity_id,
            group_id=group_id,
            session_id=session_id,
            payment=payment,
        )
        ensure_covered(plan, clock.now())
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
        needs_approval=approvals.needs_approval(plan),
        account_name=plan.account_name,
    )


def checkout(
    *,
    learner_email: str,
    payment: PaymentChoice,
    actor: Actor,
    activity_id: int | None = None,
    group_id: int | None = None,
    session_id: int | None = None,
    learner_name: str = "",
    ip: str | None = None,
    api_key: str | None = None,
) -> "CheckoutResult | approvals.AwaitingApproval":
    """Buy an activity or a group for a learner (identified by email, created on first use).
    A redemption the account's approval rules cover waits for an owner instead
    (`AwaitingApproval`: its value and seat held, nothing registered yet).

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
    once = idempotency.current()
    with counted_code_entry(
        learner_email=learner_email,
        learner_name=learner_name,
        payment=payment,
        ip=ip,
        api_key=api_key,
    ) as entry:
        result = _checkout(
            learner=entry.learner,
            activity_id=activity_id,
            group_id=group_id,
            session_id=session_id,
            payment=payment,
            actor=actor,
        )
    if isinstance(result, approvals.AwaitingApproval):  # numbered when approved
        return result
    return _numbered(result, once)


def _numbered(result: CheckoutResult, once: idempotency.Once | None) -> CheckoutResult:
    """Number the committed checkout's documents, and give the key's stored answer their
    numbers. Should this stop (a crash), the sweep numbers them, and the key's answer keeps
    `null` documents: the order shows them."""
    try:
        return _number_documents(result, once, just_committed=True)
    except IntegrityError:  # the sweep numbered them first: read its documents
        return _number_documents(result, once, just_committed=False)


@use_case
def _number_documents(
    result: CheckoutResult, once: idempotency.Once | None, *, just_committed: bool
) -> CheckoutResult:
    # The counters stay locked until this commits, for every checkout of every account: the
    # documents and the key's fuller answer go to the database together, once the numbers
    # are back (the answer shows the numbers only).
    with one_round_trip():
        if just_committed:
            result.invoice, result.receipt = number_new_checkout(result.order)
        else:
            result.invoice, result.receipt = number_checkout_documents(order_id=result.order.pk)
        if once is not None and once.answer is not None and not once.replayed:
            idempotency.amend(once, once.render(result))
    return result


@use_case(answers=True)
def _checkout(
    *,
    learner: User,
    activity_id: int | None,
    group_id: int | None,
    session_id: int | None,
    payment: PaymentChoice,
    actor: Actor,
) -> "CheckoutResult | approvals.AwaitingApproval":
    # Read and decide what cannot change under the wallet's lock first (item, session, code,
    # account, membership, price); under the lock only the lots are checked, and the writes
    # guard themselves (the seat, the debit, the coupon's uses, the registration).
    plan = plan_purchase(
        learner=learner,
        activity_id=activity_id,
        group_id=group_id,
        session_id=session_id,
        payment=payment,
    )
    # Whether an owner must approve it depends on nothing the lock guards: asked before it.
    awaits_approval = approvals.needs_approval(plan)
    # The task that fans out this checkout's notices, written before the lock: the worker
    # wake-up is the costliest insert of a checkout, and none of it needs the lock.
    events.wake_worker()
    debits = plan.code is not None and plan.payable > 0
    # The lock's own round trip also draws the keys of the rows written under it, so those
    # rows can name each other and go to the database together (`core.round_trips`), and
    # brings back the code's lots, read once the lock is held.
    keys: dict[type, int | None] = {}
    lot_reads = LotReads()
    if plan.account_id is not None:
        drawn = (Order, Registration, Transfer) if debits else (Order, Registration)
        drawn_keys = lock_wallet(
            plan.account_id,
            plan.unit.pk,
            keys_for=drawn,
            reads=lambda: send_lot_reads(plan, lot_reads),
        )
        keys = dict(zip(drawn, drawn_keys, strict=True))
    at = clock.now()  # after the lock: a waiter decides on the time it gets the lock
    ensure_covered(plan, at, lot_reads)
    if awaits_approval:  # SPEC §7: value and seat are held for the owner
        return approvals.place_hold(plan, at=at, actor=actor)
    try:
        # A checkout by code sends the guarded updates of the seat and of a member code's cap
        # with all its writes, in one batch; cards and coupons lock no wallet and draw no keys:
        # for them each runs at once, and the seat is taken before the card is charged.
        with one_round_trip() if keys.get(Order) is not None else contextlib.nullcontext():
            if plan.session is not None:
                take_seat(plan.session.pk, at)
            if debits and plan.code.kind == RedemptionCode.Kind.MEMBER:
                codes.spend_within_cap(code_id=plan.code.pk, amount=plan.payable)
            if plan.coupon is not None:
                _use_coupon(plan.coupon, learner=learner)
            paid_by = _Payment(method=plan.method)
            if plan.method == Order.Method.CARD and not debits:
                provider = get_provider(payment.provider)
                charged = _charge(provider, plan, card_number=payment.card_number)
                paid_by = _Payment(provider.method, provider.name, charged.reference, charged.paid)
            return _write_checkout(plan, keys, learner=learner, paid_by=paid_by, at=at, actor=actor)
    except IntegrityError as exc:  # sent in one round trip: the clash shows at its end
        if round_trips.violated(exc, *REGISTRATION_CLASHES):
            raise AlreadyRegisteredError() from exc
        raise


@dataclass(frozen=True)
class _Payment:
    method: str
    provider: str = ""
    reference: str = ""
    paid: bool = True


def _write_checkout(
    plan: Plan,
    keys: dict[type, int | None],
    *,
    learner: User,
    paid_by: _Payment,
    at: datetime,
    actor: Actor,
) -> CheckoutResult:
    """The checkout's writes under the wallet's lock: debit, order, registration, booking,
    notices. With their keys drawn (PostgreSQL) they are sent in one round trip."""
    status = Order.Status.PAID if paid_by.paid else Order.Status.PENDING_PAYMENT
    transfer = None
    if plan.code is not None and plan.payable > 0:
        transfer = ledger.debit.joining(
            account_id=plan.account_id,
            unit=plan.unit,
            amount=plan.payable,
            actor=actor,
            item=ItemRef(plan.item.kind, plan.item.pk),
            lot_ids=plan.lot_ids,
            wallet_locked=True,
            usable=plan.usable,
            reason=f"checkout: {plan.item.title}"[:500],
            metadata={"learner_id": learner.pk, "item": f"{plan.item.kind}:{plan.item.pk}"},
            transfer_key=keys.get(Transfer),
        )
    entered = plan.code or (plan.coupon.code if plan.coupon else None)
    order = insert(
        Order(
            pk=keys.get(Order),
            number=order_number(at),
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
            method=paid_by.method,
            provider=paid_by.provider,
            payment_reference=paid_by.reference,
            status=status,
            code=plan.code,
            coupon=plan.coupon,
            code_hint=entered.hint if entered else "",
            transfer=transfer,
            created_at=at,
            paid_at=at if status == Order.Status.PAID else None,
            actor=actor[:200],
        )
    )
    if plan.coupon is not None:
        CouponUse.objects.filter(coupon=plan.coupon, learner=learner, order_id=None).update(
            order_id=order.pk
        )
    # No savepoint: a clash (a simultaneous checkout of the same learner and item) refuses
    # the whole checkout, which rolls back.
    registration = register(
        order,
        learner=learner,
        item=plan.item,
        at=at,
        active=status == Order.Status.PAID,
        savepoint=False,
        key=keys.get(Registration),
    )
    bookings = []
    if plan.session is not None:
        bookings.append(
            insert(
                Booking(
                    registration=registration,
                    activity_id=plan.session.activity_id,
                    session=plan.session,
                    created_at=at,
                )
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
                    "lot_ids": [str(e.lot_id) for e in transfer.written_entries if e.lot_id],
                    "order_number": order.number,
                    "learner_email": learner.email,
                    "item_title": plan.item.title,
                    "account_name": plan.account_name,
                },
            )
        )
    events.record_many(notices, worker_woken=True)
    fault_point("after_entries_before_commit")
    # The receipt and invoice are numbered right after commit (`_numbered`).
    return CheckoutResult(order, registration, bookings, invoice=None, receipt=None)


def _charge(provider: PaymentProvider, plan: Plan, *, card_number: str | None) -> PaymentResult:
    """Charge what the card pays. A coupon that leaves something to pay needs a card for it,
    whichever method the learner picked first (SPEC rule 9).

    Raises:
        PaymentDeclinedError: no card, or the card was refused.
    """
    if plan.coupon is not None and provider.method == Order.Method.CARD and not card_number:
        rest = format_amount(plan.payable, decimals=plan.unit.decimals)
        raise PaymentDeclinedError(
            gettext("The coupon leaves %(amount)s to pay by card: enter a card number.")
            % {
                "amount": l10n.money(
                    plan.payable, unit_code=plan.unit.code, decimals=plan.unit.decimals
                )
            },
            details={"field": "payment.card_number", "payable": rest},
        )
    return provider.charge(
        amount=plan.payable, description=plan.item.title, card_number=card_number
    )


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


__all__ = [
    "CheckoutResult",
    "CodeEntry",
    "PaymentChoice",
    "Quote",
    "book_session",
    "cancel_registration",
    "checkout",
    "counted_code_entry",
    "learner_for",
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
