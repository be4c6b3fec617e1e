"""Request ids and structured logs, shared by the web processes and the worker.

Every log record carries `request_id`: the id of the web request being served, or, in the
worker, of the request that enqueued the task being run (see tuition.ops.apps). Logs are JSON
lines (`LOG_FORMAT=json`, the production default) with a fixed set of fields; nothing here
ever logs a body, a query string or a header, which is where codes, keys and passwords travel.
"""

import contextvars
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from pythonjsonlogger.json import JsonFormatter

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "tuition_request_id", default=None
)

# What an upstream proxy may hand us as a request id (nginx's $request_id is 32 hex digits).
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def valid_request_id(value: str | None) -> bool:
    return bool(value) and bool(_VALID_ID.match(value or ""))


def current_request_id() -> str | None:
    return _request_id.get()


@contextmanager
def bound_request_id(request_id: str | None) -> Iterator[None]:
    """Tag every log line (and every task enqueued) inside the block with this request id."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def bind_request_id(request_id: str | None) -> contextvars.Token:
    return _request_id.set(request_id)


def unbind_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def note_outcome(request: object, code: str) -> None:
    """A page that answers a refusal with a re-rendered form tells the request log and the
    metrics its SPEC §4 code (API refusals carry it in the JSON body already)."""
    request.tuition_error_code = code  # type: ignore[attr-defined]


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (None outside a request or a request's task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, plus extras."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s")
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("timestamp", False)
        super().__init__(*args, **kwargs)

    def formatTime(self, record, datefmt=None):  # type: ignore[no-untyped-def]
        from datetime import UTC, datetime

        return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")


def logging_config(*, level: str, fmt: str) -> dict:
    """The LOGGING setting: JSON lines (production) or plain text (development), to stderr."""
    formatter = (
        {"()": "tuition.core.observability.JsonLogFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "tuition.core.observability.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Each request is logged once by tuition.request, with its outcome; Django's own
            # "Not Found: /path" lines for every 4xx would only repeat it.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "ERROR"},
        },
    }
