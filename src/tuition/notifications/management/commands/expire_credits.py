"""`tuition expire_credits`: expire lots whose time has passed and notify their owners
(`credit.expired`). Idempotent: run it from cron as often as you like."""

from django.core.management.base import BaseCommand

from tuition.core.actors import COMMAND, Actor
from tuition.notifications.services import expire_credits


class Command(BaseCommand):
    help = "Expire lots whose expiry has passed and notify (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        count = expire_credits(
            actor=Actor.for_job("expire_credits", via=COMMAND), batch_size=options["batch_size"]
        )
        self.stdout.write(f"Expired {count} lot(s).")
