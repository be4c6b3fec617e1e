"""`tuition demo`: load the demo data once and print the demo logins."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from tuition.portal.demo import DEMO_CODES, DEMO_LOGINS, DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the demo data (does nothing if it is already there) and print the logins."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        created = load_demo()
        self.stdout.write("Demo data loaded." if created else "Demo data already present.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, role in DEMO_LOGINS:
            self.stdout.write(f"  {email:<26} {role}")
        self.stdout.write("Demo codes to try at checkout:")
        for code, what in DEMO_CODES:
            self.stdout.write(f"  {code:<26} {what}")
