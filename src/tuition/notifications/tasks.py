"""Background tasks (django.tasks): thin wrappers that call the delivery engine and services.

Django tasks have no automatic retries: a delivery that fails schedules its own retry (a new
task with `run_after`), and `retry_stuck_deliveries` re-enqueues what a killed worker left.
"""

from django.tasks import task

from tuition.core.actors import Actor

from . import services
from .delivery import send_deliveries  # noqa: F401 - tasks queued before it moved name it here


@task()
def expire_credits() -> int:
    return services.expire_credits(actor=Actor.for_job("expire_credits"))


@task()
def send_expiry_reminders() -> int:
    return services.send_expiry_reminders(actor=Actor.for_job("send_expiry_reminders"))


@task()
def check_low_balances() -> int:
    return services.check_low_balances(actor=Actor.for_job("check_low_balances"))


@task()
def retry_stuck_deliveries() -> int:
    return services.retry_stuck_deliveries(actor=Actor.for_job("retry_stuck_deliveries"))
