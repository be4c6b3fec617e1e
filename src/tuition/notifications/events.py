"""What happened that people should hear about: the seam between value-moving services and
notifications.

Services call `record(...)` inside their own transaction. It writes the event, one email
delivery per recipient and one webhook delivery per matching subscription, and enqueues the
task that sends them, all in the caller's transaction (a transactional outbox): an event exists
exactly when the change it describes committed, and nothing is sent for a change that rolled
back. Delivery happens later, outside any transaction, in the worker.

Recipients: the account's owners, and members who opted in (`Membership.notify`). Members who
may not see the balance get no `balance.low` notice and see no balance figures in the others.

Event data (JSON-safe; amounts are decimal strings in the unit's precision, times ISO 8601 with
offset, ids strings). Every kind carries `account_name` and `unit` (the unit code) where a unit
applies. Beyond that, per kind (fields marked ? may be missing; templates cope):

    credit.issued          lot_id, amount, expires_at?, code?, source?, notes?
    credit.redeemed        amount, lot_ids?, remaining?, order_number?, learner_email?, item_title?
    credit.expired         lot_id, amount (value lost), expires_at
    credit.expiry_changed  lot_id, old_expires_at?, new_expires_at? (None: never), remaining?
    credit.expiring_soon   lot_id, amount (value at stake), expires_at, days (the threshold)
    balance.low            available, threshold
    refill.purchased       lot_id, amount, price?, expires_at?, order_number?
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from tuition.core import clock

# Event kinds (SPEC rule 22), also the webhook event types.
CREDIT_ISSUED = "credit.issued"
CREDIT_REDEEMED = "credit.redeemed"
CREDIT_EXPIRED = "credit.expired"
CREDIT_EXPIRY_CHANGED = "credit.expiry_changed"
CREDIT_EXPIRING_SOON = "credit.expiring_soon"
BALANCE_LOW = "balance.low"
REFILL_PURCHASED = "refill.purchased"
KINDS = [
    CREDIT_ISSUED,
    CREDIT_REDEEMED,
    CREDIT_EXPIRED,
    CREDIT_EXPIRY_CHANGED,
    CREDIT_EXPIRING_SOON,
    BALANCE_LOW,
    REFILL_PURCHASED,
]

# Kinds that are about the balance itself: not sent to members who may not see it.
BALANCE_ONLY_KINDS = {BALANCE_LOW}


@dataclass(frozen=True)
class PendingEvent:
    kind: str
    account_id: int
    data: dict[str, Any]
    dedupe_key: str | None = None


def record(
    kind: str, *, account_id: int, data: dict[str, Any], dedupe_key: str | None = None
) -> None:
    """Record an event for an account inside the caller's transaction.

    `data` is JSON-safe (amounts as decimal strings with their unit). `dedupe_key`, when given,
    makes a second record with the same key a no-op (e.g. one expiring-soon reminder per lot
    and threshold).

    Raises:
        ValueError: an unknown kind (a programming error, not a user's).
    """
    record_many([PendingEvent(kind, account_id, data, dedupe_key)])


def record_many(events: Sequence[PendingEvent]) -> int:
    """Record several events at once (the expiry sweep records one per expired lot).

    Returns how many were new (the rest were duplicates by `dedupe_key`).

    Raises:
        ValueError: an unknown kind.
    """
    from .models import EmailDelivery, NotificationEvent, WebhookDelivery
    from .selectors import active_subscriptions, recipients_by_account

    for event in events:
        if event.kind not in KINDS:
            raise ValueError(f"Unknown notification kind {event.kind!r}.")
    if not events:
        return 0
    # Part of the caller's transaction: no savepoint of its own unless duplicates can clash.
    with transaction.atomic(savepoint=False):
        now = clock.now()
        keys = [e.dedupe_key for e in events if e.dedupe_key]
        seen = (
            set(
                NotificationEvent.objects.filter(dedupe_key__in=keys).values_list(
                    "dedupe_key", flat=True
                )
            )
            if keys
            else set()
        )
        fresh: list[PendingEvent] = []
        for event in events:
            if event.dedupe_key and event.dedupe_key in seen:
                continue
            if event.dedupe_key:
                seen.add(event.dedupe_key)
            fresh.append(event)
        if not fresh:
            return 0
        rows = [
            NotificationEvent(
                kind=e.kind,
                account_id=e.account_id,
                data=e.data,
                dedupe_key=e.dedupe_key,
                created_at=now,
            )
            for e in fresh
        ]
        try:
            # With dedupe keys, a savepoint, so a concurrent recorder of the same key does not
            # spoil the caller's transaction: we then fall back to one at a time and skip the
            # duplicates. Without keys nothing can clash, and the savepoint would only cost
            # two more round trips inside the caller's lock window.
            with transaction.atomic(savepoint=bool(keys)):
                created = NotificationEvent.objects.bulk_create(rows)
        except IntegrityError:
            created = []
            for row in rows:
                try:
                    with transaction.atomic():
                        row.save(force_insert=True)
                    created.append(row)
                except IntegrityError:
                    continue
        if not created:
            return 0

        recipients = recipients_by_account({e.account_id for e in created})
        subscriptions = active_subscriptions()
        emails: list[EmailDelivery] = []
        hooks: list[WebhookDelivery] = []
        for event in created:
            for person in recipients.get(event.account_id, []):
                if event.kind in BALANCE_ONLY_KINDS and not person.show_balance:
                    continue
                emails.append(
                    EmailDelivery(
                        event=event,
                        user_id=person.user_id,
                        email=person.email,
                        show_balance=person.show_balance,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
            for sub in subscriptions:
                if sub.wants(event.kind) and sub.account_id in (None, event.account_id):
                    hooks.append(
                        WebhookDelivery(
                            event=event, subscription=sub, next_attempt_at=now, created_at=now
                        )
                    )
        emails = EmailDelivery.objects.bulk_create(emails)
        hooks = WebhookDelivery.objects.bulk_create(hooks)
        from .delivery import enqueue_sending

        enqueue_sending(email_ids=[d.pk for d in emails], webhook_ids=[d.pk for d in hooks])
        return len(created)
