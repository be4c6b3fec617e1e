"""What a checkout gives back, and the registrations it makes: shared by the checkout itself and
by the approval of a redemption that waited (`approvals`)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from tuition.accounts.models import User
from tuition.catalog.selectors import Item
from tuition.core.reused_queries import insert
from tuition.ledger.models import Unit

from .errors import AlreadyRegisteredError
from .models import Booking, Invoice, ItemKind, Order, Receipt, Registration


@dataclass
class CheckoutResult:
    order: Order
    registration: Registration
    bookings: list[Booking]
    # Numbered right after the checkout commits; None only until then.
    invoice: Invoice | None
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
            "invoice": {"number": self.invoice.number} if self.invoice else None,
        }


def order_dict(order: Order) -> dict[str, Any]:
    usd = order.unit if order.unit.code == Unit.USD else Unit.objects.get(code=Unit.USD)
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


# The constraints a second live registration of a learner for an item breaks.
REGISTRATION_CLASHES = ("registration_one_live_per_activity", "registration_one_live_per_group")


def register(
    order: Order,
    *,
    learner: User,
    item: Item,
    at: datetime,
    active: bool,
    savepoint: bool = True,
    key: int | None = None,
) -> Registration:
    """The order's registration, and for a group one per activity it holds (SPEC §2).
    `savepoint=False`: the caller's transaction ends with the refusal anyway (a checkout), so
    the two round trips of a savepoint are spared. `key`: the registration's primary key,
    when drawn beforehand (then, inside `one_round_trip`, a clash shows at the batch's end:
    `REGISTRATION_CLASHES`).

    Raises:
        AlreadyRegisteredError: a concurrent checkout of the same learner and item won.
    """
    status = Registration.Status.ACTIVE if active else Registration.Status.PENDING
    try:
        with transaction.atomic(savepoint=savepoint):
            registration = insert(
                Registration(
                    pk=key,
                    learner=learner,
                    order=order,
                    item_kind=item.kind,
                    activity=item.obj if item.kind == ItemKind.ACTIVITY else None,
                    group=item.obj if item.kind == ItemKind.GROUP else None,
                    status=status,
                    created_at=at,
                )
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
