"""Reads for notifications: who hears about an account, which endpoints listen, what was sent."""

from collections.abc import Iterable

from django.db.models import QuerySet

from . import directory
from .directory import Recipient
from .models import WebhookDelivery, WebhookSubscription


def recipients_by_account(account_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """Owners, and members who opted in, of each account (active users with an email)."""
    return directory.accounts().recipients(account_ids)


def active_subscriptions() -> list[WebhookSubscription]:
    return list(WebhookSubscription.objects.filter(is_active=True, deleted_at__isnull=True))


def subscriptions(*, account_id: int | None = None) -> QuerySet[WebhookSubscription]:
    """Subscriptions that have not been deleted (of one account, when given)."""
    found = WebhookSubscription.objects.filter(deleted_at__isnull=True)
    if account_id is not None:
        found = found.filter(account_id=account_id)
    return found.order_by("id")


def subscription_deliveries(*, subscription_id: int) -> QuerySet[WebhookDelivery]:
    """The delivery log of one subscription, newest first."""
    return (
        WebhookDelivery.objects.filter(subscription_id=subscription_id)
        .select_related("event")
        .order_by("-id")
    )
