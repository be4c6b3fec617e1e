"""Checkouts per second at the service level, beside the raw PostgreSQL figure of the same run.

    .venv/bin/python bench/checkout.py --seconds 5 --workers 1,4,16 --rounds 3

Two shapes, each for 1, 4 and 16 concurrent workers (processes, one connection each):
  hot      every checkout pays with one account's pool code (all of them queue on one wallet);
  spread   checkouts pay with the pool codes of 1,000 accounts, round robin.
Beside each, `raw` is a plain-SQL loop doing the equivalent writes of one checkout in the same
transactions and the same round trips: the new learner in one; then the checkout's own: insert
the task row that wakes the worker, lock the wallet row (drawing the transfer's and the order's
keys in the same statement), then in one round trip debit the lot with a guarded update and
insert the transfer and its two entries, the order, the registration and the notification
event; then the numbering: bump the invoice and receipt counters in one statement, then insert
invoice and receipt in one round trip.
The ratio tuition/raw is the price of the service layer (code lookup, every rule check, the
ORM).
Creates and drops its own database (tuition_bench_checkout) on BENCH_DATABASE_URL.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import drop_database, setup_django, table, throwaway_database, timed_workers

# Keep bench/ off the import path from here on: a script there may share a stdlib name.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

DB_NAME = "tuition_bench_checkout"
ACCOUNTS = 1000
RAW_SCHEMA = """
CREATE TABLE raw_wallet (id bigint PRIMARY KEY);
CREATE TABLE raw_lot (id bigint PRIMARY KEY, wallet_id bigint NOT NULL,
                      remaining bigint NOT NULL CHECK (remaining >= 0));
CREATE TABLE raw_transfer (id bigserial PRIMARY KEY, wallet_id bigint NOT NULL, amount bigint,
                           created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE raw_entry (id bigserial PRIMARY KEY, transfer_id bigint REFERENCES raw_transfer,
                        lot_id bigint REFERENCES raw_lot, amount bigint NOT NULL);
CREATE TABLE raw_learner (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL);
CREATE TABLE raw_order (id bigserial PRIMARY KEY, learner_id bigint REFERENCES raw_learner,
                        transfer_id bigint REFERENCES raw_transfer, charged bigint NOT NULL,
                        number text UNIQUE NOT NULL);
CREATE TABLE raw_registration (id bigserial PRIMARY KEY, order_id bigint REFERENCES raw_order,
                               learner_id bigint NOT NULL, item_id bigint NOT NULL);
CREATE UNIQUE INDEX raw_registration_live ON raw_registration (learner_id, item_id);
CREATE TABLE raw_counter (kind text PRIMARY KEY, last bigint NOT NULL);
CREATE TABLE raw_document (id bigserial PRIMARY KEY, kind text, seq bigint,
                           order_id bigint REFERENCES raw_order, UNIQUE (kind, seq));
CREATE TABLE raw_event (id bigserial PRIMARY KEY, kind text, data jsonb);
CREATE TABLE raw_task (id bigserial PRIMARY KEY, task text);
INSERT INTO raw_counter VALUES ('invoice', 0), ('receipt', 0);
INSERT INTO raw_wallet SELECT g FROM generate_series(1, 1000) g;
INSERT INTO raw_lot SELECT g, g, 1000000000000000 FROM generate_series(1, 1000) g;
"""


def raw_checkout(database_url: str, spread: bool, shape: str):
    import psycopg

    def make(index: int):
        conn = psycopg.connect(database_url)
        state = {"n": 0}

        def once() -> None:
            state["n"] += 1
            n = state["n"]
            wallet = ((n * 16 + index) % ACCOUNTS) + 1 if spread else 1
            with conn.transaction():
                (learner,) = conn.execute(
                    "INSERT INTO raw_learner (email) VALUES (%s) RETURNING id",
                    (f"{shape}{index}-{n}@bench.test",),
                ).fetchone()
            with conn.transaction():
                conn.execute("INSERT INTO raw_task (task) VALUES ('fan_out')")
                _, transfer, order = conn.execute(
                    "SELECT id, nextval(pg_get_serial_sequence('raw_transfer', 'id')), "
                    "nextval(pg_get_serial_sequence('raw_order', 'id')) "
                    "FROM raw_wallet WHERE id = %s FOR UPDATE",
                    (wallet,),
                ).fetchone()
                with conn.pipeline():
                    debited = conn.execute(
                        "UPDATE raw_lot SET remaining = remaining - 100 "
                        "WHERE id = %s AND remaining >= 100",
                        (wallet,),
                    )
                    conn.execute(
                        "INSERT INTO raw_transfer (id, wallet_id, amount) VALUES (%s, %s, 100)",
                        (transfer, wallet),
                    )
                    conn.execute(
                        "INSERT INTO raw_entry (transfer_id, lot_id, amount) "
                        "VALUES (%s, %s, -100), (%s, NULL, 100)",
                        (transfer, wallet, transfer),
                    )
                    conn.execute(
                        "INSERT INTO raw_order (id, learner_id, transfer_id, charged, number) "
                        "VALUES (%s, %s, %s, 100, %s)",
                        (order, learner, transfer, f"{shape}-{index}-{n}"),
                    )
                    conn.execute(
                        "INSERT INTO raw_registration (order_id, learner_id, item_id) "
                        "VALUES (%s, %s, 1)",
                        (order, learner),
                    )
                    conn.execute(
                        "INSERT INTO raw_event (kind, data) VALUES ('credit.redeemed', "
                        '\'{"amount": "1.00"}\')'
                    )
                assert debited.rowcount == 1
            with conn.transaction():
                numbers = dict(
                    conn.execute(
                        "UPDATE raw_counter AS c SET last = c.last + 1 FROM (SELECT kind FROM "
                        "raw_counter WHERE kind IN ('invoice', 'receipt') ORDER BY kind "
                        "FOR UPDATE) AS l WHERE c.kind = l.kind RETURNING c.kind, c.last"
                    ).fetchall()
                )
                with conn.pipeline():  # as the checkout sends its documents: together
                    for kind in ("invoice", "receipt"):
                        conn.execute(
                            "INSERT INTO raw_document (kind, seq, order_id) VALUES (%s, %s, %s)",
                            (kind, numbers[kind], order),
                        )

        return once

    return make


def tuition_checkout(activity_id: int, codes: list[str], shape: str):
    def make(index: int):
        from tuition.checkout import services as checkout

        state = {"n": 0}

        def once() -> None:
            state["n"] += 1
            n = state["n"]
            code = codes[(n * 16 + index) % len(codes)]
            try:
                checkout.checkout(
                    learner_email=f"{shape}{index}-{n}@bench.test",
                    activity_id=activity_id,
                    payment=checkout.PaymentChoice(method="code", code=code),
                    actor=f"bench:{index}",
                )
            except Exception as exc:
                print(f"    worker {index} stopped: {exc!r}", file=sys.stderr, flush=True)
                raise

        return once

    return make


def measure(label: str, make, workers: int, seconds: float) -> float:
    done, elapsed = timed_workers(make, workers, seconds)
    rate = done / elapsed
    print(
        f"  {label:<16} {workers:>2} workers: {done:>6} checkouts in {elapsed:4.1f} s = "
        f"{rate:7.0f}/s",
        flush=True,
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--workers", default="1,4,16")
    parser.add_argument("--rounds", type=int, default=3, help="raw and tuition take turns")
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
        from tuition.accounts.models import TrainingAccount
        from tuition.catalog import services as catalog
        from tuition.codes import services as codes
        from tuition.ledger import services as ledger
        from tuition.ledger.models import Unit

        unit = Unit.objects.get(code="USD")
        activity = catalog.create_activity(title="Bench course", price=100, actor="bench")
        accounts = TrainingAccount.objects.bulk_create(
            [TrainingAccount(name=f"Bench {i}") for i in range(ACCOUNTS)]
        )
        pool_codes = []
        for account in accounts:
            ledger.issue_credit(
                account_id=account.pk,
                unit=unit,
                redeemable_value=10**15,
                expires_at=None,
                actor="bench",
            )
            pool_codes.append(
                codes.create_pool_code(account_id=account.pk, unit=unit, actor="bench").code_text
            )
        connection.cursor().execute("ANALYZE")

        rows = []
        medians: dict[tuple[str, int], float] = {}
        raw_medians: dict[tuple[str, int], float] = {}
        for shape, spread in (("hot", False), ("spread", True)):
            print(f"Shape: {shape}", flush=True)
            for workers in worker_counts:
                # Raw and tuition take turns, round after round: this VM's speed drifts by a
                # fifth within minutes, and a drift then touches both sides alike.
                raws, ours = [], []
                for round_ in range(1, args.rounds + 1):
                    tag = f"{shape}{workers}r{round_}"
                    raw_loop = raw_checkout(url, spread, tag)
                    raws.append(measure(f"raw {shape}", raw_loop, workers, args.seconds))
                    codes_used = pool_codes if spread else pool_codes[:1]
                    ours.append(
                        measure(
                            f"tuition {shape}",
                            tuition_checkout(activity.pk, codes_used, tag),
                            workers,
                            args.seconds,
                        )
                    )
                ratio = statistics.median(o / r for o, r in zip(ours, raws, strict=True))
                medians[(shape, workers)] = statistics.median(ours)
                raw_medians[(shape, workers)] = statistics.median(raws)
                rows.append(
                    [
                        shape,
                        workers,
                        f"{statistics.median(raws):.0f}",
                        f"{medians[(shape, workers)]:.0f}",
                        f"{ratio:.0%}",
                        f"{min(ours):.0f}-{max(ours):.0f}",
                    ]
                )

        from importlib import import_module

        problems = [
            p
            for module in ("tuition.ledger.verify", "tuition.checkout.verify")
            for check in import_module(module).CHECKS
            for p in check()
        ]
        print("\ninvariants after the run:", "all hold" if not problems else problems[:5])
        print("Checkouts per second (PostgreSQL, same machine, same run)")
        print(f"(medians of {args.rounds} rounds; ratio: the median of each round's ratio)")
        print(table(["shape", "workers", "raw", "tuition", "ratio", "tuition range"], rows))
        if all((shape, w) in medians for shape in ("hot", "spread") for w in (4, 16)):
            # Spread shares no wallet: how much it loses from 4 to 16 workers is what the
            # machine loses to more processes than cores. Hot losing more is the wallet's queue.
            def kept(side: dict[tuple[str, int], float], shape: str) -> str:
                return f"{side[(shape, 16)] / side[(shape, 4)]:.0%}"

            print(
                f"16 workers / 4 workers: tuition hot {kept(medians, 'hot')}, spread "
                f"{kept(medians, 'spread')}; raw hot {kept(raw_medians, 'hot')}, spread "
                f"{kept(raw_medians, 'spread')}"
            )
        print(
            "Receipts and invoices are numbered gap-free per year right after the checkout "
            "commits, so every checkout (raw and tuition alike) queues briefly on the two "
            "counter rows, outside the wallet's transaction."
        )
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
