from django.core.management.base import BaseCommand

from tuition.core.actors import COMMAND, Actor
from tuition.reports.services import remove_old_exports, retention_days


class Command(BaseCommand):
    help = "Delete report export files older than TUITION_EXPORT_RETENTION_DAYS. Idempotent."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        count = remove_old_exports(actor=Actor.for_job("remove_old_exports", via=COMMAND))
        self.stdout.write(f"Removed {count} export(s) older than {retention_days()} days.")
