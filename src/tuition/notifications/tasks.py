"""Background tasks (django.tasks): thin wrappers that call the delivery engine and services.

Django tasks have no automatic retries: a delivery that fails schedules its own retry (a new
task with `run_after`), and `retry_stuck_deliveries` re-enqueues what a killed worker left.
"""

from django.tasks import task

from . import delivery, services


@task()
def send_deliveries(*, email_ids: list[int], webhook_ids: list[int]) -> None:
    if email_ids:
        delivery.send_emails(email_ids)
    if webhook_ids:
        delivery.send_webhooks(webhook_ids)
    # Value may have left an account: its automatic refill checks now, outside any checkout.
    from tuition.autorefills.tasks import after_fan_out

    after_fan_out(email_ids=email_ids, webhook_ids=webhook_ids)


@task()
def expire_credits() -> int:
    return services.expire_credits(actor="system:periodic")


@task()
def send_expiry_reminders() -> int:
    return services.send_expiry_reminders(actor="system:periodic")


@task()
def check_low_balances() -> int:
    return services.check_low_balances(actor="system:periodic")


@task()
def retry_stuck_deliveries() -> int:
    return services.retry_stuck_deliveries(actor="system:periodic")
