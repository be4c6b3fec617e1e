"""`tuition retry_stuck_deliveries`: hand emails and webhooks left by a dead worker back to
the queue. Idempotent: a delivery is claimed before it is sent, so none is sent twice at once."""

from django.core.management.base import BaseCommand

from tuition.core.actors import COMMAND, Actor
from tuition.notifications.services import retry_stuck_deliveries


class Command(BaseCommand):
    help = "Re-enqueue deliveries whose worker died or whose task was lost."

    def handle(self, *args, **options):
        count = retry_stuck_deliveries(actor=Actor.for_job("retry_stuck_deliveries", via=COMMAND))
        self.stdout.write(f"Re-enqueued {count} deliveries.")
