"""A lost database is an outage, not a bug: answer 503 with Retry-After, never a 500.

Services already turn connection failures inside a use case into `ServiceBusyError` (see
core.transactions). What remains is everything that touches the database outside a service
while the server is restarting or unreachable: API key and session look-ups, the idempotency
claim, selectors behind read endpoints, page views. Their `OperationalError` / `InterfaceError`
("connection refused", "server closed the connection unexpectedly", "terminating connection due
to administrator command") reaches this middleware, which answers like the service would:
the SPEC §4 envelope under /api/, a short page elsewhere. Django drops the broken connection
when the request finishes (`close_old_connections`), so the next request connects afresh.
See docs/decisions/0007-fault-points-and-outages.md.
"""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import ServiceBusyError

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Back in a moment</title></head>
<body><h1>Back in a moment</h1>
<p>{message}</p><p>Nothing was lost: please try again in a few seconds.</p></body></html>
"""


def outage_response(request: HttpRequest, error: ServiceBusyError | None = None) -> HttpResponse:
    """The 503 answer for this request: JSON envelope under /api/, a page elsewhere."""
    error = error or ServiceBusyError()
    response: HttpResponse
    if request.path.startswith(API_PREFIX):
        response = JsonResponse(error.as_dict(), status=error.status)
    else:
        response = HttpResponse(
            _PAGE.format(message=error.message),
            status=error.status,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(error.retry_after)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ServiceBusyError):
            # Pages do not all catch domain errors; a busy database is never a 500.
            return outage_response(request, exception)
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning(
            "Database unavailable during %s %s: %s", request.method, request.path, exception
        )
        return outage_response(request)
