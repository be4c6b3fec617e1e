"""Notification services: the periodic jobs (expiry, reminders, low balance, stuck deliveries)
and webhook subscriptions. Every job is idempotent: running it twice sends nothing twice."""

import base64
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum

from tuition.core import clock
from tuition.core.actors import Actor
from tuition.core.amounts import parse_amount
from tuition.core.audit import record_change
from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.transactions import use_case
from tuition.ledger import services as ledger
from tuition.ledger.models import Lot, Transfer, Unit
from tuition.ledger.selectors import available_balance

from . import directory, events, fan_out
from .delivery import due_stuck_deliveries, enqueue_sending, stuck_grace
from .models import DeliveryStatus, LowBalanceState, WebhookDelivery, WebhookSubscription
from .ssrf import check_webhook_url

UNSET: Any = object()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class _Units:
    """Units by id, read once per job."""

    def __init__(self) -> None:
        self._by_id: dict[int, Unit] = {}

    def __getitem__(self, unit_id: int) -> Unit:
        if unit_id not in self._by_id:
            self._by_id = {u.pk: u for u in Unit.objects.all()}
        return self._by_id[unit_id]


def _account_names(account_ids: Iterable[int]) -> dict[int, str]:
    return directory.accounts().names(account_ids)


# Expiry ---------------------------------------------------------------------------------------


def expire_credits(*, actor: Actor, at: datetime | None = None, batch_size: int = 500) -> int:
    """Book the expiry of every expired lot that still holds value, and record a
    `credit.expired` event for each in the same batch transaction. Returns the lots expired.

    Raises:
        ServiceBusyError: the database stayed busy.
    """
    units = _Units()

    def on_expired(lots: list[Lot], transfers: list[Transfer]) -> None:
        names = _account_names(lot.account_id for lot in lots)
        events.record_many(
            [
                events.PendingEvent(
                    kind=events.CREDIT_EXPIRED,
                    account_id=lot.account_id,
                    data={
                        "account_name": names.get(lot.account_id, ""),
                        "lot_id": str(lot.pk),
                        "unit": units[lot.unit_id].code,
                        "amount": units[lot.unit_id].format(lot.remaining),
                        "expires_at": _iso(lot.expires_at),
                    },
                    dedupe_key=f"{events.CREDIT_EXPIRED}:{transfer.unique_key}",
                )
                for lot, transfer in zip(lots, transfers, strict=True)
            ]
        )

    booked = ledger.expire_lots(at=at, batch_size=batch_size, actor=actor, on_expired=on_expired)
    return len(booked)


def reminder_days() -> list[int]:
    return sorted(
        {int(d) for d in settings.TUITION.get("EXPIRY_REMINDER_DAYS", [30, 7]) if int(d) > 0}
    )


def send_expiry_reminders(*, actor: Actor, at: datetime | None = None) -> int:
    """Remind owners of credits expiring within a threshold (30 and 7 days by default) whose
    value the account's other usable credits would not cover. Each lot gets at most one
    reminder per threshold and expiry date: a reminder is never sent twice, but a lot whose
    expiry was moved can be reminded again about the new date. Returns the reminders recorded.

    Raises:
        ServiceBusyError: the database stayed busy.
    """
    at = at or clock.now()
    thresholds = reminder_days()
    if not thresholds:
        return 0
    horizon = at + timedelta(days=thresholds[-1])
    units = _Units()
    sent = 0
    after_id = 0
    while True:
        lots = list(
            Lot.objects.filter(
                pk__gt=after_id,
                status=Lot.Status.ACTIVE,
                deleted_at__isnull=True,
                remaining__gt=0,
                expires_at__gt=at,
                expires_at__lte=horizon,
            ).order_by("pk")[:500]
        )
        if not lots:
            return sent
        after_id = lots[-1].pk
        names = _account_names(lot.account_id for lot in lots)
        for lot in lots:
            assert lot.expires_at is not None
            days = next(d for d in thresholds if lot.expires_at <= at + timedelta(days=d))
            if _other_lots_cover(lot, at):
                continue
            unit = units[lot.unit_id]
            sent += events.record_many(
                [
                    events.PendingEvent(
                        kind=events.CREDIT_EXPIRING_SOON,
                        account_id=lot.account_id,
                        data={
                            "account_name": names.get(lot.account_id, ""),
                            "lot_id": str(lot.pk),
                            "unit": unit.code,
                            "amount": unit.format(lot.remaining),
                            "expires_at": _iso(lot.expires_at),
                            "days": days,
                        },
                        dedupe_key=(
                            f"{events.CREDIT_EXPIRING_SOON}:{lot.pk}:{days}:"
                            f"{int(lot.expires_at.timestamp())}"
                        ),
                    )
                ]
            )


def _other_lots_cover(lot: Lot, at: datetime) -> bool:
    """Whether the account's other credits in the unit, usable now and still after this one
    expires, hold at least what this one would lose."""
    assert lot.expires_at is not None
    others = (
        Lot.objects.filter(
            account_id=lot.account_id,
            unit_id=lot.unit_id,
            status=Lot.Status.ACTIVE,
            deleted_at__isnull=True,
            remaining__gt=0,
        )
        .exclude(pk=lot.pk)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=lot.expires_at))
        .aggregate(total=Sum("remaining"))["total"]
        or 0
    )
    return others >= lot.remaining


# Low balance ----------------------------------------------------------------------------------


def check_low_balances(*, actor: Actor, at: datetime | None = None) -> int:
    """Alert once when an account's usable balance in a unit falls below its threshold
    (`TrainingAccount.low_balance_threshold`, e.g. {"USD": "100.00"}); alert again only after
    the balance has been back at or above it. Returns the alerts recorded.

    Raises:
        ServiceBusyError: the database stayed busy.
    """
    at = at or clock.now()
    units = {u.code: u for u in Unit.objects.all()}
    alerts = 0
    for account_id, account_name, thresholds in directory.accounts().low_balance_thresholds():
        for code, raw in sorted(thresholds.items()):
            unit = units.get(code)
            if unit is None:
                continue
            try:
                threshold = parse_amount(str(raw), decimals=unit.decimals, allow_zero=True)
            except ValidationError:
                continue
            available = available_balance(account_id=account_id, unit_id=unit.pk, at=at)
            alerts += _update_low_state(account_id, account_name, unit, available, threshold, at)
    return alerts


@use_case
def _update_low_state(
    account_id: int, account_name: str, unit: Unit, available: int, threshold: int, at: datetime
) -> int:
    state, _ = LowBalanceState.objects.get_or_create(account_id=account_id, unit_code=unit.code)
    if available >= threshold:
        LowBalanceState.objects.filter(pk=state.pk, is_low=True).update(is_low=False, changed_at=at)
        return 0
    # The guarded update is the crossing: of two checkers running at once, one wins.
    crossed = LowBalanceState.objects.filter(pk=state.pk, is_low=False).update(
        is_low=True, crossings=F("crossings") + 1, changed_at=at
    )
    if not crossed:
        return 0
    crossings = LowBalanceState.objects.values_list("crossings", flat=True).get(pk=state.pk)
    events.record(
        events.BALANCE_LOW,
        account_id=account_id,
        data={
            "account_name": account_name,
            "unit": unit.code,
            "available": unit.format(available),
            "threshold": unit.format(threshold),
        },
        dedupe_key=f"{events.BALANCE_LOW}:{account_id}:{unit.code}:{crossings}",
    )
    return 1


# Deliveries -----------------------------------------------------------------------------------


def retry_stuck_deliveries(*, actor: Actor, at: datetime | None = None) -> int:
    """Hand back to the worker deliveries whose worker died mid-send (their lease ran out) or
    whose task was lost, and events whose fan-out task was lost. Sending twice at once is
    impossible: each send claims the row first, and a fan-out locks its events.
    Returns how many deliveries and events were re-enqueued.
    """
    now = at or clock.now()
    emails, hooks = due_stuck_deliveries(now)
    events = fan_out.pending_ids(now, grace=stuck_grace())
    with transaction.atomic():
        enqueue_sending(email_ids=emails, webhook_ids=hooks)
        fan_out.enqueue_fan_out(events)
    return len(emails) + len(hooks) + len(events)


@use_case
def retry_webhook_delivery(*, delivery_id: int, actor: Actor) -> WebhookDelivery:
    """Send a webhook delivery again now (e.g. a dead one after the endpoint was fixed).

    Raises:
        NotFoundError: no such delivery.
    """
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFoundError("No such webhook delivery.")
    now = clock.now()
    WebhookDelivery.objects.filter(pk=delivery_id).exclude(status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now, attempts=0, lease_until=None
    )
    enqueue_sending(webhook_ids=[delivery_id])
    delivery.refresh_from_db()
    return delivery


# Webhook subscriptions ------------------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _check_kinds(kinds: Iterable[str]) -> list[str]:
    kinds = list(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in events.KINDS]
    if unknown:
        raise ValidationError(
            f"Unknown event kinds: {', '.join(map(str, unknown))}.",
            details={"field": "event_kinds", "allowed": events.KINDS},
        )
    return kinds


def _check_url(url: str) -> str:
    url = (url or "").strip()
    if not url or len(url) > 2000:
        raise ValidationError("A webhook needs a URL.", details={"field": "url"})
    check_webhook_url(url)
    return url


def create_subscription(
    *,
    url: str,
    actor: Actor,
    event_kinds: Iterable[str] = (),
    account_id: int | None = None,
    description: str = "",
    is_active: bool = True,
) -> WebhookSubscription:
    """Subscribe an endpoint to event kinds (none given: every kind), for one account's events
    or (account_id None) every account's. The secret is generated and readable on the row.

    Raises:
        ValidationError: a missing or non-http(s) URL, unknown kinds, an unknown account.
        UnsafeWebhookUrlError: the URL points at a private, loopback or link-local address.
    """
    # The URL check resolves the host name: network I/O, so it runs before the transaction.
    return _create_subscription(
        url=_check_url(url),
        actor=actor,
        kinds=_check_kinds(event_kinds),
        account_id=account_id,
        description=description,
        is_active=is_active,
    )


@use_case
def _create_subscription(
    *,
    url: str,
    actor: Actor,
    kinds: list[str],
    account_id: int | None,
    description: str,
    is_active: bool,
) -> WebhookSubscription:
    if account_id is not None and not directory.accounts().exists(account_id):
        raise ValidationError("No such account.", details={"field": "account"})
    subscription = WebhookSubscription.objects.create(
        url=url,
        event_kinds=kinds,
        account_id=account_id,
        description=description[:200],
        is_active=is_active,
        secret=new_secret(),
        created_at=clock.now(),
        created_by=actor[:200],
    )
    record_change(actor=actor, verb="created", obj=subscription, summary=", ".join(kinds))
    return subscription


def _subscription_for_update(subscription_id: int) -> WebhookSubscription:
    found = (
        WebhookSubscription.objects.select_for_update()
        .filter(pk=subscription_id, deleted_at__isnull=True)
        .first()
    )
    if found is None:
        raise NotFoundError("No such webhook subscription.")
    return found


def update_subscription(
    *,
    subscription_id: int,
    actor: Actor,
    url: str = UNSET,
    event_kinds: Iterable[str] = UNSET,
    description: str = UNSET,
    is_active: bool = UNSET,
) -> WebhookSubscription:
    """Change a subscription's URL, kinds, description or active flag (only what is given).

    Raises:
        NotFoundError: no such subscription, or it was deleted.
        ValidationError, UnsafeWebhookUrlError: as for create_subscription.
    """
    # The URL check resolves the host name: network I/O, so it runs before the transaction.
    checked_url = UNSET if url is UNSET else _check_url(url)
    return _update_subscription(
        subscription_id=subscription_id,
        actor=actor,
        url=checked_url,
        event_kinds=event_kinds,
        description=description,
        is_active=is_active,
    )


@use_case
def _update_subscription(
    *,
    subscription_id: int,
    actor: Actor,
    url: str,
    event_kinds: Iterable[str],
    description: str,
    is_active: bool,
) -> WebhookSubscription:
    subscription = _subscription_for_update(subscription_id)
    if url is not UNSET:
        subscription.url = url
    if event_kinds is not UNSET:
        subscription.event_kinds = _check_kinds(event_kinds)
    if description is not UNSET:
        subscription.description = (description or "")[:200]
    if is_active is not UNSET:
        subscription.is_active = bool(is_active)
    subscription.save()
    changed = [
        name
        for name, value in (
            ("url", url),
            ("event_kinds", event_kinds),
            ("description", description),
            ("is_active", is_active),
        )
        if value is not UNSET
    ]
    record_change(actor=actor, verb="changed", obj=subscription, summary=", ".join(changed))
    return subscription


@use_case
def delete_subscription(*, subscription_id: int, actor: Actor) -> None:
    """Stop a subscription for good; its delivery log stays, undelivered ones are dropped.

    Raises:
        NotFoundError: no such subscription, or it was already deleted.
    """
    subscription = _subscription_for_update(subscription_id)
    subscription.deleted_at = clock.now()
    subscription.is_active = False
    subscription.save(update_fields=["deleted_at", "is_active"])
    WebhookDelivery.objects.filter(
        subscription_id=subscription_id, status=DeliveryStatus.PENDING
    ).update(status=DeliveryStatus.DEAD, last_error="The subscription was deleted.")
    record_change(actor=actor, verb="deleted", obj=subscription)


@use_case
def rotate_secret(
    *, subscription_id: int, actor: Actor, grace: timedelta = timedelta(hours=24)
) -> WebhookSubscription:
    """Give a subscription a new secret. The old one keeps signing (as a second signature)
    for `grace`, so the consumer can switch without rejecting deliveries.

    Raises:
        NotFoundError: no such subscription, or it was deleted.
    """
    subscription = _subscription_for_update(subscription_id)
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = clock.now() + grace
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    record_change(actor=actor, verb="secret rotated", obj=subscription)
    return subscription
