"""One middleware per request: a request id, one structured log line with the actor and the
outcome, and the Prometheus request and checkout counters.

The log line has the method, the URL *route* (`api/v1/credits/<str:lot_id>`, never the query
string or the body, where codes, keys and passwords travel), the status, the SPEC §4 error code
of a refusal, the actor (`user:<id>` or `api-key:<prefix>`), the client IP and the duration.
"""

import json
import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tuition.core import metrics
from tuition.core.http import client_ip, peer_is_trusted_proxy
from tuition.core.observability import (
    bind_request_id,
    new_request_id,
    unbind_request_id,
    valid_request_id,
)

logger = logging.getLogger("tuition.request")

QUIET_ROUTES = {"health/live", "health/ready", "metrics"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Where a checkout happens: (URL name with namespace, method) -> interface label.
CHECKOUT_ROUTES = {"v1:checkout": "api", "portal:checkout": "page"}


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None else "unmatched"


def _actor(request: HttpRequest) -> str:
    key = getattr(request, "auth", None)  # DRF puts the API key there (tuition.api.base)
    if isinstance(getattr(key, "actor", None), str):
        return f"api-key:{key.prefix}"  # type: ignore[union-attr]
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return "anonymous"


def _error_code(request: HttpRequest, response: HttpResponse) -> str | None:
    noted = getattr(request, "tuition_error_code", None)
    if noted:
        return noted
    if response.status_code < 400 or getattr(response, "streaming", False):
        return None
    if not response.get("Content-Type", "").startswith("application/json"):
        return None
    try:
        error = json.loads(response.content).get("error")
    except (ValueError, AttributeError):
        return None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


class RequestObservabilityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID")
        request_id: str = (
            incoming
            if incoming and valid_request_id(incoming) and peer_is_trusted_proxy(request)
            else new_request_id()
        )
        request.request_id = request_id  # type: ignore[attr-defined]
        token = bind_request_id(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            self._record(request, response, time.perf_counter() - started)
            return response
        finally:
            unbind_request_id(token)

    def _record(self, request: HttpRequest, response: HttpResponse, seconds: float) -> None:
        route = _route(request)
        method = request.method or ""
        status = response.status_code
        metrics.REQUESTS.labels(method, route, str(status)).inc()
        metrics.LATENCY.labels(method, route).observe(seconds)
        code = _error_code(request, response)
        self._count_checkout(request, response, code)
        level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
        if status >= 500:
            level = logging.ERROR
        logger.log(
            level,
            "request",
            extra={
                "method": method,
                "route": route,
                "status": status,
                "outcome": "ok" if status < 400 else (code or "error"),
                "error_code": code,
                "actor": _actor(request),
                "client_ip": client_ip(request),
                "writes": method not in SAFE_METHODS,
                "replayed": response.get("Idempotent-Replayed") == "true",
                "duration_ms": round(seconds * 1000, 1),
            },
        )

    def _count_checkout(
        self, request: HttpRequest, response: HttpResponse, code: str | None
    ) -> None:
        match = getattr(request, "resolver_match", None)
        if match is None or request.method != "POST":
            return
        interface = CHECKOUT_ROUTES.get(match.view_name)
        if interface is None or response.get("Idempotent-Replayed") == "true":
            return
        if response.status_code < 400 and code is None:
            metrics.CHECKOUTS.labels(interface).inc()
        else:
            label = code or ("validation_error" if response.status_code == 400 else "error")
            metrics.REFUSALS.labels(interface, label).inc()
