"""The `tuition` command: Django's management commands under the product's name.

    tuition serve            web server, worker and periodic jobs together
    tuition demo             load the demo data (once)
    tuition verify           recompute the ledger's invariants
    tuition expire-credits   expire lots whose time has passed, and notify
    tuition expire-holds     release approval requests left undecided past their time limit
    tuition create-api-key   make an API key (shown once)
    tuition forget-person    erase a person's personal data (the ledger stays)
    tuition <any Django management command>

Hyphens and underscores are interchangeable in command names.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    argv[0] = "tuition"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tuition.config.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
