"""What happened that people should hear about: the seam between value-moving services and
notifications.

Services call `record(...)` inside their own transaction, so an event exists exactly when the
change it describes committed (a transactional outbox). Delivery (email, webhooks) happens later,
outside any transaction, by the worker.
"""

from typing import Any

# Event kinds (SPEC rule 22), also the webhook event types.
CREDIT_ISSUED = "credit.issued"
CREDIT_REDEEMED = "credit.redeemed"
CREDIT_EXPIRED = "credit.expired"
CREDIT_EXPIRY_CHANGED = "credit.expiry_changed"
CREDIT_EXPIRING_SOON = "credit.expiring_soon"
BALANCE_LOW = "balance.low"
REFILL_PURCHASED = "refill.purchased"
KINDS = [CREDIT_ISSUED, CREDIT_REDEEMED, CREDIT_EXPIRED, CREDIT_EXPIRY_CHANGED,
         CREDIT_EXPIRING_SOON, BALANCE_LOW, REFILL_PURCHASED]


def record(kind: str, *, account_id: int, data: dict[str, Any], dedupe_key: str | None = None) -> None:
    """Record an event for an account inside the caller's transaction.

    `data` is JSON-safe (amounts as decimal strings with their unit). `dedupe_key`, when given,
    makes a second record with the same key a no-op (e.g. one expiring-soon reminder per lot
    and threshold).
    """
    # Delivery is built in the notifications work; until then events are not kept.
    return None
