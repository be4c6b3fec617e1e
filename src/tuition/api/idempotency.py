"""Idempotency-Key on every request that moves value (SPEC rule 28): the API's side.

The interface reads the key and describes the request (`core.idempotency.Once`: the caller's
scope, the key, a fingerprint of method, path and parsed body, and how to render the answer);
the use case it calls keeps the key's record in its own transaction (see `core.idempotency`).
This module opens no transaction. A replay is byte for byte the first answer, marked
`Idempotent-Replayed: true`.
"""

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from tuition.core import idempotency
from tuition.core.errors import DomainError, ValidationError
from tuition.core.faults import fault_point
from tuition.core.idempotency import Answer, Once

from .access import caller

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


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


def answer_with(request: Any, render: Callable[[Any], Response]) -> None:
    """How the use case the view calls next renders its result as the key's answer (inside
    its transaction, so keep it to what the result already holds)."""
    request.once.render = lambda result: _answer(render(result))


def _answer(response: Response) -> Answer:
    # The exact bytes are kept (not parsed JSON, whose key order the database may change), so
    # a replay is byte-for-byte the first answer.
    return Answer(response.status_code, JSONRenderer().render(response.data))


def _refusal(error: DomainError) -> Answer:
    return _answer(Response(error.as_dict(), status=error.status))


def _unrendered(result: Any) -> Answer:
    raise AssertionError("An idempotent view must say how to answer (answer_with).")


def _json_response(answer: Answer, *, replayed: bool) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status, content_type="application/json")
    if replayed:
        response[REPLAYED_HEADER] = "true"
    return response


def idempotent(handler: Callable[..., Any]) -> Any:
    """Wrap a view method that moves value: the first answer to a key is replayed; otherwise
    the view runs, names its answer (`answer_with`) and calls one use case that answers for
    the key (see the module docstring)."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        key = read_key(request)
        data = request.data  # malformed bodies are refused here, before anything is read
        once = Once(
            scope=caller(request).idempotency_scope,
            key=key,
            fingerprint=fingerprint(request.method, request.path, data),
            render=_unrendered,
            refusal=_refusal,
        )
        # The stored answer comes first, whatever the state of things now.
        if (first := idempotency.first_answer(once)) is not None:
            return _json_response(first, replayed=True)
        once.looked_up = True
        request.once = once
        try:
            with idempotency.answering(once):
                handler(view, request, *args, **kwargs)
        except idempotency.AnsweredBefore as before:
            assert before.answer is not None
            return _json_response(before.answer, replayed=True)
        except DomainError:
            if once.answer is None:  # not stored (malformed input, come back later)
                raise
            return _json_response(once.answer, replayed=once.replayed)
        if once.answer is None:
            raise AssertionError("An idempotent view must call a use case that answers.")
        fault_point("after_commit_before_response")
        return _json_response(once.answer, replayed=once.replayed)

    wrapper.idempotent = True  # type: ignore[attr-defined]
    return wrapper
