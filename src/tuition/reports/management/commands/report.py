"""`tuition report TYPE`: export a report to a file (or stdout) from the command line.

    tuition report ledger --columns date,kind,amount --from 2026-01-01 --to 2026-03-31 \
        --account 12 --unit USD --format csv --output ledger.csv
"""

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tuition.core.errors import DomainError
from tuition.reports import runner, writers
from tuition.reports.registry import listed_reports


class Progress:
    """A one-line progress counter on stderr, only when stderr is a terminal or asked for."""

    def __init__(self, stream: Any, total: int | None, enabled: bool):
        self.stream, self.total, self.enabled = stream, total, enabled
        self.started = time.monotonic()

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        part = f"{done:,}" + (
            f"/{self.total:,} ({100 * done // max(self.total, 1)}%)" if self.total else ""
        )
        self.stream.write(f"\r{part} rows, {done / elapsed:,.0f} rows/s")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")


class Command(BaseCommand):
    help = "Export a report (codes, purchases, usage, ledger, liability) as CSV or XLSX."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("type", choices=[r.key for r in listed_reports()])
        parser.add_argument("--columns", help="Column keys in order, comma-separated.")
        parser.add_argument("--from", dest="date_from")
        parser.add_argument("--to", dest="date_to")
        parser.add_argument("--at", help="Liability: the date the balances are taken at.")
        parser.add_argument("--account")
        parser.add_argument("--unit")
        parser.add_argument("--status")
        parser.add_argument("--kind")
        parser.add_argument("--item", help="activity:ID or group:ID")
        parser.add_argument("--format", choices=["csv", "xlsx"], default=None)
        parser.add_argument("--output", "-o", help="File to write; '-' or none: stdout (CSV).")
        parser.add_argument(
            "--progress",
            action="store_true",
            help="Show progress even when stderr is not a terminal.",
        )
        parser.add_argument("--list-columns", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        output = options["output"]
        fmt = options["format"] or ("xlsx" if output and output.endswith(".xlsx") else "csv")
        filters = {
            name: options[key]
            for name, key in (
                ("from", "date_from"),
                ("to", "date_to"),
                ("at", "at"),
                ("account", "account"),
                ("unit", "unit"),
                ("status", "status"),
                ("kind", "kind"),
                ("item", "item"),
            )
            if options[key]
        }
        columns = [c.strip() for c in options["columns"].split(",")] if options["columns"] else None
        try:
            spec = runner.prepare(
                report_type=options["type"], columns=columns, filters=filters, format=fmt
            )
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details or ''}".strip()) from exc
        if options["list_columns"]:
            for column in spec.report.columns:
                self.stdout.write(f"{column.key}\t{column.kind}\t{column.label}")
            return
        if fmt == "xlsx" and (not output or output == "-"):
            raise CommandError("An XLSX export needs --output FILE.")

        total = runner.estimated_rows(spec)
        progress = Progress(sys.stderr, total, options["progress"] or sys.stderr.isatty())
        if not output or output == "-":
            for chunk in writers.csv_chunks(spec.columns, runner.rows(spec), progress):
                self.stdout._out.write(chunk.decode())  # raw: no ending added per chunk
            self.stdout.flush()
            progress.finish()
            return
        with open(output, "wb") as out:
            if fmt == "xlsx":
                writers.write_xlsx(
                    spec.columns, runner.rows(spec), out, title=spec.report.label, progress=progress
                )
            else:
                writers.write_csv(spec.columns, runner.rows(spec), out, progress)
        progress.finish()
        self.stderr.write(f"Wrote {output}")
