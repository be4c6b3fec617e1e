"""From recorded events to deliveries: the worker's first step after a change committed.

A change records its events as outbox rows (`events.record_many`), which costs its transaction
two inserts (the events and one task) whatever the number of people and subscriptions. The
worker then fans each event out, in a short transaction of its own: one email delivery per
recipient (the account's owners and opted-in members, or the people a personal event names)
and one webhook delivery per matching subscription, and hands them to the sender.

Once each, across crashes: the event rows are locked and `fanned_out_at` is set in the same
transaction as the deliveries (a second run finds nothing left to do), and the unique pairs
(event, person) and (event, subscription) keep even a racing run from writing a delivery twice.
A fan-out whose task was lost is picked up by `retry_stuck_deliveries` (see `pending_ids`).

A use case that records its events under a lock it must hold briefly (checkout, under the
wallet's lock) wakes the worker first instead (`wake_fan_out`): the task row is written before
the lock, in the same transaction, and fans out whatever is pending when it runs.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.tasks import task

from tuition.core import clock
from tuition.core.transactions import use_case

from . import listeners
from .delivery import enqueue_sending, outbox_backend
from .directory import Recipient
from .kinds import BALANCE_ONLY_KINDS
from .models import EmailDelivery, NotificationEvent, WebhookDelivery, WebhookSubscription
from .selectors import active_subscriptions, recipients_by_account

CHUNK = 100


def enqueue_fan_out(event_ids: Sequence[int]) -> None:
    """Wake the worker for these events: in the caller's transaction with the database task
    backend (the task exists exactly when the events do), after commit with any other."""
    ids = list(event_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if outbox_backend():
            fan_out_events.enqueue(event_ids=chunk)
        else:
            transaction.on_commit(lambda c=chunk: fan_out_events.enqueue(event_ids=c))


def wake_fan_out() -> None:
    """Wake the worker to fan out every pending event, this transaction's included (its
    events are recorded with `worker_woken=True`). Like `enqueue_fan_out`, the task is part of
    the caller's transaction with the database task backend; it names no events, so it can
    be written before the events are."""
    if outbox_backend():
        fan_out_pending_events.enqueue()
    else:
        transaction.on_commit(fan_out_pending_events.enqueue)


@task()
def fan_out_events(*, event_ids: list[int]) -> int:
    return fan_out(event_ids=event_ids)


@task()
def fan_out_pending_events() -> int:
    return fan_out_pending()


def fan_out_pending() -> int:
    """Fan out the events pending now, a chunk at a time; events another run has locked are
    that run's. Returns how many this run fanned out."""
    last_id = NotificationEvent.objects.filter(fanned_out_at__isnull=True).aggregate(
        last=Max("pk")
    )["last"]
    done = 0
    while last_id is not None and (fanned := _fan_out_next_chunk(last_id=last_id)):
        done += fanned
    return done


@use_case
def _fan_out_next_chunk(*, last_id: int) -> int:
    pending = list(
        NotificationEvent.objects.select_for_update(skip_locked=True)
        .filter(pk__lte=last_id, fanned_out_at__isnull=True)
        .order_by("pk")[:CHUNK]
    )
    return _fan_out_locked(pending, clock.now())


@use_case
def fan_out(*, event_ids: Sequence[int]) -> int:
    """Write the deliveries of the events not fanned out yet, and hand them to the sender.

    Returns how many events it fanned out (0 when another run already had).
    """
    pending = list(
        NotificationEvent.objects.select_for_update()
        .filter(pk__in=list(event_ids), fanned_out_at__isnull=True)
        .order_by("pk")
    )
    return _fan_out_locked(pending, clock.now())


def _fan_out_locked(pending: list[NotificationEvent], now: datetime) -> int:
    """Write the deliveries of these events, locked and not fanned out yet."""
    if not pending:
        return 0
    emails = _emails(pending, now)
    hooks = _webhooks(pending, active_subscriptions(), now)
    # The row locks keep a second run out (SQLite's single writer does the same); the unique
    # pairs would refuse its rows anyway, rolling it back whole.
    emails = EmailDelivery.objects.bulk_create(emails)
    hooks = WebhookDelivery.objects.bulk_create(hooks)
    NotificationEvent.objects.filter(pk__in=[e.pk for e in pending]).update(fanned_out_at=now)
    listeners.fanned_out(pending)
    enqueue_sending(email_ids=[d.pk for d in emails], webhook_ids=[d.pk for d in hooks])
    return len(pending)


def _emails(pending: list[NotificationEvent], now: datetime) -> list[EmailDelivery]:
    named_ids = {pk for e in pending if e.recipient_ids is not None for pk in e.recipient_ids}
    named = dict(get_user_model().objects.filter(pk__in=named_ids).values_list("pk", "email"))
    by_account = recipients_by_account(
        {e.account_id for e in pending if e.recipient_ids is None and e.account_id is not None}
    )
    emails = []
    for event in pending:
        for user_id, email, show_balance in _targets(event, named, by_account):
            emails.append(
                EmailDelivery(
                    event=event,
                    user_id=user_id,
                    email=email,
                    show_balance=show_balance,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    return emails


def _targets(
    event: NotificationEvent, named: dict[int, str], by_account: dict[int, list[Recipient]]
) -> list[tuple[int, str, bool]]:
    """(user id, email, may see the balance) for each person the event goes to, once each."""
    if event.recipient_ids is not None:
        # Personal events never show balance figures.
        return [(pk, named[pk], False) for pk in event.recipient_ids if named.get(pk)]
    return [
        (r.user_id, r.email, r.show_balance)
        for r in by_account.get(event.account_id or 0, [])
        if r.show_balance or event.kind not in BALANCE_ONLY_KINDS
    ]


def _webhooks(
    pending: list[NotificationEvent], subscriptions: list[WebhookSubscription], now: datetime
) -> list[WebhookDelivery]:
    return [
        WebhookDelivery(event=event, subscription=sub, next_attempt_at=now, created_at=now)
        for event in pending
        for sub in subscriptions
        if sub.wants(event.kind) and sub.account_id in (None, event.account_id)
    ]


def pending_ids(now: datetime, *, grace: timedelta) -> list[int]:
    """Events recorded more than `grace` ago and still not fanned out: their task was lost."""
    return list(
        NotificationEvent.objects.filter(
            fanned_out_at__isnull=True, created_at__lt=now - grace
        ).values_list("pk", flat=True)[:5000]
    )
