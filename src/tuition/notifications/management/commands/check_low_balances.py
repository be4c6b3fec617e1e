"""`tuition check_low_balances`: alert owners whose balance fell below their threshold.
Idempotent: one alert per crossing."""

from django.core.management.base import BaseCommand

from tuition.core.actors import COMMAND, Actor
from tuition.notifications.services import check_low_balances


class Command(BaseCommand):
    help = "Send low-balance alerts that are due (idempotent)."

    def handle(self, *args, **options):
        count = check_low_balances(actor=Actor.for_job("check_low_balances", via=COMMAND))
        self.stdout.write(f"Recorded {count} low-balance alert(s).")
