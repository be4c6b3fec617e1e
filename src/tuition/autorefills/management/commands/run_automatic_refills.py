"""`tuition run_automatic_refills`: buy the automatic refills that are due (thresholds crossed,
this month's allowances). Idempotent: running it twice, or on two machines, buys nothing twice."""

from django.core.management.base import BaseCommand

from tuition.autorefills.services import JOB_ACTOR, run_automatic_refills


class Command(BaseCommand):
    help = "Buy the automatic refills that are due (idempotent)."

    def handle(self, *args, **options):
        count = run_automatic_refills(actor=JOB_ACTOR)
        self.stdout.write(f"Bought {count} automatic refill(s).")
