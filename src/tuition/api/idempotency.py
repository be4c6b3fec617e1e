"""Idempotency-Key on every request that moves value (SPEC rule 28).

1. The key is claimed (`in_progress`, with `locked_until`) in its own short transaction, so a
   second request with the same key sees it at once: 409 while the first runs, the stored
   answer once it finished, 422 when the body differs.
2. The work and the stored answer commit in ONE transaction: a `completed` record exists
   exactly when the change it answers for committed. The services' `@use_case` joins it.
3. A refused request rolls its work back and stores the refusal as the answer, so a retry
   with the key gets the same refusal again (marked replayed): a refusal is an answer too.
   Answers that are not about the state of things are not stored and free the key instead:
   400 (the input itself is wrong; the corrected request may reuse the key), 429 and 503
   (come back later) and 409 `idempotency_key_in_progress`. A claim whose worker died is
   taken over after `locked_until`.

Keys belong to one caller (an API key, or a signed-in person), never shared between callers,
and are kept at least 24 hours (`tuition prune-idempotency-keys`).
"""

import contextlib
import functools
import hashlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from tuition.core import clock
from tuition.core.errors import (
    DomainError,
    IdempotencyKeyInProgressError,
    IdempotencyKeyReusedError,
    ValidationError,
)
from tuition.core.faults import fault_point
from tuition.core.models import IdempotencyRecord
from tuition.core.transactions import use_case

from .access import caller

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
CLAIM_SECONDS = 60


def retention() -> timedelta:
    hours = settings.TUITION.get("IDEMPOTENCY_RETENTION_HOURS", 24)
    return timedelta(hours=max(24, hours))


def claim_seconds() -> int:
    """How long a claim holds before a retry may take over the request of a dead worker."""
    return int(settings.TUITION.get("IDEMPOTENCY_CLAIM_SECONDS", CLAIM_SECONDS))


def fingerprint(method: str, path: str, data: Any) -> str:
    """Over the parsed body (so key order and whitespace do not matter), method and path."""
    canonical = json.dumps(
        [method, path, data],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        cls=JSONEncoder,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_key(request: Any) -> str:
    """Raises:
    ValidationError: no key, or one that is empty, too long or not printable ASCII."""
    key = request.headers.get(HEADER)
    if key is None:
        raise ValidationError(
            f"This request moves value and needs an {HEADER} header.",
            details={"field": HEADER, "reason": "required"},
        )
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
            details={"field": HEADER},
        )
    return key


def claim(*, scope: str, key: str, request_fingerprint: str) -> IdempotencyRecord:
    """Claim the key, or say why not.

    Returns the record: `in_progress` (ours to run) or `completed` (replay it).

    Raises:
        IdempotencyKeyReusedError: the key was used with another request.
        IdempotencyKeyInProgressError: a request with this key is running now.
    """
    now = clock.now()
    lease = timedelta(seconds=claim_seconds())
    try:
        with transaction.atomic():
            _commit_without_flush()
            return IdempotencyRecord.objects.create(
                scope=scope,
                key=key,
                request_fingerprint=request_fingerprint,
                status=IdempotencyRecord.Status.IN_PROGRESS,
                created_at=now,
                locked_until=now + lease,
            )
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.get(scope=scope, key=key)
    if record.request_fingerprint != request_fingerprint:
        raise IdempotencyKeyReusedError()
    if record.status == IdempotencyRecord.Status.COMPLETED:
        return record
    # A claim past its lock belongs to a worker that died: take it over, once.
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, status=IdempotencyRecord.Status.IN_PROGRESS, locked_until__lte=now
    ).update(locked_until=now + lease)
    if taken != 1:
        raise IdempotencyKeyInProgressError()
    record.refresh_from_db()
    return record


def release(record: IdempotencyRecord) -> None:
    with transaction.atomic():
        _commit_without_flush()
        IdempotencyRecord.objects.filter(
            pk=record.pk, status=IdempotencyRecord.Status.IN_PROGRESS
        ).delete()


def _commit_without_flush() -> None:
    """Let this short transaction (a claim or its release) commit without waiting for the
    write-ahead log to reach the disk (PostgreSQL `synchronous_commit = off`, for this
    transaction only). That saves one disk flush per request that moves value, and loses
    nothing: the log is written in order, so the work's own (synchronous) commit makes the
    claim durable too, and a claim lost in a database crash belongs to a request that failed
    with it and may simply be retried."""
    if connection.vendor == "postgresql" and not connection.savepoint_ids:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _completed_meanwhile(record: IdempotencyRecord) -> HttpResponse | None:
    """The first answer, when another attempt with this key (one that took over a claim thought
    dead) completed while this one ran: a refusal caused by that attempt's own effect (e.g.
    `already_registered`) must not hide its success."""
    done = IdempotencyRecord.objects.filter(
        pk=record.pk, status=IdempotencyRecord.Status.COMPLETED
    ).first()
    return replay(done) if done is not None else None


@use_case
def _run_and_complete(*, record_id: int, run: Callable[[], Response]) -> HttpResponse:
    response = run()
    if response.status_code >= 400:
        raise _Refused(response)
    # The exact bytes are kept (not parsed JSON, whose key order the database may change), so
    # a replay is byte-for-byte the first answer.
    content = _render(response)
    completed = IdempotencyRecord.objects.filter(
        pk=record_id, status=IdempotencyRecord.Status.IN_PROGRESS
    ).update(
        status=IdempotencyRecord.Status.COMPLETED,
        response_status=response.status_code,
        response_body=content.decode(),
    )
    if completed != 1:  # someone took over a claim we still held: let them win
        raise IdempotencyKeyInProgressError()
    return _json_response(content, response.status_code)


def _store_refusal(record: IdempotencyRecord, response: Response) -> HttpResponse:
    """Keep a refusal as the key's first answer (in its own short transaction: the work it
    refused has rolled back), unless another attempt completed the key meanwhile."""
    content = _render(response)
    with transaction.atomic():
        stored = IdempotencyRecord.objects.filter(
            pk=record.pk, status=IdempotencyRecord.Status.IN_PROGRESS
        ).update(
            status=IdempotencyRecord.Status.COMPLETED,
            response_status=response.status_code,
            response_body=content.decode(),
        )
    if stored != 1:
        return _completed_meanwhile(record) or _json_response(content, response.status_code)
    return _json_response(content, response.status_code)


def _render(response: Response) -> bytes:
    return JSONRenderer().render(response.data)


def _is_final(status: int, error: DomainError | None = None) -> bool:
    """Whether a refusal is the request's answer: a business refusal (401-499), not a
    malformed input (400) nor a "come back later" (429, a key in progress)."""
    if isinstance(error, IdempotencyKeyInProgressError):
        return False
    return 400 < status < 500 and status != 429


def _json_response(content: bytes | str, status: int) -> HttpResponse:
    return HttpResponse(content, status=status, content_type="application/json")


class _Refused(Exception):
    """An error answer returned (not raised) by a view: roll back, store nothing."""

    def __init__(self, response: Response):
        self.response = response


def replay(record: IdempotencyRecord) -> HttpResponse:
    response = _json_response(record.response_body or "", record.response_status or 200)
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent(
    handler: Callable[..., Response] | None = None,
    *,
    around: Callable[[Any, Any], AbstractContextManager[Any]] | None = None,
) -> Any:
    """Wrap a view method that moves value (see the module docstring).

    `around(view, request)` is a context manager entered outside the transaction (after the
    key is claimed, not on a replay), for bookkeeping that must commit on its own whatever the
    transaction does (failed code entries). What it yields is handed to the view as
    `request.around_value`.
    """
    if handler is None:
        return functools.partial(idempotent, around=around)

    @functools.wraps(handler)
    def wrapper(view: Any, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        key = read_key(request)
        data = request.data  # malformed bodies are refused here, before any claim
        record = claim(
            scope=caller(request).idempotency_scope,
            key=key,
            request_fingerprint=fingerprint(request.method, request.path, data),
        )
        if record.status == IdempotencyRecord.Status.COMPLETED:
            return replay(record)
        try:
            with contextlib.ExitStack() as stack:
                try:
                    request.around_value = (
                        stack.enter_context(around(view, request)) if around else None
                    )
                except BaseException:
                    release(record)  # refused before any work: the key is free for a retry
                    raise
                return _attempt(record, lambda: handler(view, request, *args, **kwargs))
        except DomainError as error:
            # A stored refusal went up through `around` (which counts failed code entries) as
            # the error it is; the caller gets the stored bytes, as any replay will.
            stored = getattr(error, "stored_answer", None)
            if stored is not None:
                return stored
            raise

    wrapper.idempotent = True  # type: ignore[attr-defined]
    return wrapper


def _attempt(record: IdempotencyRecord, run: Callable[[], Response]) -> HttpResponse:
    """Run the work in the transaction that completes the record; on refusal free the key."""
    try:
        if connection.in_atomic_block:
            # Only under a test's transaction: keep a failed attempt from leaving rows.
            with transaction.atomic():
                return _run_and_complete(record_id=record.pk, run=run)
        response = _run_and_complete(record_id=record.pk, run=run)
        fault_point("after_commit_before_response")
        return response
    except _Refused as refused:
        if _is_final(refused.response.status_code):
            return _store_refusal(record, refused.response)
        release(record)
        return _completed_meanwhile(record) or refused.response
    except DomainError as error:
        if _is_final(error.status, error):
            error.stored_answer = _store_refusal(  # type: ignore[attr-defined]
                record, Response(error.as_dict(), status=error.status)
            )
            raise
        release(record)
        first = _completed_meanwhile(record)
        if first is not None:
            return first
        raise
    except BaseException:
        release(record)
        raise


def prune(*, now: Any = None) -> int:
    """Delete records older than the retention period; returns how many."""
    now = now or clock.now()
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=now - retention(), locked_until__lt=now
    ).delete()
    return deleted
