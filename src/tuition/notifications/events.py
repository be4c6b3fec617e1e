"""What happened that people should hear about: the seam between value-moving services and
notifications.

Services call `record(...)` inside their own transaction. It writes the event (the outbox
row) and the task that wakes the worker, in the caller's transaction (a transactional outbox):
an event exists exactly when the change it describes committed, and nothing is sent for a
change that rolled back. The worker then fans each event out, once, to one email delivery per
recipient and one webhook delivery per matching subscription (`fan_out.fan_out`), and sends
them outside any transaction.

Recipients: the account's owners, and members who opted in (`Membership.notify`). Members who
may not see the balance get no `balance.low` notice and see no balance figures in the others.

Personal events (`PERSONAL_KINDS`) are about one person rather than an account: a learner's own
registration and bookings, a person added to an account. They name their recipients
(`recipients=[Person(...)]`) instead of fanning out to the account, never show balance figures,
and may have no account at all (card and coupon orders): `account_id=None`. Webhook
subscriptions receive them like any other kind (an integrating LMS wants to hear about
enrolments); an account-scoped subscription hears those of its account.

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
    hold.placed            hold_id, order_number, amount, item_title, learner_email,
                           expires_at (when it is released undecided), session?
    hold.approved          the same, once the redemption went through
    hold.declined          the same, once the value went back
    hold.expired           the same, released undecided after expires_at
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
    order.refunded         order_id, order_number, item_title, amount (refunded now), unit,
                           refunded_total, charged, credit_note_number, reason,
                           learner_email, account_name? (sent to the learner and the
                           account's owners; a partial refund, the registration stays)
    registration.not_approved order_id, order_number, item_title, learner_email, amount,
                           unit, account_name, reason ("declined" | "expired"), session?
                           (a request that waited for approval: nothing was charged)
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
from tuition.core.reused_queries import insert_many

from .fan_out import enqueue_fan_out, wake_fan_out
from .kinds import (  # noqa: F401 - recorders name the kinds through this module
    BALANCE_LOW,
    BALANCE_ONLY_KINDS,
    BOOKING_CHANGED,
    CREDIT_EXPIRED,
    CREDIT_EXPIRING_SOON,
    CREDIT_EXPIRY_CHANGED,
    CREDIT_ISSUED,
    CREDIT_REDEEMED,
    HOLD_APPROVED,
    HOLD_DECLINED,
    HOLD_EXPIRED,
    HOLD_PLACED,
    KINDS,
    MEMBER_INVITED,
    ORDER_REFUNDED,
    PERSONAL_KINDS,
    REFILL_AUTOMATIC,
    REFILL_AUTOMATIC_PAUSED,
    REFILL_PURCHASED,
    REGISTRATION_CANCELLED,
    REGISTRATION_CONFIRMED,
    REGISTRATION_NOT_APPROVED,
)
from .models import NotificationEvent


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
    worker_woken: bool = False,
) -> None:
    """Record an event inside the caller's transaction.

    `data` is JSON-safe (amounts as decimal strings with their unit). `dedupe_key`, when given,
    makes a second record with the same key a no-op (e.g. one expiring-soon reminder per lot
    and threshold). `recipients` is for personal kinds: exactly these people get the email,
    and `account_id` may be None; for an account kind, none (`()`) means webhooks only (a
    fuller event of the same change is the one the account's people are emailed about).
    `worker_woken`: as for `record_many`.

    Raises:
        ValueError: an unknown kind, a personal kind without recipients, or an account kind
            without an account (programming errors, not a user's).
    """
    record_many(
        [
            pending(
                kind, account_id=account_id, data=data, dedupe_key=dedupe_key, recipients=recipients
            )
        ],
        worker_woken=worker_woken,
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


def record_many(events: Sequence[PendingEvent], *, worker_woken: bool = False) -> int:
    """Record several events at once (the expiry sweep records one per expired lot).

    Inside the caller's transaction this costs one insert of the events (the outbox rows)
    and one task row that wakes the worker; the worker fans each event out to its emails and
    webhooks afterwards (`fan_out`). With dedupe keys, one read of the keys already taken.
    `worker_woken`: the caller's transaction has already called `wake_worker()`, so no task
    row is written here.

    Returns how many were new (the rest were duplicates by `dedupe_key`).

    Raises:
        ValueError: an unknown kind, a personal kind without recipients, an account kind
            without an account.
    """
    _check(events)
    if not events:
        return 0
    now = clock.now()
    fresh = _without_duplicates(events)
    rows = [
        NotificationEvent(
            kind=e.kind,
            account_id=e.account_id,
            data=e.data,
            dedupe_key=e.dedupe_key,
            # Personal events name their people by id: the worker reads their addresses.
            recipient_ids=(
                sorted({p.user_id for p in e.recipients}) if e.recipients is not None else None
            ),
            created_at=now,
        )
        for e in fresh
    ]
    if not rows:
        return 0
    created = _insert(rows, may_clash=any(e.dedupe_key for e in fresh))
    if created and not worker_woken:
        enqueue_fan_out([row.pk for row in created])
    return len(created)


def wake_worker() -> None:
    """Write the task that fans out this transaction's events before they are recorded, e.g.
    before taking a lock the recording happens under (`fan_out.wake_fan_out`); then record
    them with `worker_woken=True`."""
    wake_fan_out()


def _check(events: Sequence[PendingEvent]) -> None:
    for event in events:
        if event.kind not in KINDS:
            raise ValueError(f"Unknown notification kind {event.kind!r}.")
        if event.kind in PERSONAL_KINDS and event.recipients is None:
            raise ValueError(f"{event.kind} is personal: name its recipients.")
        if event.recipients is None and event.account_id is None:
            raise ValueError(f"{event.kind} needs an account.")


def _without_duplicates(events: Sequence[PendingEvent]) -> list[PendingEvent]:
    """The events whose dedupe key is neither recorded already nor repeated in this batch."""
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
    return fresh


def _insert(rows: list[Any], *, may_clash: bool) -> list[Any]:
    """Insert the events; with dedupe keys, inside a savepoint, so a concurrent recorder of
    the same key does not spoil the caller's transaction: then one at a time, skipping the
    duplicates. Without keys nothing can clash, and a savepoint would only cost two more
    round trips inside the caller's lock window."""
    try:
        with transaction.atomic(savepoint=may_clash):
            return insert_many(rows)
    except IntegrityError:
        if not may_clash:
            raise
    created = []
    for row in rows:
        try:
            with transaction.atomic():
                row.save(force_insert=True)
            created.append(row)
        except IntegrityError:
            continue
    return created
