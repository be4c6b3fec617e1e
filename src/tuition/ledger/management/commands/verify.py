"""`tuition verify`: recompute every invariant; exit non-zero on any drift."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError


def all_checks() -> list:
    checks = []
    for config in apps.get_app_configs():
        if not config.name.startswith("tuition."):
            continue
        module_name = f"{config.name}.verify"
        if find_spec(module_name) is not None:
            checks.extend(import_module(module_name).CHECKS)
    return checks


class Command(BaseCommand):
    help = "Recompute the ledger's invariants and report any drift (exit status 1 if any)."

    def handle(self, *args, **options):
        failures = 0
        for check in all_checks():
            problems = check()
            name = f"{check.__module__.split('.')[1]}.{check.__name__}"
            if problems:
                failures += 1
                self.stdout.write(self.style.ERROR(f"FAIL  {name}"))
                for problem in problems:
                    self.stdout.write(f"      {problem}")
            else:
                self.stdout.write(self.style.SUCCESS(f"ok    {name}"))
        if failures:
            raise CommandError(f"{failures} invariant(s) do not hold.")
        self.stdout.write("The ledger is consistent.")
