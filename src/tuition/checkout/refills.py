"""Refills: an account owner buys more credits or tokens, by card or by invoice."""

import math

from tuition.accounts.models import TrainingAccount
from tuition.catalog.models import RefillPrice
from tuition.codes import services as codes
from tuition.codes.errors import (
    NotPricedInUnitError,
)
from tuition.core import clock
from tuition.core.actors import Actor
from tuition.core.amounts import MAX_MINOR, amount_error
from tuition.core.audit import record_change
from tuition.core.errors import NotFoundError
from tuition.core.transactions import use_case
from tuition.ledger.models import Lot, Unit
from tuition.notifications import events

from .documents import issue_document, order_number
from .learners import learner_for
from .models import (
    Invoice,
    ItemKind,
    Order,
    Receipt,
)
from .payments import get_provider


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


@use_case(answers=True)
def purchase_refill(
    *,
    account_id: int,
    unit: Unit,
    amount: int,
    buyer_email: str,
    actor: Actor,
    provider: str = "sandbox",
    card_number: str | None = None,
    emailed: bool = True,
) -> Order:
    """An account owner buys more value. Paid by card (sandbox) the lot is issued at once;
    by invoice when the order is marked paid. The lot expires by the unit's policy.
    `emailed=False`: `refill.purchased` goes to webhooks only (an automatic refill emails its
    own, fuller event).

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
        number=order_number(at),
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
        deliver_refill(order, actor=actor, emailed=emailed)
        order.save(update_fields=["refill_lot"])
    record_change(actor=actor, verb="refill ordered", obj=order, summary=f"{unit.code}")
    # Numbered last: after the wallet lock the refill takes, in the same order as checkout.
    issue_document(Invoice, order, at)
    if result.paid:
        issue_document(Receipt, order, at)
    return order


def deliver_refill(order: Order, *, actor: Actor, emailed: bool = True) -> None:
    """Issue the refill's lot and record `refill.purchased`: one email to the account's
    people (`emailed`), and to webhooks both it and the lot's `credit.issued`."""
    unit = order.refill_unit
    assert unit is not None and order.account_id is not None and order.refill_amount
    issued = codes.create_credit.joining(
        account_id=order.account_id,
        unit=unit,
        redeemable_value=order.refill_amount,
        actor=actor,
        purchase_price=order.charged,
        source=Lot.Source.PURCHASE,
        external_id=order.number,
        notes=f"Refill, order {order.number}",
        emailed=False,  # the refill's own event says it, with the price and the order
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
        recipients=None if emailed else (),
    )
