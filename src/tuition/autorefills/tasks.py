"""Background tasks: the periodic check of every rule, and the check right after value left.

Threshold rules are checked after value leaves an account, never inside the checkout's wallet
lock: the worker, fanning out the events of a redemption or an expiry, enqueues
`check_thresholds` for those accounts; the periodic runner checks every rule each minute too
(allowances, and whatever a lost task missed).
"""

from collections.abc import Sequence

from django.tasks import task

from tuition.notifications.models import NotificationEvent

from . import services
from .models import RefillRule

# Value left the account: these events make a threshold rule worth checking at once.
VALUE_LEFT_KINDS = {"credit.redeemed", "credit.expired"}


@task()
def run_automatic_refills() -> int:
    return services.run_automatic_refills(actor=services.JOB_ACTOR)


@task()
def check_thresholds(*, account_ids: list[int]) -> int:
    return services.run_automatic_refills(actor=services.JOB_ACTOR, account_ids=account_ids)


def after_fan_out(events: Sequence[NotificationEvent]) -> None:
    """Listens to the worker's fan-out of redemptions and expiries (`notifications.listeners`):
    check the thresholds of the accounts that value left (only those with an active threshold
    rule), in a task enqueued with the fan-out."""
    account_ids = {event.account_id for event in events} - {None}
    watched = sorted(
        RefillRule.objects.filter(
            account_id__in=account_ids,
            kind=RefillRule.Kind.THRESHOLD,
            deleted_at__isnull=True,
            pause_reason="",
        )
        .values_list("account_id", flat=True)
        .distinct()
    )
    if watched:
        check_thresholds.enqueue(account_ids=watched)
