from django.core.management.base import BaseCommand

from tuition.core.idempotency import prune


class Command(BaseCommand):
    help = "Forget Idempotency-Keys older than the retention period (at least 24 hours)."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        self.stdout.write(f"{prune()} idempotency keys pruned.")
