"""The provider's product switches (environment settings, see the README)."""

from django.conf import settings


def commerce_enabled() -> bool:
    """Whether the discounts area (credits, codes, coupons) is offered (SPEC rule 29)."""
    return bool(settings.TUITION.get("COMMERCE_ENABLED", True))


def pay_by_tokens() -> bool:
    """Whether learners may pay with token codes (SPEC rule 29, the Arlo setting)."""
    return bool(settings.TUITION.get("PAY_BY_TOKENS", True))
