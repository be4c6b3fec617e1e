"""`tuition send_expiry_reminders`: remind owners of credits expiring soon (30 and 7 days by
default). Idempotent: a reminder is never sent twice."""

from django.core.management.base import BaseCommand

from tuition.core.actors import COMMAND, Actor
from tuition.notifications.services import send_expiry_reminders


class Command(BaseCommand):
    help = "Send expiring-soon reminders that are due (idempotent)."

    def handle(self, *args, **options):
        count = send_expiry_reminders(actor=Actor.for_job("send_expiry_reminders", via=COMMAND))
        self.stdout.write(f"Recorded {count} reminder(s).")
