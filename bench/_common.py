"""Shared by the benchmarks: a throwaway PostgreSQL database and parallel timed workers."""

import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

SERVER_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def throwaway_database(name: str) -> str:
    """Create (or re-create) database `name` on the benchmark server; return its URL."""
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(SERVER_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(name: str) -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tuition.config.settings.base")
    import django

    django.setup()


def timed_workers(
    work: Callable[[int], Callable[[], None]], workers: int, seconds: float
) -> tuple[int, float]:
    """Run `workers` processes; each builds its operation with work(i) and repeats it for
    `seconds` after a common start. Returns (operations done, elapsed seconds)."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers + 1)
    counts = context.SimpleQueue()

    def run(index: int) -> None:
        done = 0
        try:
            operation = work(index)
            barrier.wait()
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                operation()
                done += 1
        finally:
            counts.put(done)
            connections.close_all()
            os._exit(0)

    processes = [context.Process(target=run, args=(i,)) for i in range(workers)]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    total = sum(counts.get() for _ in processes)
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    return total, elapsed


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
