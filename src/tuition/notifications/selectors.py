"""Reads for notifications: who hears about an account, which endpoints listen, what was sent."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from tuition.accounts.models import Membership

from .models import WebhookDelivery, WebhookSubscription


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    show_balance: bool


def recipients_by_account(account_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """Owners, and members who opted in, of each account (active users with an email)."""
    found: dict[int, list[Recipient]] = defaultdict(list)
    memberships = (
        Membership.objects.filter(account_id__in=list(account_ids), user__is_active=True)
        .filter(Q(role=Membership.Role.OWNER) | Q(notify=True))
        .exclude(user__email="")
        .values_list("account_id", "user_id", "user__email", "role", "can_view_balance")
        .order_by("account_id", "user_id")
    )
    for account_id, user_id, email, role, can_view in memberships:
        found[account_id].append(
            Recipient(user_id, email, role == Membership.Role.OWNER or can_view)
        )
    return found


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
