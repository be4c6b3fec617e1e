"""Benchmark: exporting 1,000,000 ledger rows (entries) to CSV, on PostgreSQL and on SQLite.

    python bench/reports.py [--rows 1000000] [--only postgresql|sqlite]

Each database is a throwaway one (a temporary SQLite file; a new PostgreSQL database on
BENCH_DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432/postgres), migrated,
then filled with SQL (generate_series on PostgreSQL, a recursive CTE on SQLite): one account,
1,000 lots and rows/2 issue transfers of two entries each. The export runs in a fresh child
process through the same path as a download (report registry -> .values().iterator() -> csv
writer), written to a file; the child reports rows, seconds and its peak RSS
(resource.getrusage ru_maxrss). Beside it, the raw database limit: the same SELECT fetched
with the driver alone, no Django, no CSV. Target: >= 50,000 rows/s within 200 MB.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ is first on the path, and bench/http.py would shadow the stdlib.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

COLUMNS = [
    "date",
    "transfer_id",
    "kind",
    "account",
    "unit",
    "lot_id",
    "system_account",
    "amount",
    "actor",
]
LOTS = 1000
TARGET_ROWS_PER_S = 50_000
TARGET_MB = 200


def _fill(connection, rows: int) -> None:  # type: ignore[no-untyped-def]
    """Bulk rows written with SQL, the way a long-lived ledger would look to the export."""
    transfers = rows // 2
    pg = connection.vendor == "postgresql"
    now = "now()" if pg else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    t = "true" if pg else "1"

    def series(n: int, body: str) -> str:
        if pg:
            return body.replace("{SERIES}", f"generate_series(1, {n}) AS s(n)")
        return (
            f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) "
            + body.replace("{SERIES}", "s")
        )

    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO accounts_trainingaccount (name, redeemer_policy, is_personal, "
            f"low_balance_threshold, created_at) VALUES ('Bench Co', 'anyone', false, "
            f"'{{}}', {now})"
            if pg
            else f"INSERT INTO accounts_trainingaccount (name, redeemer_policy, is_personal, "
            f"low_balance_threshold, created_at) VALUES ('Bench Co', 'anyone', 0, "
            f"'{{}}', {now})"
        )
        c.execute("SELECT max(id) FROM accounts_trainingaccount")
        account = c.fetchone()[0]
        c.execute("SELECT id FROM ledger_unit WHERE code = 'USD'")
        unit = c.fetchone()[0]
        c.execute(
            "INSERT INTO ledger_lot (account_id, unit_id, redeemable_value, remaining, "
            "external_id, status, notes, scope_kind, scope_all, source, created_at, created_by) "
            + series(
                LOTS,
                f"SELECT {account}, {unit}, 100000000, 100000000, '', 'active', '', "
                f"'activity', {t}, 'admin', {now}, 'bench' FROM {{SERIES}}",
            )
        )
        c.execute("SELECT min(id) FROM ledger_lot")
        first_lot = c.fetchone()[0]
        c.execute(
            "INSERT INTO ledger_transfer (kind, unit_id, account_id, amount, created_at, actor, "
            "reason, metadata) "
            + series(
                transfers,
                f"SELECT 'issue', {unit}, {account}, 1000 + n % 500, {now}, "
                f"'api-key:bench', '', '{{}}' FROM {{SERIES}}",
            )
        )
        c.execute("SELECT min(id) FROM ledger_transfer")
        first = c.fetchone()[0]
        c.execute(
            "INSERT INTO ledger_entry (transfer_id, lot_id, system_account, amount) "
            "SELECT id, NULL, 'issuance', -amount FROM ledger_transfer WHERE id >= %s "
            "UNION ALL SELECT id, %s + (id %% %s), NULL, amount FROM ledger_transfer "
            "WHERE id >= %s ORDER BY 1",
            [first, first_lot, LOTS, first],
        )
        if pg:
            c.execute("ANALYZE")


def child_setup(rows: int) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        _fill(connection, rows)
    from tuition.ledger.models import Entry

    assert Entry.objects.count() == rows // 2 * 2


def child_export(out_path: str) -> None:
    import django

    django.setup()
    from tuition.reports import runner, writers

    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    spec = runner.prepare(report_type="ledger", columns=COLUMNS, filters={})
    started = time.perf_counter()
    count = 0

    def progress(done: int) -> None:
        nonlocal count
        count = done

    with open(out_path, "wb") as out:
        writers.write_csv(spec.columns, runner.rows(spec), out, progress)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "rows": count,
                "seconds": elapsed,
                "peak_kb": peak,
                "start_kb": rss_start,
                "bytes": os.path.getsize(out_path),
            }
        )
    )


def child_raw() -> None:
    """The database limit: the export's SELECT through the driver only, no ORM, no CSV."""
    import django

    django.setup()
    from django.db import connection, transaction

    from tuition.reports import runner

    spec = runner.prepare(report_type="ledger", columns=COLUMNS, filters={})
    needed = sorted({f for c in spec.columns for f in c.fields})
    sql, params = (
        spec.report.source.__globals__["entries_queryset"](spec.filters)
        .order_by("id")
        .values(*needed)
        .query.sql_with_params()
    )
    started = time.perf_counter()
    count = 0
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        cursor = raw.cursor("raw_bench") if connection.vendor == "postgresql" else raw.cursor()
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(5000):
            count += len(batch)
        cursor.close()
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": count,
                "seconds": elapsed,
                "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


def _child(database_url: str, *args: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "tuition.config.settings.base",
    }
    out = subprocess.run(
        [sys.executable, __file__, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode:
        sys.stderr.write(out.stderr[-3000:])
        raise SystemExit(f"{args[1]} failed")
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def run_one(label: str, database_url: str, rows: int, workdir: str) -> list[tuple]:
    started = time.perf_counter()
    _child(database_url, "--phase", "setup", "--rows", str(rows))
    print(
        f"  {label}: {rows:,} rows written in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    raw = _child(database_url, "--phase", "raw")
    export = _child(database_url, "--phase", "export", "--out", f"{workdir}/{label}.csv")
    assert export["rows"] == rows, export
    return [
        (label, "raw SELECT (driver only)", raw["rows"], raw["seconds"], raw["peak_kb"], None),
        (
            label,
            "CSV export (registry + csv)",
            export["rows"],
            export["seconds"],
            export["peak_kb"],
            export["bytes"],
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["postgresql", "sqlite"])
    parser.add_argument("--phase", choices=["setup", "export", "raw"])
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.phase == "setup":
        return child_setup(args.rows)
    if args.phase == "export":
        return child_export(args.out)
    if args.phase == "raw":
        return child_raw()

    results: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="tuition-bench-reports-") as workdir:
        if args.only in (None, "postgresql"):
            from bench._common import drop_database, throwaway_database

            name = f"tuition_bench_reports_{os.getpid()}"
            try:
                results += run_one("postgresql", throwaway_database(name), args.rows, workdir)
            finally:
                drop_database(name)
        if args.only in (None, "sqlite"):
            results += run_one("sqlite", f"sqlite:///{workdir}/bench.sqlite3", args.rows, workdir)

    print(
        f"\nLedger export, {args.rows:,} rows (target: >= {TARGET_ROWS_PER_S:,} rows/s, "
        f"<= {TARGET_MB} MB peak RSS)\n"
    )
    header = (
        f"{'database':<11} {'path':<29} {'rows':>10} {'seconds':>8} {'rows/s':>10} "
        f"{'peak MB':>8} {'file MB':>8}  verdict"
    )
    print(header)
    print("-" * len(header))
    for label, path, rows, seconds, peak_kb, size in results:
        rate = rows / seconds
        peak_mb = peak_kb / 1024
        verdict = ""
        if size is not None:
            ok = rate >= TARGET_ROWS_PER_S and peak_mb <= TARGET_MB
            verdict = "meets target" if ok else "MISSES target"
        size_text = f"{size / 2**20:8.1f}" if size else f"{'':>8}"
        print(
            f"{label:<11} {path:<29} {rows:>10,} {seconds:>8.2f} {rate:>10,.0f} "
            f"{peak_mb:>8.1f} {size_text}  {verdict}"
        )


if __name__ == "__main__":
    main()
