"""The periodic runner: enqueue each job when its slot comes round, once per slot.

A slot is `floor(now / interval)`. Inserting the unique (job, slot) row is the decision to run,
so any number of runners (one per machine, or a restarted one) enqueue each job once per slot.
The jobs themselves are idempotent, so a job run late, early or twice does no harm either.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from tuition.core import clock

from . import tasks
from .models import PeriodicRun


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: int
    enqueue: Callable[[], object]


DEFAULT_INTERVALS = {
    "expire_credits": 60,
    "send_expiry_reminders": 3600,
    "check_low_balances": 300,
    "retry_stuck_deliveries": 60,
    "remove_old_exports": 3600,
    "number_left_over_documents": 60,
    "expire_holds": 60,
    "automatic_refills": 60,
}

# Jobs of other apps, by dotted path: the runner depends on no app it runs a job for.
OTHER_APPS_TASKS = {
    "number_left_over_documents": "tuition.checkout.tasks.number_left_over_documents",
    "remove_old_exports": "tuition.reports.tasks.remove_old_exports",
    "expire_holds": "tuition.checkout.tasks.expire_holds",
    "automatic_refills": "tuition.autorefills.tasks.run_automatic_refills",
}


def jobs() -> list[Job]:

    intervals = {**DEFAULT_INTERVALS, **settings.TUITION.get("PERIODIC_INTERVALS", {})}
    return [
        Job("expire_credits", intervals["expire_credits"], tasks.expire_credits.enqueue),
        Job(
            "send_expiry_reminders",
            intervals["send_expiry_reminders"],
            tasks.send_expiry_reminders.enqueue,
        ),
        Job(
            "check_low_balances", intervals["check_low_balances"], tasks.check_low_balances.enqueue
        ),
        Job(
            "retry_stuck_deliveries",
            intervals["retry_stuck_deliveries"],
            tasks.retry_stuck_deliveries.enqueue,
        ),
        *(
            Job(name, intervals[name], import_string(path).enqueue)
            for name, path in OTHER_APPS_TASKS.items()
        ),
    ]


def tick(*, at: datetime | None = None) -> list[str]:
    """Enqueue every job whose current slot has not been taken yet; returns their names."""
    at = at or clock.now()
    started = []
    for job in jobs():
        slot = int(at.timestamp()) // max(1, job.interval_seconds)
        try:
            with transaction.atomic():
                PeriodicRun.objects.create(job=job.name, slot=slot, enqueued_at=at)
                job.enqueue()
        except IntegrityError:
            continue  # another runner took this slot
        started.append(job.name)
    return started


def prune(*, before_slots: int = 1000) -> None:
    """Keep the slot table small: old slots can never be taken again anyway."""
    for job in jobs():
        current = int(clock.now().timestamp()) // max(1, job.interval_seconds)
        PeriodicRun.objects.filter(job=job.name, slot__lt=current - before_slots).delete()
