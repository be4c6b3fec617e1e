"""One transaction per use case, retried when the database asks for it.

A use case runs in `transaction.atomic(durable=True)`. Deadlocks and serialization failures
(PostgreSQL) and a busy database file (SQLite) roll the whole attempt back; it is retried a few
times with jitter. When the database stays busy, or the connection is lost, the caller gets
`ServiceBusyError` (503 with Retry-After), never an unplanned 500.

Called inside a transaction that is already open, a use case joins it instead, so a larger use
case (checkout) can compose smaller ones (a ledger debit) and stay all-or-nothing.
"""

import functools
import random
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction

from . import idempotency
from .audit_context import acting_as
from .errors import DomainError, ServiceBusyError

P = ParamSpec("P")
R = TypeVar("R")

_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


def is_retryable(exc: BaseException) -> bool:
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    text = str(exc).lower()
    return connection.vendor == "sqlite" and ("locked" in text or "busy" in text)


def is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, InterfaceError):
        return True
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate is None:
        return isinstance(exc, OperationalError) and connection.vendor != "sqlite"
    return sqlstate.startswith(("08", "57P"))


def use_case(func: Callable[P, R] | None = None, *, answers: bool = False) -> Any:
    """Run `func` as one use case: its own durable transaction, retried when the database
    asks for it. With `answers=True` it also answers for the request with an Idempotency-Key
    that the interface handed over (`idempotency.answering`): the key's record is part of
    this transaction (see `core.idempotency`)."""
    if func is None:
        return functools.partial(use_case, answers=answers)

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with acting_as(kwargs.get("actor")):  # change history rows name who did it
            return _run(*args, **kwargs)

    def _run(*args: P.args, **kwargs: P.kwargs) -> R:
        once = idempotency.take() if answers else None
        if connection.in_atomic_block and not _only_test_transactions():
            return func(*args, **kwargs)
        if once is None:
            return _in_transaction(func, args, kwargs, None)
        if not once.looked_up and (first := idempotency.first_answer(once)) is not None:
            once.answer, once.replayed = first, True
            raise idempotency.AnsweredBefore(first)
        try:
            return _in_transaction(func, args, kwargs, once)
        except idempotency.AnsweredBefore as raced:
            raise idempotency.resolve(raced, once) from None
        except DomainError as error:
            idempotency.store_refusal(once, error)
            raise

    return run


def _only_test_transactions() -> bool:
    """Whether every open atomic block is a test case's (which a durable block may nest in)."""
    return all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _in_transaction(
    func: Callable[..., R], args: Any, kwargs: Any, once: "idempotency.Once | None"
) -> R:
    attempts = settings.TUITION["SERVICE_RETRY_ATTEMPTS"]
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(durable=True):
                result = func(*args, **kwargs)
                if once is not None:
                    idempotency.store(once, once.render(result))
                return result
        except DatabaseError as exc:
            if is_retryable(exc) and attempt < attempts:
                time.sleep(random.uniform(0.005, 0.02) * attempt)
                continue
            if is_retryable(exc) or is_connection_failure(exc):
                connection.close_if_unusable_or_obsolete()
                raise ServiceBusyError() from exc
            raise
    raise AssertionError("unreachable")  # pragma: no cover
