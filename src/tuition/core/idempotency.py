"""Idempotency-Key (SPEC rule 28), kept by the use case it answers for.

An interface that takes a key describes the request as a `Once` (the caller's scope, the key,
a fingerprint of the request, and how to render the use case's result as the answer) and
hands it to the use case with `answering(once)`. The use case (`@use_case(answers=True)`) then
owns everything in its one transaction:

1. Before the transaction, one read: a key already answered is replayed (`AnsweredBefore`),
   whatever the state of things now; a key used with another request is refused.
2. The work, then the answer rendered and inserted as the key's record, in the same
   transaction: a record exists exactly when the change it answers for committed. Two requests
   racing with one key both work; the second's insert meets the first's key, its whole
   transaction rolls back, and it replays the first answer. Nothing is claimed in advance, so
   a crashed request leaves no claim behind: its retry simply runs.
3. A refusal is an answer too: its transaction rolled back, the refusal is stored in a short
   transaction of its own, together with what the refusal itself must record (the failed
   code entry, `also_on_refusal`). Answers that are not about the state of things are not
   stored: 400 (the input itself is wrong), 429 and 503 (come back later).

Keys belong to one caller (an API key, or a signed-in person) and are kept at least 24 hours.
"""

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists

from . import clock, round_trips
from .errors import DomainError, IdempotencyKeyReusedError
from .models import IdempotencyRecord


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


@dataclass
class Once:
    """One request with an Idempotency-Key, as its use case sees it."""

    scope: str
    key: str
    fingerprint: str
    render: Callable[[Any], Answer]
    refusal: Callable[[DomainError], Answer]
    # Set when the use case stored its answer, or found the first one.
    answer: Answer | None = None
    replayed: bool = False
    # The interface already looked for the first answer (just now, before its own checks).
    looked_up: bool = False
    refusal_writers: list[Callable[[DomainError], None]] = field(default_factory=list)


class AnsweredBefore(Exception):
    """The key was answered before (or by a request racing this one): replay `answer`."""

    def __init__(self, answer: Answer | None):
        self.answer = answer


_current: contextvars.ContextVar[Once | None] = contextvars.ContextVar("once", default=None)


@contextlib.contextmanager
def answering(once: Once) -> Iterator[Once]:
    """Hand `once` to the next use case that answers for a key (`@use_case(answers=True)`)."""
    token = _current.set(once)
    try:
        yield once
    finally:
        _current.reset(token)


def take() -> Once | None:
    """The request the running use case answers for, taken so no other use case does."""
    once = _current.get()
    if once is not None and once.answer is None:
        _current.set(None)
        return once
    return None


def current() -> Once | None:
    """The request with a key that the interface handed over, if any (without taking it)."""
    return _current.get()


def also_on_refusal(write: Callable[[DomainError], None]) -> bool:
    """Have `write(error)` run in the transaction that stores a refusal of the current
    request. Returns False when there is no such request (the caller writes on its own)."""
    once = _current.get()
    if once is None:
        return False
    once.refusal_writers.append(write)
    return True


def first_answer(once: Once) -> Answer | None:
    """The answer stored for the key, if any (one read, outside any transaction).

    Raises:
        IdempotencyKeyReusedError: the key was used with another request.
    """
    record = (
        IdempotencyRecord.objects.filter(scope=once.scope, key=once.key)
        .values_list("request_fingerprint", "response_status", "response_body")
        .first()
    )
    if record is None:
        return None
    fingerprint, status, body = record
    if fingerprint != once.fingerprint:
        raise IdempotencyKeyReusedError()
    return Answer(status, (body or "").encode())


def key_to_read(once: Once | None) -> tuple[str, str] | None:
    """The (scope, key) a row the request reads before its use case anyway (the learner) can
    be read with (`unanswered`), so `note_unanswered` can spare the use case its own look-up.
    None when there is no key, or it was looked up already."""
    if once is None or once.looked_up:
        return None
    return once.scope, once.key


def unanswered(*, scope: str, key: str) -> Any:
    """An annotation: whether the key has no stored answer yet."""
    return ~Exists(IdempotencyRecord.objects.filter(scope=scope, key=key))


def note_unanswered(once: Once | None, row: object) -> None:
    """After a read annotated with `unanswered` (as `idempotency_key_unanswered`): a key
    found unanswered needs no look-up of its own (one answered, or a row that was not there
    to read, still gets it)."""
    if once is not None and getattr(row, "idempotency_key_unanswered", False):
        once.looked_up = True


def store(once: Once, answer: Answer) -> None:
    """Keep `answer` as the key's record, inside the use case's transaction.

    Raises:
        AnsweredBefore: a request with the same key committed first (this transaction must
            roll back; its first answer is replayed).
    """
    try:
        IdempotencyRecord.objects.create(
            scope=once.scope,
            key=once.key,
            request_fingerprint=once.fingerprint,
            status=IdempotencyRecord.Status.COMPLETED,
            response_status=answer.status,
            response_body=answer.body.decode(),
            created_at=clock.now(),
            locked_until=clock.now(),
        )
    except IntegrityError:
        raise AnsweredBefore(None) from None
    once.answer = answer


def amend(once: Once, answer: Answer) -> None:
    """Replace the stored answer with a fuller one of the same outcome, written by the step
    that completes the change right after its commit (checkout's document numbers). One
    fixed statement: inside `round_trips.one_round_trip` it goes out with that step's writes."""
    round_trips.execute(_AMEND, [answer.body.decode(), once.scope, once.key])
    once.answer = answer


_AMEND = (
    f"UPDATE {IdempotencyRecord._meta.db_table} SET response_body = %s "
    "WHERE scope = %s AND key = %s"
)


def resolve(raced: AnsweredBefore, once: Once) -> AnsweredBefore:
    """After the transaction that lost a race with the same key rolled back: read the
    winner's answer into `raced` (and `once`)."""
    if raced.answer is None:
        first = first_answer(once)
        if first is None:  # cannot happen: the key's record committed before ours failed
            raise IdempotencyKeyReusedError()
        raced.answer = first
    once.answer, once.replayed = raced.answer, True
    return raced


def is_final(error: DomainError) -> bool:
    """Whether a refusal is the request's answer: a business refusal (401-499), not a
    malformed input (400) nor a "come back later" (429)."""
    return 400 < error.status < 500 and error.status != 429


def store_refusal(once: Once, error: DomainError) -> None:
    """Keep a final refusal as the key's answer, with what the refusal itself records, in one
    short transaction (the work it refused has rolled back). When another request with the
    key answered first, its answer is the one given (`AnsweredBefore`).

    Raises:
        AnsweredBefore: the key was answered meanwhile.
        DomainError: what a refusal writer raised instead (e.g. too many attempts).
    """
    answer = once.refusal(error)
    try:
        with transaction.atomic(durable=True):
            for write in once.refusal_writers:
                write(error)
            if is_final(error):
                store(once, answer)
    except AnsweredBefore as raced:
        raise resolve(raced, once) from error


def retention() -> timedelta:
    hours = settings.TUITION.get("IDEMPOTENCY_RETENTION_HOURS", 24)
    return timedelta(hours=max(24, hours))


def prune(*, now: Any = None) -> int:
    """Delete records older than the retention period; returns how many."""
    now = now or clock.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - retention()).delete()
    return deleted
