"""`tuition expire-holds`: release redemptions that waited for approval past their time limit
(`hold.expired`). Idempotent: the periodic runner does it every minute; cron may too."""

from django.core.management.base import BaseCommand

from tuition.checkout.approvals import expire_overdue_holds
from tuition.core.actors import COMMAND, Actor


class Command(BaseCommand):
    help = "Release holds whose approval time limit has passed, and notify (idempotent)."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        count = expire_overdue_holds(actor=Actor.for_job("expire_holds", via=COMMAND))
        self.stdout.write(f"Released {count} expired hold(s).")
