"""`tuition expire_lots`: book expiry for every expired lot that still holds value.

Safe to run as often as you like (from cron, a systemd timer, or the periodic runner): each lot
is expired once.
"""

from django.core.management.base import BaseCommand

from tuition.ledger.services import expire_lots


class Command(BaseCommand):
    help = "Expire lots whose expiry has passed (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        booked = expire_lots(batch_size=options["batch_size"])
        self.stdout.write(f"Expired {len(booked)} lot(s).")
