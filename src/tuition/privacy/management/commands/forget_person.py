"""`tuition forget-person EMAIL`: erase a person's personal data (their ledger stays)."""

from django.core.management.base import BaseCommand, CommandError

from tuition.core.errors import DomainError
from tuition.privacy.services import forget_person


class Command(BaseCommand):
    help = (
        "Forget a person: replace their email address and name everywhere with a pseudonym, "
        "end their sessions and delete export files that name them. The ledger is unchanged."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("email", help="The person's email address.")
        parser.add_argument(
            "--actor", default="job:forget-person", help="Who asked (recorded with the erasure)."
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            erasure = forget_person(email=options["email"], actor=options["actor"])
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        again = " (again)" if erasure.runs > 1 else ""
        self.stdout.write(f"Forgotten{again}: the person is now {erasure.pseudonym}.")
