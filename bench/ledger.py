"""Debits per second on one hot account, beside the raw PostgreSQL figure of the same run.

    make bench            (or: .venv/bin/python bench/ledger.py --seconds 5)

For 1, 4 and 16 concurrent workers (processes, one connection each) it measures:
  raw      a plain-SQL loop doing what a debit must do: lock the wallet row (drawing the
           transfer's key in the same statement), then in one round trip update the lot with
           a guarded update and insert the transfer and its two entries, commit;
  tuition  `tuition.ledger.services.debit` of 10.00 against the same hot account;
then the same again after 100,000 prior transfers on that account. It prints the figures, the
ratio tuition/raw, and how much the history slowed each side.
"""

import argparse
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from _common import (  # noqa: E402 - found through the path set just above
    drop_database,
    setup_django,
    table,
    throwaway_database,
    timed_workers,
)

# bench/http.py must not shadow the standard library's http module once Django is imported.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

DB_NAME = "tuition_bench_ledger"
HISTORY = 100_000
RAW_SCHEMA = """
CREATE TABLE raw_wallet (id bigint PRIMARY KEY, touched bigint NOT NULL DEFAULT 0);
CREATE TABLE raw_lot (id bigint PRIMARY KEY, remaining bigint NOT NULL CHECK (remaining >= 0));
CREATE TABLE raw_transfer (id bigserial PRIMARY KEY, wallet_id bigint NOT NULL,
                           amount bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE raw_entry (id bigserial PRIMARY KEY, transfer_id bigint REFERENCES raw_transfer,
                        lot_id bigint REFERENCES raw_lot (id), amount bigint NOT NULL);
CREATE INDEX raw_entry_lot ON raw_entry (lot_id);
INSERT INTO raw_wallet VALUES (1);
INSERT INTO raw_lot VALUES (1, 1000000000000000);
"""


def raw_debit(database_url: str):
    import psycopg

    def make(_index: int):
        conn = psycopg.connect(database_url)

        def debit() -> None:
            with conn.transaction():
                _, transfer = conn.execute(
                    "SELECT id, nextval(pg_get_serial_sequence('raw_transfer', 'id')) "
                    "FROM raw_wallet WHERE id = 1 FOR UPDATE"
                ).fetchone()
                with conn.pipeline():  # as the debit sends its writes: in one round trip
                    debited = conn.execute(
                        "UPDATE raw_lot SET remaining = remaining - 1000 "
                        "WHERE id = 1 AND remaining >= 1000"
                    )
                    conn.execute(
                        "INSERT INTO raw_transfer (id, wallet_id, amount) VALUES (%s, 1, 1000)",
                        (transfer,),
                    )
                    conn.execute(
                        "INSERT INTO raw_entry (transfer_id, lot_id, amount) "
                        "VALUES (%s, 1, -1000), (%s, NULL, 1000)",
                        (transfer, transfer),
                    )
                assert debited.rowcount == 1

        return debit

    return make


def tuition_debit(account_id: int, unit_id: int):
    def make(index: int):
        from tuition.ledger import services as ledger
        from tuition.ledger.models import Unit

        unit = Unit.objects.get(pk=unit_id)

        def debit() -> None:
            ledger.debit(account_id=account_id, unit=unit, amount=1000, actor=f"bench:{index}")

        return debit

    return make


def add_history(database_url: str, account_id: int, lot_id: int, unit_id: int) -> None:
    """Book HISTORY earlier debits on the hot account, and as many raw rows, then ANALYZE."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            f"""
            WITH t AS (
              INSERT INTO ledger_transfer (kind, unit_id, account_id, amount, created_at, actor,
                                           reason, metadata)
              SELECT 'redeem', {unit_id}, {account_id}, 1, now() - interval '1 day', 'history',
                     '', '{{}}'::jsonb
              FROM generate_series(1, {HISTORY})
              RETURNING id)
            INSERT INTO ledger_entry (transfer_id, lot_id, system_account, amount)
            SELECT id, {lot_id}, NULL, -1 FROM t
            UNION ALL SELECT id, NULL, 'redemptions', 1 FROM t
            """
        )
        conn.execute(f"UPDATE ledger_lot SET remaining = remaining - {HISTORY} WHERE id = {lot_id}")
        conn.execute(
            f"""
            WITH t AS (
              INSERT INTO raw_transfer (wallet_id, amount)
              SELECT 1, 1 FROM generate_series(1, {HISTORY}) RETURNING id)
            INSERT INTO raw_entry (transfer_id, lot_id, amount)
            SELECT id, 1, -1 FROM t UNION ALL SELECT id, NULL, 1 FROM t
            """
        )
        conn.execute("ANALYZE")
        conn.execute("CHECKPOINT")


def measure(label: str, make, workers: int, seconds: float) -> float:
    done, elapsed = timed_workers(make, workers, seconds)
    rate = done / elapsed
    print(
        f"  {label:<8} {workers:>2} workers: {done:>7} debits in {elapsed:5.1f} s = {rate:8.0f}/s",
        flush=True,
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--workers", default="1,4,16")
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]

    url = throwaway_database(DB_NAME)
    try:
        setup_django(url)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", interactive=False, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute(RAW_SCHEMA)
        from tuition.accounts.services import create_account
        from tuition.ledger import services as ledger
        from tuition.ledger.models import Unit

        unit = Unit.objects.get(code="USD")
        account = create_account(name="Hot account", actor="bench")
        lot = ledger.issue_credit(
            account_id=account.pk,
            unit=unit,
            redeemable_value=10**15,
            expires_at=None,
            actor="bench",
        )

        results: dict[str, dict[int, tuple[float, float]]] = {}
        for phase in ("empty", "history"):
            if phase == "history":
                print(f"Adding {HISTORY:,} prior transfers to the hot account ...", flush=True)
                add_history(url, account.pk, lot.pk, unit.pk)
            print(f"Phase: {phase}", flush=True)
            results[phase] = {}
            for workers in worker_counts:
                raw = measure("raw", raw_debit(url), workers, args.seconds)
                ours = measure("tuition", tuition_debit(account.pk, unit.pk), workers, args.seconds)
                results[phase][workers] = (raw, ours)

        # The ledger's own invariants (checkout's checks expect an order behind every redeem,
        # which bare ledger debits do not have).
        from tuition.ledger.verify import CHECKS

        problems = [p for check in CHECKS for p in check()]
        print("\nledger invariants after the run:", "all hold" if not problems else problems[:5])
        rows = []
        for workers in worker_counts:
            raw0, ours0 = results["empty"][workers]
            raw1, ours1 = results["history"][workers]
            rows.append(
                [
                    workers,
                    f"{raw0:.0f}",
                    f"{ours0:.0f}",
                    f"{ours0 / raw0:.0%}",
                    f"{raw1:.0f}",
                    f"{ours1:.0f}",
                    f"{ours1 / raw1:.0%}",
                    f"{(ours1 - ours0) / ours0:+.1%}",
                ]
            )
        print("Debits per second on one hot account (PostgreSQL, same machine, same run)")
        print(
            table(
                [
                    "workers",
                    "raw",
                    "tuition",
                    "ratio",
                    "raw+hist",
                    "tuition+hist",
                    "ratio+hist",
                    "history effect",
                ],
                rows,
            )
        )
        print("Targets: ratio at 16 workers >= 50 %; history effect on tuition within -10 %.")
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
