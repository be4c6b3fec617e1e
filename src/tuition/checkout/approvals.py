"""Approval rules and holds (SPEC §7).

An account owner may require approval for redemptions of the account's credits above an amount
(per unit) or for chosen catalog items. Such a checkout does not redeem: it places a hold on the
lots (`ledger.holds`), takes the seat of a dated session, and records an order `awaiting_approval`
with no registration yet; the owners hear of it. Then exactly one of:

- approve: the hold is captured as a normal redemption, and everything a checkout creates follows
  (order paid, registration, booking of the held seat, invoice and receipt, confirmation);
- decline: the value goes back to the same lots, the seat is freed, the order is cancelled;
- expire: the same as a decline, by the periodic job, once the owner's time limit (or the
  session's start, or a held lot's expiry) has passed undecided.

Each is one short transaction under the wallet's lock; the hold's guarded status update decides
which of two racing decisions wins.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tuition.accounts.models import Membership, User
from tuition.catalog.models import Activity, Group
from tuition.codes import services as codes
from tuition.codes.models import RedemptionCode
from tuition.core import clock
from tuition.core.actors import Actor
from tuition.core.amounts import MAX_MINOR
from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.transactions import use_case
from tuition.ledger import holds as ledger_holds
from tuition.ledger.errors import HoldNotPendingError, InsufficientBalanceError
from tuition.ledger.models import Hold, Unit
from tuition.ledger.selectors import ItemRef
from tuition.notifications import events, personal

from .approval_models import MAX_HOLD_HOURS, MIN_HOLD_HOURS, ApprovalPolicy
from .documents import issue_document, order_number
from .errors import AlreadyRegisteredError, SessionStartedError
from .models import Booking, Invoice, ItemKind, Order, Receipt
from .pricing import Plan
from .results import CheckoutResult, order_dict, register
from .seats import free_seat, take_seat

EXPIRY_ACTOR = "system:hold-expiry"


@dataclass
class AwaitingApproval:
    """A checkout that waits for the account owner: its order and the hold on the value."""

    order: Order
    hold: Hold

    def as_dict(self) -> dict[str, Any]:
        return {
            "order": order_dict(self.order),
            "hold": hold_dict(self.hold),
            "registration": None,
            "booking": None,
            "receipt": None,
            "invoice": None,
        }


def hold_dict(hold: Hold) -> dict[str, Any]:
    return {
        "id": str(hold.pk),
        "status": hold.status,
        "amount": {"amount": hold.unit.format(hold.amount), "unit": hold.unit.code},
        "created_at": hold.created_at.isoformat(),
        "expires_at": hold.expires_at.isoformat(),
        "ended_at": hold.ended_at.isoformat() if hold.ended_at else None,
    }


# --- rules ----


def rules_for(account_id: int) -> ApprovalPolicy | None:
    return ApprovalPolicy.objects.filter(account_id=account_id).first()


def item_key(kind: str, item_id: int) -> str:
    return f"{kind}:{item_id}"


def needs_approval(plan: Plan) -> bool:
    """Whether this redemption waits for an owner: a code of an account with rules that cover
    it (its item is listed, or it charges more than the amount set for its unit). An owner's
    own redemption never waits for approval."""
    if plan.code is None or plan.account_id is None or plan.payable <= 0:
        return False
    if plan.code.kind == RedemptionCode.Kind.COUPON:
        return False
    policy = plan.approval_policy  # read with the account when the plan was made
    if policy is None or policy.is_empty:
        return False
    listed = item_key(plan.item.kind, plan.item.pk) in policy.items
    limit = policy.above.get(plan.unit.code)
    if not listed and (limit is None or plan.payable <= limit):
        return False
    return not Membership.objects.filter(
        account_id=plan.account_id, user=plan.learner, role=Membership.Role.OWNER
    ).exists()


@use_case
def set_rules(
    *,
    account_id: int,
    above: dict[str, int],
    items: list[str],
    hold_hours: int,
    actor: Actor,
) -> ApprovalPolicy:
    """Replace the account's approval rules. Empty `above` and `items` switch approval off.

    Raises:
        ValidationError: an unknown unit, an amount out of range, an unknown item, or a time
            limit outside 1 hour to 30 days.
    """
    if not isinstance(hold_hours, int) or not MIN_HOLD_HOURS <= hold_hours <= MAX_HOLD_HOURS:
        raise ValidationError(
            _("The time limit must be between 1 hour and 30 days."),
            details={"field": "hold_hours"},
        )
    units = set(Unit.objects.filter(code__in=list(above)).values_list("code", flat=True))
    for code, amount in above.items():
        if code not in units:
            raise ValidationError(_("Unknown unit."), details={"field": f"above.{code}"})
        if not isinstance(amount, int) or not 0 <= amount <= MAX_MINOR:
            raise ValidationError(
                _("The amount must not be negative."), details={"field": f"above.{code}"}
            )
    keys = sorted(set(items))
    activity_ids: set[int] = set()
    group_ids: set[int] = set()
    for key in keys:
        kind, _sep, raw = key.partition(":")
        if kind not in (ItemKind.ACTIVITY, ItemKind.GROUP) or not raw.isdigit():
            raise ValidationError(_("Unknown item."), details={"field": "items"})
        (activity_ids if kind == ItemKind.ACTIVITY else group_ids).add(int(raw))
    if Activity.objects.filter(pk__in=activity_ids).count() != len(activity_ids) or (
        Group.objects.filter(pk__in=group_ids).count() != len(group_ids)
    ):
        raise ValidationError(_("Unknown item."), details={"field": "items"})
    policy, _created = ApprovalPolicy.objects.update_or_create(
        account_id=account_id,
        defaults={
            "above": dict(sorted(above.items())),
            "items": keys,
            "hold_hours": hold_hours,
            "updated_at": clock.now(),
            "updated_by": actor[:200],
        },
    )
    return policy


# --- placing a hold (inside checkout's transaction) ----


def place_hold(plan: Plan, *, at: datetime, actor: Actor) -> AwaitingApproval:
    """Hold the value (and the seat) of a checkout that needs approval, instead of redeeming.
    Runs inside the checkout's transaction, after the wallet's lock and the lots' check.

    Raises:
        InsufficientBalanceError: a member code's cap, or the lots, do not cover it.
        SessionFullError, SessionStartedError: the seat cannot be held.
        AlreadyRegisteredError: the learner already waits for approval for this item.
    """
    assert transaction.get_connection().in_atomic_block, "only inside the checkout transaction"
    assert plan.code is not None and plan.account_id is not None
    policy = plan.approval_policy
    assert policy is not None
    learner = plan.learner
    item_field = "activity_id" if plan.item.kind == ItemKind.ACTIVITY else "group_id"
    waiting = Order.objects.filter(
        learner=learner, status=Order.Status.AWAITING_APPROVAL, **{item_field: plan.item.pk}
    )
    if waiting.exists():  # the constraint below decides a race; this answers the common case
        raise AlreadyRegisteredError(
            _("Your request for this item is already waiting for approval.")
        )
    if plan.session is not None:
        take_seat(plan.session.pk, at)
    if plan.code.kind == RedemptionCode.Kind.MEMBER and not codes.add_member_spend(
        code_id=plan.code.pk, amount=plan.payable
    ):
        raise InsufficientBalanceError()
    until = at + timedelta(hours=policy.hold_hours)
    if plan.session is not None:
        until = min(until, plan.session.starts_at)
    hold = ledger_holds.place_hold.joining(
        account_id=plan.account_id,
        unit=plan.unit,
        amount=plan.payable,
        expires_at=until,
        actor=actor,
        item=ItemRef(plan.item.kind, plan.item.pk),
        lot_ids=plan.lot_ids,
        wallet_locked=True,
        reason=f"awaiting approval: {plan.item.title}"[:500],
        metadata={"learner": learner.email, "item": item_key(plan.item.kind, plan.item.pk)},
    )
    try:
        with transaction.atomic():
            order = Order.objects.create(
                number=order_number(at),
                learner=learner,
                account_id=plan.account_id,
                item_kind=plan.item.kind,
                activity=plan.item.obj if plan.item.kind == ItemKind.ACTIVITY else None,  # type: ignore[misc]
                group=plan.item.obj if plan.item.kind == ItemKind.GROUP else None,  # type: ignore[misc]
                session=plan.session,
                title=plan.item.title[:200],
                list_price=plan.item.list_price,
                unit=plan.unit,
                price=plan.price,
                discount=plan.discount,
                charged=plan.payable,
                method=plan.method,
                status=Order.Status.AWAITING_APPROVAL,
                code=plan.code,
                code_hint=plan.code.hint,
                hold=hold,
                created_at=at,
                actor=actor[:200],
            )
    except IntegrityError as exc:
        raise AlreadyRegisteredError(
            _("Your request for this item is already waiting for approval.")
        ) from exc
    events.record(  # the checkout woke the worker before its lock
        events.HOLD_PLACED,
        account_id=plan.account_id,
        data=_event_data(order, hold, learner),
        worker_woken=True,
    )
    return AwaitingApproval(order, hold)


# --- deciding ----


@use_case(answers=True)
def approve(*, hold_id: int, actor: Actor) -> Any:
    """Capture a hold: the redemption it waited for, with everything a checkout creates.
    Returns the `CheckoutResult`.

    Raises:
        NotFoundError: no such hold.
        HoldNotPendingError: decided before, or its time ran out.
        SessionStartedError: the held session has started (decline it instead).
        AlreadyRegisteredError: the learner has registered for the item meanwhile.
    """
    order = _order_of(hold_id)
    at = clock.now()
    if order.session is not None and order.session.starts_at <= at:
        raise SessionStartedError()
    transfer = ledger_holds.capture_hold.joining(
        hold_id=hold_id,
        actor=actor,
        reason=f"checkout: {order.title}"[:500],
        metadata={"learner": order.learner.email, "item": _order_item_key(order)},
    )
    order.status, order.paid_at, order.transfer = Order.Status.PAID, at, transfer
    order.save(update_fields=["status", "paid_at", "transfer"])
    item_obj = order.activity if order.item_kind == ItemKind.ACTIVITY else order.group
    assert item_obj is not None
    from tuition.catalog.selectors import Item

    registration = register(
        order, learner=order.learner, item=Item(order.item_kind, item_obj), at=at, active=True
    )
    bookings = []
    if order.session is not None:  # its seat was taken when the hold was placed
        bookings.append(
            Booking.objects.create(
                registration=registration,
                activity_id=order.session.activity_id,
                session=order.session,
                created_at=at,
            )
        )
    hold = order.hold
    assert hold is not None
    hold.refresh_from_db()
    account_name = order.account.name if order.account else ""
    events.record_many(
        [
            personal.registration_confirmed(
                order=order,
                registration=registration,
                learner=order.learner,
                session=order.session,
                account_name=account_name,
            ),
            events.pending(
                events.HOLD_APPROVED,
                account_id=order.account_id,
                data=_event_data(order, hold, order.learner),
            ),
            events.pending(
                events.CREDIT_REDEEMED,
                account_id=order.account_id,
                data={
                    "unit": order.unit.code,
                    "amount": order.unit.format(order.charged),
                    "lot_ids": [str(e.lot_id) for e in transfer.written_entries if e.lot_id],  # type: ignore[attr-defined]
                    "order_number": order.number,
                    "learner_email": order.learner.email,
                    "item_title": order.title,
                    "account_name": account_name,
                },
            ),
        ]
    )
    invoice = issue_document(Invoice, order, at)
    receipt = issue_document(Receipt, order, at)
    return CheckoutResult(order, registration, bookings, invoice, receipt)


@use_case(answers=True)
def decline(*, hold_id: int, actor: Actor) -> Order:
    """Release a hold: the value goes back to its lots, the seat is freed, the order cancelled.

    Raises:
        NotFoundError: no such hold.
        HoldNotPendingError: decided before.
    """
    return _release(hold_id=hold_id, actor=actor, expired=False)


@use_case
def expire(*, hold_id: int, actor: Actor = EXPIRY_ACTOR) -> Order:
    """Release a hold whose time ran out undecided.

    Raises:
        NotFoundError: no such hold.
        HoldNotPendingError: decided before, or its time has not run out.
    """
    return _release(hold_id=hold_id, actor=actor, expired=True)


def expire_overdue_holds(*, actor: Actor = EXPIRY_ACTOR) -> int:
    """The periodic job: release every hold whose time ran out, each in its own transaction.
    A hold decided meanwhile (approved or declined in a race) is skipped. Returns how many."""
    done = 0
    for hold_id in ledger_holds.due_holds():
        try:
            expire(hold_id=hold_id, actor=actor)
        except HoldNotPendingError:
            continue
        done += 1
    return done


def _release(*, hold_id: int, actor: Actor, expired: bool) -> Order:
    order = _order_of(hold_id)
    at = clock.now()
    ledger_holds.release_hold.joining(hold_id=hold_id, actor=actor, expired=expired)
    if order.session is not None:
        free_seat(order.session.pk)
    if order.code is not None and order.code.kind == RedemptionCode.Kind.MEMBER:
        codes.add_member_spend(code_id=order.code.pk, amount=-order.charged)
    order.status, order.cancelled_at = Order.Status.CANCELLED, at
    order.save(update_fields=["status", "cancelled_at"])
    hold = order.hold
    assert hold is not None
    hold.refresh_from_db()
    # The account's people hear of the release; the learner, that the request is closed.
    events.record_many(
        [
            events.pending(
                events.HOLD_EXPIRED if expired else events.HOLD_DECLINED,
                account_id=order.account_id,
                data=_event_data(order, hold, order.learner),
            ),
            personal.registration_not_approved(
                order=order,
                learner=order.learner,
                reason="expired" if expired else "declined",
                account_name=order.account.name if order.account else "",
            ),
        ]
    )
    return order


def _order_of(hold_id: int) -> Order:
    order = (
        Order.objects.select_related(
            "hold__unit", "learner", "session", "account", "unit", "code", "activity", "group"
        )
        .filter(hold_id=hold_id)
        .first()
    )
    if order is None:
        raise NotFoundError(_("No such request."))
    return order


def _order_item_key(order: Order) -> str:
    return item_key(order.item_kind, order.activity_id or order.group_id or 0)


def _event_data(order: Order, hold: Hold, learner: User) -> dict[str, Any]:
    data: dict[str, Any] = {
        "hold_id": str(hold.pk),
        "order_number": order.number,
        "unit": order.unit.code,
        "amount": order.unit.format(order.charged),
        "item_title": order.title,
        "learner_email": learner.email,
        "expires_at": hold.expires_at.isoformat(),
        "account_name": order.account.name if order.account else "",
    }
    if order.session is not None:
        data["session"] = personal.session_info(order.session)
    return data


# --- reads ----


def holds_of(*, account_ids: list[int] | None = None, status: str | None = None) -> QuerySet[Order]:
    """Orders that were (or are) waiting for approval, newest first, with their holds."""
    orders = Order.objects.filter(hold__isnull=False).select_related(
        "hold__unit", "learner", "session", "account", "unit"
    )
    if account_ids is not None:
        orders = orders.filter(account_id__in=account_ids)
    if status is not None:
        orders = orders.filter(hold__status=status)
    return orders.order_by("-created_at", "-id")


def waiting_orders_of(
    learner: User, *, ended_within: timedelta = timedelta(days=14)
) -> QuerySet[Order]:
    """The learner's checkouts that wait for an owner's approval, and those declined or
    expired lately (so the learner hears what became of them)."""
    recent = Q(
        status=Order.Status.CANCELLED,
        hold__status__in=[Hold.Status.RELEASED, Hold.Status.EXPIRED],
        hold__ended_at__gte=clock.now() - ended_within,
    )
    return (
        Order.objects.filter(learner=learner)
        .filter(Q(status=Order.Status.AWAITING_APPROVAL) | recent)
        .select_related("hold", "session", "account", "unit")
        .order_by("-created_at", "-id")
    )
