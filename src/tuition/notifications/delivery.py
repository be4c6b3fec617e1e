"""Sending deliveries: claim, send, mark; retry with backoff; give up after the last attempt.

Each delivery row moves pending → sending → sent (or back to pending for a retry, or dead).
A worker claims a row with one guarded UPDATE that also counts the attempt and sets a lease,
so two workers never send the same row at once, and a worker killed mid-send leaves a row whose
lease runs out and which `retry_stuck_deliveries` hands to a live worker.

What cannot be avoided: an SMTP server (or webhook endpoint) may accept a message and the
worker die before it records "sent". That message is then sent again after the lease — the
at-least-once edge of any sender that is not in the receiver's transaction. It is narrowed to
the few milliseconds between the server's "250 OK" and our UPDATE (the row is marked right
after each message, before the next one and before QUIT), and made recognisable: the email's
Message-ID and the webhook's `webhook-id` are derived from the delivery id and are identical on
every attempt, so mail systems and webhook consumers can drop the repeat.
"""

import contextlib
import json
import logging
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import F, Q
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape, format_html, strip_tags
from django.utils.translation import gettext_lazy as _
from standardwebhooks import Webhook

from tuition.core import clock
from tuition.core.faults import fault_point
from tuition.core.languages import language_of, zone_of

from .attachments import attachments_for
from .kinds import PERSONAL_KINDS
from .models import DeliveryStatus, EmailDelivery, NotificationEvent, WebhookDelivery
from .readable import readable
from .ssrf import UnsafeWebhookUrlError, check_webhook_url

logger = logging.getLogger(__name__)

SUBJECTS = {
    "credit.issued": _("New {unit} credit for {account_name}"),
    "credit.redeemed": _("{account_name}: {unit} credit used"),
    "credit.expired": _("{account_name}: {unit} credit expired"),
    "credit.expiry_changed": _("{account_name}: a credit's expiry date changed"),
    "credit.expiring_soon": _("{account_name}: {unit} credit expires soon"),
    "balance.low": _("{account_name}: {unit} balance is low"),
    "refill.purchased": _("{account_name}: refill purchased"),
    "refill.automatic": _("{account_name}: automatic refill of {unit}"),
    "refill.automatic_paused": _("{account_name}: automatic refill paused"),
    "registration.confirmed": _("You are registered: {item_title}"),
    "booking.changed": _("Your booking changed: {item_title}"),
    "registration.cancelled": _("Registration cancelled: {item_title}"),
    "member.invited": _("You were added to {account_name}"),
    "hold.placed": _("{account_name}: a redemption waits for your approval"),
    "hold.approved": _("{account_name}: redemption approved"),
    "hold.declined": _("{account_name}: redemption declined"),
    "hold.expired": _("{account_name}: approval request expired"),
    "order.refunded": _("Partial refund: {item_title}"),
    "registration.not_approved": _("Not approved: {item_title}"),
}


def _opt(name: str, default: float) -> float:
    return float(settings.TUITION.get(name, default))


def backoff(attempt: int) -> timedelta:
    """Exponential backoff after the `attempt`-th failure, with jitter so retries spread."""
    base = _opt("DELIVERY_BACKOFF_SECONDS", 30.0) * (2 ** (attempt - 1))
    base = min(base, 6 * 3600)
    return timedelta(seconds=base * random.uniform(1.0, 1.2))


# Enqueueing ---------------------------------------------------------------------------------


def enqueue_sending(
    *,
    email_ids: Sequence[int] = (),
    webhook_ids: Sequence[int] = (),
    run_after: datetime | None = None,
) -> None:
    """Hand deliveries to the worker.

    With the database task backend the task row is written in the current transaction, so it
    exists exactly when the deliveries do. Any other backend (tests, in-process) gets the task
    after commit instead, so nothing is ever sent from inside a transaction.
    """
    email_ids, webhook_ids = list(email_ids), list(webhook_ids)
    if not email_ids and not webhook_ids:
        return
    chunk = 100
    calls = [(email_ids[i : i + chunk], []) for i in range(0, len(email_ids), chunk)] + [
        ([], webhook_ids[i : i + chunk]) for i in range(0, len(webhook_ids), chunk)
    ]
    task = send_deliveries.using(run_after=run_after) if run_after else send_deliveries
    if outbox_backend():
        for emails, hooks in calls:
            task.enqueue(email_ids=emails, webhook_ids=hooks)
    else:
        for emails, hooks in calls:
            transaction.on_commit(
                lambda e=emails, h=hooks: task.enqueue(email_ids=e, webhook_ids=h)
            )


def outbox_backend() -> bool:
    from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend)


# Claiming -----------------------------------------------------------------------------------


def _claim(model: type[EmailDelivery] | type[WebhookDelivery], pk: int) -> int | None:
    """Take a due delivery for this worker; returns its attempt number, or None if it is not
    ours to send (already sent, dead, claimed by a live worker, or not yet due)."""
    now = clock.now()
    lease = timedelta(seconds=_opt("DELIVERY_LEASE_SECONDS", 300.0))
    claimed = (
        model.objects.filter(pk=pk)
        .filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, lease_until__lt=now)
        )
        .update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, lease_until=now + lease)
    )
    if claimed != 1:
        return None
    return model.objects.filter(pk=pk).values_list("attempts", flat=True).get()


def _mark_sent(model, pk: int, attempt: int, **fields) -> None:  # type: ignore[no-untyped-def]
    model.objects.filter(pk=pk, status=DeliveryStatus.SENDING, attempts=attempt).update(
        status=DeliveryStatus.SENT, sent_at=clock.now(), lease_until=None, last_error="", **fields
    )


def _mark_failed(model, pk: int, attempt: int, error: str, **fields) -> None:  # type: ignore[no-untyped-def]
    """Schedule the next attempt (the row and its retry task in one transaction), or give up."""
    now = clock.now()
    error = error[:2000]
    with transaction.atomic():
        if attempt >= int(_opt("DELIVERY_MAX_ATTEMPTS", 8)):
            model.objects.filter(pk=pk, status=DeliveryStatus.SENDING, attempts=attempt).update(
                status=DeliveryStatus.DEAD, lease_until=None, last_error=error, **fields
            )
            logger.warning(
                "Giving up %s %s after %s attempts: %s", model.__name__, pk, attempt, error
            )
            return
        retry_at = now + backoff(attempt)
        updated = model.objects.filter(
            pk=pk, status=DeliveryStatus.SENDING, attempts=attempt
        ).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=retry_at,
            lease_until=None,
            last_error=error,
            **fields,
        )
        if updated:
            key = "email_ids" if model is EmailDelivery else "webhook_ids"
            enqueue_sending(**{key: [pk]}, run_after=retry_at)


# Email --------------------------------------------------------------------------------------


class _Blank(dict):
    """Subject fields: a field an event does not carry reads as empty, never as an error."""

    def __missing__(self, key: str) -> str:
        return ""


def message_id_for(delivery: EmailDelivery) -> str:
    """The same Message-ID on every attempt, so a resend after a crash is recognisable."""
    sender = settings.DEFAULT_FROM_EMAIL
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "tuition.invalid"
    return f"<tuition.notification.{delivery.event_id}.{delivery.pk}@{domain}>"


def site_links(data: dict) -> dict[str, str]:
    """Absolute links for a personal email (the worker has no request to build them from)."""
    return _absolute_links(
        [
            ("learning", "portal:learning", {}),
            ("sign_in", "account_login", {}),
            ("set_password", "account_reset_password", {}),
            ("order", "portal:order", {"number": data.get("order_number")}),
        ]
    )


def account_links(account_id: int | None) -> dict[str, str]:
    """Absolute links for an account's people: its page and its approvals."""
    if account_id is None:
        return {}
    kwargs = {"account_id": account_id}
    return _absolute_links(
        [("account", "portal:account", kwargs), ("approvals", "portal:approvals", kwargs)]
    )


def _absolute_links(pages: list[tuple[str, str, dict[str, Any]]]) -> dict[str, str]:
    """name -> absolute URL of each page whose arguments are all given and that this
    installation has."""
    from django.urls import NoReverseMatch, reverse

    base = str(settings.TUITION.get("SITE_URL") or "http://localhost:8000").rstrip("/")
    links = {}
    for name, view, kwargs in pages:
        if any(not v for v in kwargs.values()):
            continue
        try:
            links[name] = base + reverse(view, kwargs=kwargs or None)
        except NoReverseMatch:  # an installation without that page
            continue
    return links


def build_email(delivery: EmailDelivery, event: NotificationEvent) -> EmailMultiAlternatives:
    """The email for one recipient, in their language (their profile's, else the site's), with
    times in their own time zone; a registration's receipt and invoice ride along as PDF."""
    user = delivery.user
    with translation.override(language_of(user)):
        return _build_email(delivery, event, zone=zone_of(user))


def _build_email(
    delivery: EmailDelivery, event: NotificationEvent, *, zone: str
) -> EmailMultiAlternatives:
    provider = settings.TUITION["PROVIDER_NAME"]
    data = dict(event.data)
    data.setdefault("account_name", "")
    data.setdefault("unit", "")
    personal = event.kind in PERSONAL_KINDS
    language = translation.get_language()
    shown = readable(data, language=language, zone=zone)
    bold = {
        key: format_html("<strong>{}</strong>", value)
        for key, value in {**data, **shown}.items()
        if isinstance(value, str) and value
    }
    attachments = attachments_for(event)
    context = {
        "kind": event.kind,
        "data": data,
        "shown": shown,
        "bold": bold,
        "provider_name": provider,
        "show_balance": delivery.show_balance,
        "event": event,
        "personal": personal,
        "links": site_links(data) if personal else account_links(event.account_id),
        "attached": bool(attachments),
    }
    fields = _Blank({k: v for k, v in data.items() if isinstance(v, str | int)}, provider=provider)
    subject = str(SUBJECTS.get(event.kind, _("Notification from {provider}"))).format_map(fields)
    subject = f"[{provider}] {subject}".replace("\n", " ")
    names = [v for v in data.values() if isinstance(v, str)]
    text = _one_period(render_to_string("notifications/email/message.txt", context), names)
    html = _one_period(render_to_string("notifications/email/message.html", context), names)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text or strip_tags(html),
        to=[delivery.email],
        headers={
            "Message-ID": message_id_for(delivery),
            "X-Tuition-Event": event.kind,
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
        },
    )
    message.attach_alternative(html, "text/html")
    for filename, content in attachments:
        message.attach(filename, content, "application/pdf")
    return message


def _one_period(rendered: str, names: list[str]) -> str:
    """A name that ends in a period ("Acme Inc.") at the end of a sentence takes no second
    one ("Acme Inc.."), in any language: the sentence's period is dropped after it, in the
    text and in the HTML (escaped, perhaps bold)."""
    for name in {n for n in names if len(n) > 1 and n.endswith(".")}:
        for shown in {name, str(escape(name))}:
            rendered = rendered.replace(f"{shown}.", shown)
            rendered = rendered.replace(f"{shown}</strong>.", f"{shown}</strong>")
    return rendered


def send_emails(delivery_ids: Sequence[int]) -> None:
    """Send these email deliveries over one mail connection, marking each right after it."""
    connection = None
    try:
        for pk in delivery_ids:
            attempt = _claim(EmailDelivery, pk)
            if attempt is None:
                continue
            delivery = EmailDelivery.objects.select_related("event").get(pk=pk)
            try:
                message = build_email(delivery, delivery.event)
                if connection is None:
                    connection = mailers.default
                    connection.open()
                connection.send_messages([message])
            except Exception as exc:
                if connection is not None:
                    # A broken connection is replaced for the next message.
                    with contextlib.suppress(Exception):
                        connection.close()
                    connection = None
                _mark_failed(EmailDelivery, pk, attempt, f"{type(exc).__name__}: {exc}")
                continue
            fault_point("mid_notification_delivery")
            _mark_sent(EmailDelivery, pk, attempt, message_id=message_id_for(delivery))
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):  # already sent and recorded
                connection.close()


# Webhooks -----------------------------------------------------------------------------------


def webhook_payload(event: NotificationEvent) -> str:
    body = {
        "type": event.kind,
        "timestamp": event.created_at.isoformat(),
        "data": {
            "event_id": str(event.pk),
            "account_id": str(event.account_id) if event.account_id is not None else None,
            **event.data,
        },
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str)


def webhook_headers(delivery: WebhookDelivery, body: str, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers; during a secret rotation both secrets sign."""
    subscription = delivery.subscription
    signatures = [Webhook(subscription.secret).sign(delivery.message_id, at, body)]
    if (
        subscription.previous_secret
        and subscription.previous_secret_expires_at
        and subscription.previous_secret_expires_at > at
    ):
        signatures.append(Webhook(subscription.previous_secret).sign(delivery.message_id, at, body))
    return {
        "content-type": "application/json",
        "user-agent": f"Tuition-Webhooks ({settings.TUITION['PROVIDER_NAME']})",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def send_webhooks(delivery_ids: Sequence[int]) -> None:
    timeout = httpx.Timeout(_opt("WEBHOOK_TIMEOUT_SECONDS", 10.0), connect=5.0)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for pk in delivery_ids:
            attempt = _claim(WebhookDelivery, pk)
            if attempt is None:
                continue
            delivery = WebhookDelivery.objects.select_related("event", "subscription").get(pk=pk)
            subscription = delivery.subscription
            if not subscription.is_active or subscription.deleted_at is not None:
                WebhookDelivery.objects.filter(pk=pk, attempts=attempt).update(
                    status=DeliveryStatus.DEAD,
                    lease_until=None,
                    last_error="The subscription was disabled or deleted.",
                )
                continue
            try:
                check_webhook_url(subscription.url)
                body = webhook_payload(delivery.event)
                # The real clock, not the product clock: receivers check the timestamp against
                # their own time.
                at = datetime.now().astimezone()
                response = client.post(
                    subscription.url,
                    content=body.encode(),
                    headers=webhook_headers(delivery, body, at),
                )
            except UnsafeWebhookUrlError as exc:
                _mark_failed(WebhookDelivery, pk, attempt, str(exc))
                continue
            except httpx.HTTPError as exc:
                _mark_failed(WebhookDelivery, pk, attempt, f"{type(exc).__name__}: {exc}")
                continue
            fault_point("mid_notification_delivery")
            excerpt = response.text[:1000] if response.content else ""
            if 200 <= response.status_code < 300:
                _mark_sent(
                    WebhookDelivery,
                    pk,
                    attempt,
                    response_code=response.status_code,
                    response_body=excerpt,
                )
            else:
                _mark_failed(
                    WebhookDelivery,
                    pk,
                    attempt,
                    f"HTTP {response.status_code}",
                    response_code=response.status_code,
                    response_body=excerpt,
                )


def stuck_grace() -> timedelta:
    """How long past due a queued delivery or fan-out is taken for lost (its task never ran)."""
    return timedelta(seconds=_opt("DELIVERY_LEASE_SECONDS", 300.0))


def due_stuck_deliveries(now: datetime) -> tuple[list[int], list[int]]:
    """Deliveries whose worker died (lease run out) or whose task was lost (due long ago)."""
    grace = now - stuck_grace()
    stuck = Q(status=DeliveryStatus.SENDING, lease_until__lt=now) | Q(
        status=DeliveryStatus.PENDING, next_attempt_at__lt=grace
    )
    emails = list(EmailDelivery.objects.filter(stuck).values_list("pk", flat=True)[:5000])
    hooks = list(WebhookDelivery.objects.filter(stuck).values_list("pk", flat=True)[:5000])
    return emails, hooks


@task()
def send_deliveries(*, email_ids: list[int], webhook_ids: list[int]) -> None:
    """The worker's task: send these deliveries (enqueued by `enqueue_sending`)."""
    if email_ids:
        send_emails(email_ids)
    if webhook_ids:
        send_webhooks(webhook_ids)
