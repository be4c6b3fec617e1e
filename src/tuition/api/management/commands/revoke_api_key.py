from django.core.management.base import BaseCommand, CommandError

from tuition.api.keys import revoke_api_key
from tuition.core.actors import COMMAND, Actor
from tuition.core.errors import DomainError


class Command(BaseCommand):
    help = "Revoke an API key by its prefix (the part before the dot). This cannot be undone."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("prefix")

    def handle(self, *args, prefix: str, **options):  # type: ignore[no-untyped-def]
        try:
            key = revoke_api_key(
                prefix=prefix.split(".", 1)[0], actor=Actor.for_job("revoke_api_key", via=COMMAND)
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"API key {key.prefix} ({key.name}) is revoked.")
