"""Benchmark: expiring 100,000 lots, on PostgreSQL and on SQLite.

    python bench/expiry.py [--lots 100000] [--accounts 1000] [--modes ledger,notify]

Two modes: `ledger` books the expiry transfers only (tuition.ledger.services.expire_lots);
`notify` is what the periodic job does (tuition expire_credits): the same, plus a
`credit.expired` event, one email delivery per owner and the delivery task, in each batch's
transaction. Each run gets its own throwaway database (a temporary SQLite file; a new
PostgreSQL database on DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432/postgres)
and its own process, so peak memory is the sweep's own. Prints a table.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ comes first on the path, where bench/http.py would shadow the
# standard library's http module that Django imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"


def child(args: argparse.Namespace) -> None:
    """Runs in its own process against DATABASE_URL: set up, or sweep and print one JSON line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tuition.config.settings.base")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from tuition.ledger.models import Lot
    from tuition.ledger.services import expire_lots
    from tuition.notifications.services import expire_credits

    if args.phase == "setup":
        _set_up(args)
        return
    # The sweep runs in a fresh process (set-up ran in another), so its peak is the sweep's.
    rss_before = _current_rss_kb()
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    if args.mode == "ledger":
        expired = len(expire_lots(actor="bench"))
    else:
        expired = expire_credits(actor="bench")
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else 0
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # the process's peak
    assert expired == args.lots, (expired, args.lots)
    assert not Lot.objects.filter(remaining__gt=0).exists()
    print(
        json.dumps(
            {
                "lots": expired,
                "seconds": elapsed,
                "peak_traced_mb": peak / 2**20,
                "max_rss_mb": rss_after / 1024,
                "rss_growth_mb": (rss_after - rss_before) / 1024,
                "traced": bool(args.tracemalloc),
            }
        )
    )


def _set_up(args: argparse.Namespace) -> None:
    """Accounts with one owner each, and `lots` lots that expired yesterday."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection

    from tuition.accounts.models import Membership, TrainingAccount, User
    from tuition.core import clock
    from tuition.ledger.models import Lot, Unit

    call_command("migrate", verbosity=0)
    usd = Unit.objects.get(code="USD")
    now = clock.now()
    accounts = TrainingAccount.objects.bulk_create(
        [TrainingAccount(name=f"Account {i}") for i in range(args.accounts)]
    )
    users = User.objects.bulk_create(
        # "!" is Django's mark of an unusable password: bench owners never sign in.
        [
            User(email=f"owner{i}@bench.test", password="!")  # noqa: S106
            for i in range(args.accounts)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(account=a, user=u, role=Membership.Role.OWNER)
            for a, u in zip(accounts, users, strict=True)
        ]
    )
    expired_at = now - timedelta(days=1)
    for start in range(0, args.lots, 5000):
        Lot.objects.bulk_create(
            [
                Lot(
                    account=accounts[i % len(accounts)],
                    unit=usd,
                    redeemable_value=10000,
                    remaining=10000,
                    expires_at=expired_at,
                    created_at=now - timedelta(days=400),
                )
                for i in range(start, min(args.lots, start + 5000))
            ]
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _current_rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _run_child(database_url: str, mode: str, args: argparse.Namespace) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "tuition.config.settings.base",
        "CACHE_URL": "locmemcache://",
        "LOG_LEVEL": "ERROR",
    }
    command = [
        sys.executable,
        __file__,
        "--child",
        "--mode",
        mode,
        "--lots",
        str(args.lots),
        "--accounts",
        str(args.accounts),
    ] + (["--tracemalloc"] if args.tracemalloc else [])
    subprocess.run([*command, "--phase", "setup"], env=env, cwd=ROOT, check=True)
    out = subprocess.run(
        [*command, "--phase", "sweep"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _postgres_runs(args: argparse.Namespace, modes: list[str]) -> list[tuple[str, str, dict]]:
    import psycopg

    admin_url = os.environ.get("DATABASE_URL", DEFAULT_PG)
    if not admin_url.startswith("postgres"):
        admin_url = DEFAULT_PG
    try:
        psycopg.connect(admin_url, connect_timeout=3).close()
    except psycopg.Error as exc:
        print(f"PostgreSQL not reachable at {admin_url}: skipped ({exc})", file=sys.stderr)
        return []
    results = []
    for mode in modes:
        name = f"tuition_bench_expiry_{os.getpid()}_{mode}"
        parts = urlsplit(admin_url)
        url = urlunsplit(parts._replace(path=f"/{name}"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            results.append(("postgresql", mode, _run_child(url, mode, args)))
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results


def _sqlite_runs(args: argparse.Namespace, modes: list[str]) -> list[tuple[str, str, dict]]:
    results = []
    for mode in modes:
        with tempfile.TemporaryDirectory(prefix="tuition-bench-") as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            results.append(("sqlite", mode, _run_child(url, mode, args)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--modes", default="ledger,notify")
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also trace Python allocations (exact peak, but a slower sweep)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="ledger", help=argparse.SUPPRESS)
    parser.add_argument("--phase", default="sweep", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    modes = [m for m in args.modes.split(",") if m]
    results = []
    if "postgresql" in args.databases:
        results += _postgres_runs(args, modes)
    if "sqlite" in args.databases:
        results += _sqlite_runs(args, modes)
    print(f"Expiring {args.lots:,} lots across {args.accounts:,} accounts (batches of 500)\n")
    header = (
        f"{'database':<11} {'mode':<7} {'lots':>8} {'seconds':>8} {'lots/s':>9} "
        f"{'RSS growth MB':>13} {'max RSS MB':>10} {'peak py MB':>10}"
    )
    print(header)
    print("-" * len(header))
    for database, mode, r in results:
        print(
            f"{database:<11} {mode:<7} {r['lots']:>8,} {r['seconds']:>8.2f} "
            f"{r['lots'] / r['seconds']:>9,.0f} {r['rss_growth_mb']:>13.1f} "
            f"{r['max_rss_mb']:>10.1f} "
            + (f"{r['peak_traced_mb']:>10.1f}" if r["traced"] else f"{'-':>10}")
        )
    print(
        "\nledger: expiry transfers only; notify: plus credit.expired events, email deliveries"
        " and delivery tasks in the same transactions (what `tuition expire_credits` does)."
    )
    print(
        "RSS growth: peak resident memory added by the sweep (getrusage), beyond set-up;"
        " max RSS: the whole process; peak py MB: Python allocations (--tracemalloc only)."
    )


if __name__ == "__main__":
    main()
