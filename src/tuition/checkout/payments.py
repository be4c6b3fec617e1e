"""Card payment providers behind one small interface.

`sandbox` settles at once, in process: test card 4242 4242 4242 4242 succeeds; 4000 0000 0000
0002 or any other number is declined, and so is a card payment with no card. `invoice` leaves
the order awaiting payment until staff mark it paid. A provider that talks to a payment
network must authorize before the checkout transaction and capture after it (no I/O inside a
lock); both built-in providers are pure, so they run inside it.
"""

from dataclasses import dataclass
from typing import Protocol

from tuition.core.errors import ValidationError

from .errors import PaymentDeclinedError

SUCCESS_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


@dataclass(frozen=True)
class PaymentResult:
    paid: bool
    reference: str = ""


class PaymentProvider(Protocol):
    name: str
    # The method an order paid (or to be paid) through this provider records.
    method: str

    def charge(self, *, amount: int, description: str, card_number: str | None) -> PaymentResult:
        """Take `amount` USD cents, or return paid=False when payment comes later.

        Raises:
            PaymentDeclinedError: the card was refused.
        """
        ...


class SandboxProvider:
    name = "sandbox"
    method = "card"

    def charge(self, *, amount: int, description: str, card_number: str | None) -> PaymentResult:
        digits = "".join(ch for ch in (card_number or "") if ch.isdigit())
        if not digits:
            raise PaymentDeclinedError("Enter a card number to pay by card.")
        if digits != SUCCESS_CARD:
            raise PaymentDeclinedError()
        return PaymentResult(paid=True, reference=f"sandbox-{amount}")


class InvoiceProvider:
    name = "invoice"
    method = "invoice"

    def charge(self, *, amount: int, description: str, card_number: str | None) -> PaymentResult:
        return PaymentResult(paid=False)


PROVIDERS: dict[str, PaymentProvider] = {"sandbox": SandboxProvider(), "invoice": InvoiceProvider()}


def get_provider(name: str) -> PaymentProvider:
    """Raises:
    ValidationError: an unknown provider."""
    provider = PROVIDERS.get(name)
    if provider is None:
        raise ValidationError(
            f"provider must be one of: {', '.join(PROVIDERS)}.",
            details={"field": "payment.provider"},
        )
    return provider
