"""Checkouts per second through the whole stack (gunicorn, HTTP, API key, idempotency,
checkout service, PostgreSQL) on one hot account, beside a trivial endpoint and the raw
database figure, all in one run.

    .venv/bin/python bench/http.py [--seconds 10] [--clients 16] [--workers N]

It makes a throwaway PostgreSQL database, migrates it, creates one account holding a large
credit with a pool code, one activity priced 1.00, and an API key; starts gunicorn on a free
port; then runs, one after another:
  raw       16 connections in a plain-SQL loop doing what a redemption must do at least:
            lock the wallet row, update the lot, insert entries, commit;
  trivial   16 HTTP clients calling GET /api/v1/units (authentication + one query);
  checkout  16 HTTP clients calling POST /api/v1/checkout with a new Idempotency-Key and a
            new learner each time, all paying with the same pool code (one hot wallet);
  spread    the same, with the pool codes of 64 accounts taken in turn (many wallets).
Clients are processes in a closed loop (send, wait for the answer, send again). It prints
requests per second, p50 and p99 latency, and the ratios checkout/raw and checkout/trivial.
"""

import sys
from pathlib import Path

# This file is named like the standard library's `http` package: keep its folder off the
# import path (Python puts it first), and load the shared helpers by file instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from typing import Any  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_common", _HERE / "_common.py")
assert _spec and _spec.loader
_common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_common)
ROOT, drop_database, setup_django = _common.ROOT, _common.drop_database, _common.setup_django
table, throwaway_database, timed_workers = (
    _common.table,
    _common.throwaway_database,
    _common.timed_workers,
)

DB_NAME = "tuition_bench_http"
PRICE_CENTS = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SPREAD_ACCOUNTS = 64


def prepare() -> dict[str, Any]:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tuition.accounts.services import create_account
    from tuition.api.keys import create_api_key
    from tuition.catalog.services import create_activity
    from tuition.codes.services import create_credit, create_pool_code
    from tuition.ledger.models import Unit

    usd = Unit.objects.get(code="USD")
    account = create_account(name="Hot account", owners=["owner@bench.test"], actor="bench")
    create_credit(
        account_id=account.pk, unit=usd, redeemable_value=10**14, expires_at=None, actor="bench"
    )
    pool = create_pool_code(account_id=account.pk, unit=usd, actor="bench")
    activity = create_activity(title="Bench course", price=PRICE_CENTS, actor="bench")
    _, key = create_api_key(name="bench", scopes=["admin"], actor="bench")
    # Many accounts, for checkouts that do not all wait for one wallet's lock.
    spread = []
    for number in range(SPREAD_ACCOUNTS):
        other = create_account(name=f"Account {number}", actor="bench")
        create_credit(
            account_id=other.pk, unit=usd, redeemable_value=10**12, expires_at=None, actor="bench"
        )
        spread.append(create_pool_code(account_id=other.pk, unit=usd, actor="bench").code_text)
    return {
        "key": key,
        "code": pool.code_text,
        "activity": str(activity.pk),
        "account": str(account.pk),
        "spread_codes": spread,
    }


def raw_loop(database_url: str):
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE raw_wallet (id bigint PRIMARY KEY);
            CREATE TABLE raw_lot (id bigint PRIMARY KEY, remaining bigint NOT NULL
                                  CHECK (remaining >= 0));
            CREATE TABLE raw_entry (id bigserial PRIMARY KEY, lot_id bigint, amount bigint,
                                    created_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO raw_wallet VALUES (1);
            INSERT INTO raw_lot VALUES (1, 1000000000000000);
        """)

    def make(_index: int):
        conn = psycopg.connect(database_url)

        def redeem() -> None:
            with conn.transaction():
                conn.execute("SELECT id FROM raw_wallet WHERE id = 1 FOR UPDATE")
                conn.execute(
                    "UPDATE raw_lot SET remaining = remaining - 100 "
                    "WHERE id = 1 AND remaining >= 100"
                )
                conn.execute("INSERT INTO raw_entry (lot_id, amount) VALUES (1, -100), (NULL, 100)")

        return redeem

    return make


def http_clients(  # type: ignore[no-untyped-def]
    base: str, clients: int, seconds: float, request_factory
) -> tuple[int, float, list[float], int, float]:
    """Run `clients` processes in a closed loop; returns (ok, elapsed, latencies, failures,
    CPU seconds the clients themselves used)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients + 1)
    results = context.SimpleQueue()

    def run(index: int) -> None:
        # The standard library's client, not httpx: the load generator shares the machine's
        # CPUs with the server, and every millisecond it spends per request is taken from the
        # figures measured.
        import http.client
        import json
        from urllib.parse import urlsplit

        target = urlsplit(base)
        latencies: list[float] = []
        failures = 0
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        make_request = request_factory(index)
        barrier.wait()
        deadline = time.perf_counter() + seconds
        cpu = time.process_time()
        while time.perf_counter() < deadline:
            method, path, kwargs, expected = make_request()
            headers = dict(kwargs.get("headers", {}))
            body = None
            if "json" in kwargs:
                body = json.dumps(kwargs["json"]).encode()
                headers["Content-Type"] = "application/json"
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            latencies.append(time.perf_counter() - started)
            if response.will_close:
                connection.close()  # a sync worker closes after each answer: reconnect
            if response.status != expected:
                failures += 1
                if failures <= 3:
                    print(f"  client {index}: {response.status} {content[:200]!r}", file=sys.stderr)
        client_cpu = time.process_time() - cpu
        connection.close()
        results.put((latencies, failures, client_cpu))
        os._exit(0)

    processes = [context.Process(target=run, args=(i,)) for i in range(clients)]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    latencies: list[float] = []
    failures = 0
    client_cpu = 0.0
    for _ in processes:
        done, failed, cpu = results.get()
        latencies += done
        failures += failed
        client_cpu += cpu
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    return len(latencies) - failures, elapsed, latencies, failures, client_cpu


def service_loop(code: str, activity_id: int):  # type: ignore[no-untyped-def]
    def make(index: int):  # type: ignore[no-untyped-def]
        from tuition.checkout import services as checkout

        counter = iter(range(10**9))
        run = uuid.uuid4().hex[:8]

        def once() -> None:
            checkout.checkout(
                learner_email=f"service-{run}-{index}-{next(counter)}@bench.test",
                activity_id=activity_id,
                payment=checkout.PaymentChoice(method="code", code=code),
                actor="bench",
            )

        return once

    return make


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=max(2, 2 * (os.cpu_count() or 1)))
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (more than 1: gthread, keep-alive)",
    )
    args = parser.parse_args()

    database_url = throwaway_database(DB_NAME)
    server = None
    try:
        setup_django(database_url)
        fixture = prepare()
        from django.db import connections

        connections.close_all()
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "tuition.config.settings.base",
            "LOG_LEVEL": "ERROR",
            "CONN_MAX_AGE": "600",
        }
        server = subprocess.Popen(
            # --preload: the application is imported once and forked, so every worker starts
            # warm and the first requests measured do not pay for imports.
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "tuition.config.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--preload",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        base = f"http://127.0.0.1:{port}"
        _wait_for(base)
        headers = {"Authorization": f"Api-Key {fixture['key']}"}

        def trivial(_index: int):
            return lambda: ("GET", "/api/v1/units", {"headers": headers}, 200)

        def checkout(index: int, *, spread: bool = False):
            counter = iter(range(10**9))
            run = uuid.uuid4().hex[:8]  # a fresh learner per request, across warm-up and run
            codes = fixture["spread_codes"]

            def make():  # type: ignore[no-untyped-def]
                n = next(counter)
                code = codes[(index + n * args.clients) % len(codes)] if spread else fixture["code"]
                body = {
                    "learner": {"email": f"learner-{run}-{index}-{n}@bench.test"},
                    "item": {"activity": fixture["activity"]},
                    "payment": {"method": "code", "code": code},
                }
                return (
                    "POST",
                    "/api/v1/checkout",
                    {"headers": {**headers, "Idempotency-Key": str(uuid.uuid4())}, "json": body},
                    201,
                )

            return make

        # Warm up every worker's connection and both code paths.
        http_clients(base, args.clients, 1, trivial)
        http_clients(base, args.clients, 1, checkout)
        load_before = os.getloadavg()[0]

        raw_done, raw_elapsed = timed_workers(raw_loop(database_url), args.clients, args.seconds)
        raw_rate = raw_done / raw_elapsed
        rows = [["raw SQL (lock, update, insert)", f"{raw_rate:,.0f}", "-", "-", "0", "-"]]
        rates = {}

        def checkout_spread(index: int):
            return checkout(index, spread=True)

        for name, factory in [
            ("GET /api/v1/units (trivial)", trivial),
            ("POST /api/v1/checkout (hot account)", checkout),
            (f"POST /api/v1/checkout ({SPREAD_ACCOUNTS} accounts)", checkout_spread),
        ]:
            ok, elapsed, latencies, failures, client_cpu = http_clients(
                base, args.clients, args.seconds, factory
            )
            rates[name] = ok / elapsed
            if name == "POST /api/v1/checkout (hot account)":
                hot_p50, hot_p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
            rows.append(
                [
                    name,
                    f"{rates[name]:,.0f}",
                    f"{percentile(latencies, 0.5) * 1000:.1f}",
                    f"{percentile(latencies, 0.99) * 1000:.1f}",
                    str(failures),
                    f"{client_cpu / max(len(latencies), 1) * 1000:.2f}",
                ]
            )
        # The same checkouts called in-process (no HTTP, no API key, no idempotency), by as
        # many processes as there are clients: what the HTTP stack costs on top.
        service_done, service_elapsed = timed_workers(
            service_loop(fixture["code"], int(fixture["activity"])), args.clients, args.seconds
        )
        service_rate = service_done / service_elapsed
        rows.append(["checkout service, in-process", f"{service_rate:,.0f}", "-", "-", "0", "-"])
        checkout_rate = rates["POST /api/v1/checkout (hot account)"]
        trivial_rate = rates["GET /api/v1/units (trivial)"]
        print(
            f"\n{args.clients} clients, {args.seconds:g} s each, gunicorn {args.workers} "
            f"workers x {args.threads} threads, {os.cpu_count()} CPUs, PostgreSQL, "
            f"load average {load_before:.1f} before the run (other work on the machine "
            f"skews every figure)\n"
        )
        print(
            table(
                [
                    "operation",
                    "per second",
                    "p50 ms",
                    "p99 ms",
                    "failures",
                    "client CPU ms/request",
                ],
                rows,
            )
        )
        # The raw loop here is a bare debit (lock, update, insert), far less than a checkout
        # writes: it shows the database's ceiling, not a target. The checkout's own raw
        # comparison is `bench/checkout.py`.
        print(f"\nHTTP checkout / bare raw debit: {checkout_rate / raw_rate:.1%}")
        print(
            f"HTTP checkout / service checkout: {checkout_rate / service_rate:.1%}   "
            "(target >= 50%)"
        )
        print(f"HTTP checkout p99 / p50: {hot_p99 / hot_p50:.1f}   (target <= 3)")
        print(f"checkout / trivial endpoint: {checkout_rate / trivial_rate:.1%}")
        spread_rate = rates[f"POST /api/v1/checkout ({SPREAD_ACCOUNTS} accounts)"]
        print(
            f"checkout over {SPREAD_ACCOUNTS} accounts / hot account: "
            f"{spread_rate / checkout_rate:.1f}x   (above 1: the hot wallet's lock is the limit; "
            "about 1: CPU is)"
        )
        _verify(database_url)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


def _wait_for(base: str) -> None:
    import httpx

    for _ in range(100):
        try:
            httpx.get(f"{base}/api/schema/", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _verify(database_url: str) -> None:
    from django.core.management import call_command

    print("\nledger verify after the run:")
    call_command("verify")


if __name__ == "__main__":
    main()
