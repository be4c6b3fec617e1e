"""One transaction per use case, retried when the database asks for it.

A use case runs in `transaction.atomic(durable=True)`. Deadlocks and serialization failures
(PostgreSQL) and a busy database file (SQLite) roll the whole attempt back; it is retried a few
times with jitter. When the database stays busy, or the connection is lost, the caller gets
`ServiceBusyError` (503 with Retry-After), never an unplanned 500.

A larger use case (checkout) composes smaller ones (a ledger debit) and stays all-or-nothing
by saying so at the call: `ledger.debit.joining(...)` runs the debit in the caller's open
transaction. Nothing joins silently: a plain call inside an open transaction is a programming
error (`NestedUseCaseError`), so no use case ever commits less, or more, than it says. A
command that builds much in one transaction (the demo data) says it once for its block:
`with composing(): ...`.
"""

import contextlib
import contextvars
import functools
import random
import time
from collections.abc import Callable, Iterator
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
        if _composing.get():
            return joining(*args, **kwargs)
        if connection.in_atomic_block and not _only_test_transactions():
            raise NestedUseCaseError(
                f"{func.__qualname__} was called inside an open transaction: "
                f"call {func.__name__}.joining(...) to make it part of that transaction."
            )
        with acting_as(kwargs.get("actor")):  # change history rows name who did it
            return _run(*args, **kwargs)

    def joining(*args: P.args, **kwargs: P.kwargs) -> R:
        """Run as part of the transaction the caller holds open (one use case composing
        another): no transaction, retry or Idempotency-Key answer of its own."""
        if not connection.in_atomic_block:
            raise NestedUseCaseError(f"{func.__qualname__}.joining needs an open transaction.")
        with acting_as(kwargs.get("actor")):
            return func(*args, **kwargs)

    run.joining = joining  # type: ignore[attr-defined]

    def _run(*args: P.args, **kwargs: P.kwargs) -> R:
        once = idempotency.take() if answers else None
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


_composing: contextvars.ContextVar[bool] = contextvars.ContextVar("composing", default=False)


@contextlib.contextmanager
def composing() -> Iterator[None]:
    """One transaction that every use case called in the block joins, all or nothing: for a
    command that builds much at once (the demo data), said once instead of at every call."""
    token = _composing.set(True)
    try:
        with transaction.atomic():
            yield
    finally:
        _composing.reset(token)


class NestedUseCaseError(RuntimeError):
    """A use case was called inside an open transaction without `.joining`, or the other way
    round: a programming error, never an answer to a request."""


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
