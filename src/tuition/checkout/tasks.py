"""Background tasks of checkout (django.tasks): thin wrappers over its services."""

from datetime import timedelta

from django.tasks import task

from tuition.core import clock
from tuition.core.actors import Actor

from .approvals import expire_overdue_holds
from .documents import number_missing_documents

# A checkout numbers its documents a moment after its commit; older than this, it stopped.
LEFT_OVER_AFTER = timedelta(seconds=30)


@task()
def number_left_over_documents() -> int:
    return number_missing_documents(before=clock.now() - LEFT_OVER_AFTER)


@task()
def expire_holds() -> int:
    """Release redemptions that waited for approval past their time limit (SPEC §7)."""
    return expire_overdue_holds(actor=Actor.for_job("expire_holds"))
