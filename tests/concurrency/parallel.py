"""Release many real database connections at once.

On PostgreSQL each worker is a thread with its own connection. On SQLite, where one process
would serialize on Python's GIL and the driver, each worker is a forked process with its own
connection to the test database file. Workers wait on a barrier so they hit the database
together. Each returns a short string outcome ("ok", or the domain error code), because results
from processes must be picklable.
"""

import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable

from django.db import connection, connections

from tuition.core.errors import DomainError

Outcome = str


def _outcome(fn: Callable[[int], object], index: int) -> Outcome:
    try:
        result = fn(index)
    except DomainError as exc:
        return exc.code
    except Exception:
        return "crash: " + traceback.format_exc(limit=3)
    return result if isinstance(result, str) else "ok"


def run_in_parallel(fn: Callable[[int], object], workers: int) -> list[Outcome]:
    """Run fn(0) ... fn(workers - 1) at the same moment; return their outcomes in order."""
    if connection.vendor == "postgresql":
        return _in_threads(fn, workers)
    return _in_processes(fn, workers)


def _in_threads(fn: Callable[[int], object], workers: int) -> list[Outcome]:
    barrier = threading.Barrier(workers)
    outcomes: list[Outcome] = [""] * workers

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            outcomes[index] = _outcome(fn, index)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes


def _in_processes(fn: Callable[[int], object], workers: int) -> list[Outcome]:
    connections.close_all()  # a forked child must never reuse the parent's connection
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers)
    results = context.SimpleQueue()  # writes synchronously: safe before os._exit

    def work(index: int) -> None:
        outcome = "crash: the worker did not finish"
        try:
            barrier.wait(timeout=60)
            outcome = _outcome(fn, index)
            connections.close_all()
        finally:
            results.put((index, outcome))  # always answer, so the parent never waits forever
            os._exit(0)  # skip pytest's exit handlers in the child

    processes = [context.Process(target=work, args=(i,)) for i in range(workers)]
    for process in processes:
        process.start()
    outcomes: list[Outcome] = [""] * workers
    for _ in range(workers):
        index, outcome = results.get()
        outcomes[index] = outcome
    for process in processes:
        process.join(timeout=60)
    return outcomes
