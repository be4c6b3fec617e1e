"""Stored cards for automatic refills: the provider's token, never the card number.

A real card provider turns a card number into a token when the owner saves it and later charges
the token. The sandbox does the same without a network: its token says which sandbox card it
stands for (the success card, or any other number, which the sandbox declines) and the last
four digits. Only the token and the last four digits are stored.
"""

from dataclasses import dataclass

from tuition.checkout.payments import DECLINED_CARD, SUCCESS_CARD
from tuition.core.errors import ValidationError

_PREFIX = "sandbox_card_"


@dataclass(frozen=True)
class StoredCard:
    reference: str
    last4: str


def store_card(card_number: str | None) -> StoredCard:
    """Tokenize a card with the sandbox provider.

    Raises:
        ValidationError: not a card number (12 to 19 digits).
    """
    digits = "".join(ch for ch in (card_number or "") if ch.isdigit())
    if not 12 <= len(digits) <= 19:
        raise ValidationError(
            "Enter a card number to pay automatic refills by card.",
            details={"field": "card_number"},
        )
    outcome = "ok" if digits == SUCCESS_CARD else "declined"
    return StoredCard(reference=f"{_PREFIX}{outcome}_{digits[-4:]}", last4=digits[-4:])


def card_for_charge(reference: str) -> str:
    """What the sandbox charges for a stored token (the sandbox's side of the token)."""
    return SUCCESS_CARD if reference.startswith(f"{_PREFIX}ok_") else DECLINED_CARD
