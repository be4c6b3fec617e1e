from django.core.management.base import BaseCommand, CommandError

from tuition.api.keys import create_api_key
from tuition.api.models import SCOPES
from tuition.core.actors import COMMAND, Actor
from tuition.core.errors import DomainError


class Command(BaseCommand):
    help = "Make an API key for an integrating system. The key is printed once and never stored."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("name")
        parser.add_argument(
            "--scopes",
            nargs="+",
            required=True,
            metavar="SCOPE",
            help=f"one or more of: {', '.join(SCOPES)} (comma or space separated)",
        )

    def handle(self, *args, name: str, scopes: list[str], **options):  # type: ignore[no-untyped-def]
        wanted = [s.strip() for chunk in scopes for s in chunk.split(",") if s.strip()]
        try:
            key, plaintext = create_api_key(
                name=name, scopes=wanted, actor=Actor.for_job("create_api_key", via=COMMAND)
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"API key {key.prefix} ({', '.join(key.scopes)}) made. "
            "Store it now: it cannot be shown again."
        )
        self.stdout.write(plaintext)
