"""What happened that people should hear about: the seam between value-moving services and
notifications.

Services call `record(...)` inside their own transaction. It writes the event, one email
delivery per recipient and one webhook delivery per matching subscription, and enqueues the
task that sends them, all in the caller's transaction (a transactional outbox): an event exists
exactly when the change it describes committed, and nothing is sent for a change that rolled
back. Delivery happens later, outside any transaction, in the worker.

Recipients: the account's owners, and members who opted in (`Membership.notify`). Members who
may not see the balance get no `balance.low` notice and see no balance figures in the others.

Personal events (`PERSONAL_KINDS`) are about one person rather than an account: a learner's own
registration and bookings, a person added to an account. They name their recipients
(`recipients=[Person(...)]`) instead of fanning out to the account, never show balance figures,
and may have no account at all (card and coupon orders): `account_id=None`. Recording one costs
the event insert, the email delivery insert, the subscription read and the task, with no read
of memberships. Webhook subscriptions receive them like any other kind (an integrating LMS
wants to hear about enrolments); an account-scoped subscription hears those of its account.

Dependency direction: this module imports only Django and `tuition.core` at import time (models
and selectors are imported inside the functions), so services of other apps, `accounts`
included, may import it without an import cycle.

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
    refill.automatic       rule_id, trigger ("threshold" | "allowance"), amount, method
                           ("card" | "invoice"), threshold?, order_number, price, status
                           ("paid" | "invoiced"), period (firing number or "2026-12")
    refill.automatic_paused rule_id, trigger, amount, method, threshold?, reason
                           ("card_declined"), message

Personal kinds (no `unit`; `account_name` only where an account applies):

    registration.confirmed registration_id, order_id, order_number, item_kind, item_id,
                           item_title, learner_email, learner_name?, amount, unit, method,
                           account_id?, account_name?, session? (see below)
    booking.changed        change ("booked" | "moved" | "unenrolled"), registration_id,
                           booking_id, order_number, activity_id, item_title, learner_email,
                           session (the booked, new or left session), previous_session? (moved)
    registration.cancelled registration_id, order_number, item_title, learner_email,
                           refunded (bool), refund_amount?, unit?, by_staff (bool)
    member.invited         account_id, account_name, email, role ("owner" | "member"),
                           has_password (bool: sign in, or set a password first)

A session is {id, starts_at, ends_at (ISO 8601 in the session's time zone), timezone,
location, when (the date and time spelled out for people, in that time zone)}.
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
# Automatic refills (SPEC §7): one bought, or one paused because the card was declined.
REFILL_AUTOMATIC = "refill.automatic"
REFILL_AUTOMATIC_PAUSED = "refill.automatic_paused"
# Personal kinds: sent to the people named when recording, not to the account's people.
REGISTRATION_CONFIRMED = "registration.confirmed"
BOOKING_CHANGED = "booking.changed"
REGISTRATION_CANCELLED = "registration.cancelled"
MEMBER_INVITED = "member.invited"
PERSONAL_KINDS = {REGISTRATION_CONFIRMED, BOOKING_CHANGED, REGISTRATION_CANCELLED, MEMBER_INVITED}
KINDS = [
    CREDIT_ISSUED,
    CREDIT_REDEEMED,
    CREDIT_EXPIRED,
    CREDIT_EXPIRY_CHANGED,
    CREDIT_EXPIRING_SOON,
    BALANCE_LOW,
    REFILL_PURCHASED,
    REFILL_AUTOMATIC,
    REFILL_AUTOMATIC_PAUSED,
    REGISTRATION_CONFIRMED,
    BOOKING_CHANGED,
    REGISTRATION_CANCELLED,
    MEMBER_INVITED,
]

# Kinds that are about the balance itself: not sent to members who may not see it.
BALANCE_ONLY_KINDS = {BALANCE_LOW}


@dataclass(frozen=True)
class Person:
    """A named recipient of a personal event (a user with an email address)."""

    user_id: int
    email: str


def person(user: Any) -> Person:
    """The recipient for a user object (anything with `pk` and `email`)."""
    return Person(user.pk, user.email)


@dataclass(frozen=True)
class PendingEvent:
    kind: str
    account_id: int | None
    data: dict[str, Any]
    dedupe_key: str | None = None
    # Personal events name their recipients; account events leave this None (fan-out).
    recipients: tuple[Person, ...] | None = None


def record(
    kind: str,
    *,
    account_id: int | None,
    data: dict[str, Any],
    dedupe_key: str | None = None,
    recipients: Sequence[Person] | None = None,
) -> None:
    """Record an event inside the caller's transaction.

    `data` is JSON-safe (amounts as decimal strings with their unit). `dedupe_key`, when given,
    makes a second record with the same key a no-op (e.g. one expiring-soon reminder per lot
    and threshold). `recipients` is for personal kinds: exactly these people get the email,
    and `account_id` may be None.

    Raises:
        ValueError: an unknown kind, a personal kind without recipients, or an account kind
            without an account (programming errors, not a user's).
    """
    record_many(
        [
            pending(
                kind, account_id=account_id, data=data, dedupe_key=dedupe_key, recipients=recipients
            )
        ]
    )


def pending(
    kind: str,
    *,
    account_id: int | None,
    data: dict[str, Any],
    dedupe_key: str | None = None,
    recipients: Sequence[Person] | None = None,
) -> PendingEvent:
    """An event to pass to `record_many` with others (one insert for all of them)."""
    return PendingEvent(
        kind, account_id, data, dedupe_key, tuple(recipients) if recipients is not None else None
    )


def record_many(events: Sequence[PendingEvent]) -> int:
    """Record several events at once (the expiry sweep records one per expired lot).

    Returns how many were new (the rest were duplicates by `dedupe_key`).

    Raises:
        ValueError: an unknown kind, a personal kind without recipients, an account kind
            without an account.
    """
    from .models import EmailDelivery, NotificationEvent, WebhookDelivery
    from .selectors import active_subscriptions, recipients_by_account

    for event in events:
        if event.kind not in KINDS:
            raise ValueError(f"Unknown notification kind {event.kind!r}.")
        if event.kind in PERSONAL_KINDS and event.recipients is None:
            raise ValueError(f"{event.kind} is personal: name its recipients.")
        if event.recipients is None and event.account_id is None:
            raise ValueError(f"{event.kind} needs an account.")
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

        # bulk_create and save() return the very row objects built above.
        named = {id(row): e.recipients for row, e in zip(rows, fresh, strict=True)}
        fan_out = {
            row.account_id
            for row in created
            if named[id(row)] is None and row.account_id is not None
        }
        # Personal events name their people: no membership read for them.
        recipients = recipients_by_account(fan_out) if fan_out else {}
        subscriptions = active_subscriptions()
        emails: list[EmailDelivery] = []
        hooks: list[WebhookDelivery] = []
        for saved in created:
            people = named[id(saved)]
            if people is not None:
                # One email per person, whoever was named twice.
                targets = [
                    (user_id, email, False)
                    for user_id, email in {p.user_id: p.email for p in people if p.email}.items()
                ]
            else:
                targets = [
                    (r.user_id, r.email, r.show_balance)
                    for r in recipients.get(saved.account_id or 0, [])
                    if r.show_balance or saved.kind not in BALANCE_ONLY_KINDS
                ]
            for user_id, email, show_balance in targets:
                emails.append(
                    EmailDelivery(
                        event=saved,
                        user_id=user_id,
                        email=email,
                        show_balance=show_balance,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
            for sub in subscriptions:
                if sub.wants(saved.kind) and sub.account_id in (None, saved.account_id):
                    hooks.append(
                        WebhookDelivery(
                            event=saved, subscription=sub, next_attempt_at=now, created_at=now
                        )
                    )
        emails = EmailDelivery.objects.bulk_create(emails)
        hooks = WebhookDelivery.objects.bulk_create(hooks)
        from .delivery import enqueue_sending

        enqueue_sending(email_ids=[d.pk for d in emails], webhook_ids=[d.pk for d in hooks])
        return len(created)
