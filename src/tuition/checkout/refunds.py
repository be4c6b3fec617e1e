"""Partial refunds (SPEC §7): staff give back part of what a paid redemption charged, any
number of times up to the charge, each with a credit note. The value returns to the lots that
paid, with their expiry (a partial reversal of the redemption); the registration stays as it
is (cancelling it is the full refund, `after_checkout.cancel_registration`).

Only orders paid with training credit or tokens are refunded here: their money is ledger value.
A card-paid order (or the card part of a coupon order) is refunded through the card provider,
outside Tuition, and a free coupon order charged nothing.
"""

from django.db.models import F
from django.utils.translation import gettext

from tuition.accounts.models import Membership
from tuition.codes import services as codes
from tuition.codes.models import RedemptionCode
from tuition.core import clock
from tuition.core.actors import Actor
from tuition.core.amounts import MAX_MINOR, amount_error
from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.transactions import use_case
from tuition.ledger import services as ledger
from tuition.ledger.errors import AlreadyReversedError
from tuition.ledger.locks import lock_wallet
from tuition.notifications import events

from .errors import RefundNotAllowedError
from .models import CreditNote, Order

REASON_MAX = 500


@use_case(answers=True)
def refund_part(*, order_id: int, amount: int, reason: str, actor: Actor) -> CreditNote:
    """Refund `amount` (in the order's unit, minor units) of a paid credit or token order.

    The refunded total is checked and raised by one guarded update under the wallet lock, so
    concurrent refunds never pass the charge. The learner and the account's owners are told
    (`order.refunded`, also a webhook event).

    Raises:
        NotFoundError: no such order.
        ValidationError: no reason, an amount that is not positive, or more than is left to
            refund (details: `refundable`).
        RefundNotAllowedError: the order was not paid with credit or tokens, or is not paid.
        AlreadyReversedError: the order was refunded in full.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(gettext("A refund needs a reason."), details={"field": "reason"})
    if len(reason) > REASON_MAX:
        raise ValidationError(
            gettext("The reason must be at most 500 characters."), details={"field": "reason"}
        )
    if not 0 < amount <= MAX_MINOR:
        raise amount_error("amount", "not_positive")
    found = Order.objects.filter(pk=order_id).values_list("account_id", "unit_id", "transfer_id")
    row = found.first()
    if row is None:
        raise NotFoundError("No such order.")
    account_id, unit_id, transfer_id = row
    if transfer_id is None or account_id is None:
        raise RefundNotAllowedError(
            gettext(
                "Only orders paid with training credit or tokens can be refunded in part; "
                "refund a card payment with the card provider."
            )
        )
    lock_wallet(account_id, unit_id)  # lock order: wallet first, as checkout and cancel do
    order = Order.objects.select_related("unit", "learner", "account").get(pk=order_id)
    if order.status == Order.Status.REFUNDED:
        raise AlreadyReversedError(gettext("This order was already refunded in full."))
    if order.status != Order.Status.PAID:
        raise RefundNotAllowedError(gettext("Only a paid order can be refunded."))
    refundable = order.charged - order.refunded_amount
    raised = Order.objects.filter(
        pk=order.pk, status=Order.Status.PAID, refunded_amount__lte=F("charged") - amount
    ).update(refunded_amount=F("refunded_amount") + amount)
    if raised != 1:
        raise ValidationError(
            gettext("Only %(left)s of this order is left to refund.")
            % {"left": order.unit.format(max(refundable, 0))},
            details={"field": "amount", "refundable": order.unit.format(max(refundable, 0))},
        )
    reversal = ledger.reverse_part.joining(
        transfer_id=transfer_id,
        amount=amount,
        actor=actor,
        reason=f"partial refund of order {order.number}: {reason}"[:500],
        wallet_locked=True,
    )
    if order.code_id is not None and order.code.kind == RedemptionCode.Kind.MEMBER:  # type: ignore[union-attr]
        codes.add_member_spend(code_id=order.code_id, amount=-amount)
    sequence = CreditNote.objects.filter(order=order).count() + 1
    note = CreditNote.objects.create(
        order=order,
        transfer=reversal,
        sequence=sequence,
        number=f"{credit_note_base(order)}-{sequence}",
        issued_at=clock.now(),
        amount=amount,
        unit=order.unit,
        reason=reason,
        actor=actor[:200],
    )
    _tell_people(order, note, refunded_total=order.refunded_amount + amount)
    return note


def credit_note_base(order: Order) -> str:
    """CN and the invoice's number (CN-2026-000042), or the order's when it has no invoice."""
    invoice = getattr(order, "invoice", None)
    if invoice is not None:
        return "CN-" + invoice.number.split("-", 1)[1]
    return f"CN-{order.number}"


def _tell_people(order: Order, note: CreditNote, *, refunded_total: int) -> None:
    owners = [
        events.Person(user_id, email)
        for user_id, email in Membership.objects.filter(
            account_id=order.account_id, role=Membership.Role.OWNER
        ).values_list("user_id", "user__email")
    ]
    unit = order.unit
    events.record(
        events.ORDER_REFUNDED,
        account_id=order.account_id,
        data={
            "order_id": str(order.pk),
            "order_number": order.number,
            "item_title": order.title,
            "amount": unit.format(note.amount),
            "unit": unit.code,
            "refunded_total": unit.format(refunded_total),
            "charged": unit.format(order.charged),
            "credit_note_number": note.number,
            "reason": note.reason,
            "learner_email": order.learner.email,
            "account_name": order.account.name if order.account else "",  # type: ignore[union-attr]
        },
        recipients=[events.person(order.learner), *owners],
    )


def refund_summary(order: Order) -> dict[str, int]:
    """What an order charged, has refunded and may still refund (minor units)."""
    refundable = 0
    if order.transfer_id is not None and order.status == Order.Status.PAID:
        refundable = order.charged - order.refunded_amount
    return {
        "charged": order.charged,
        "refunded": order.refunded_amount,
        "refundable": refundable,
    }
