"""One error envelope for every API failure (SPEC §4), the framework's own included."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from tuition.api.parsers import PayloadTooLarge
from tuition.core.errors import DomainError, ServiceBusyError, TooManyAttemptsError

FRAMEWORK_CODES_BY_CLASS = {
    exceptions.ParseError: "validation_error",
    exceptions.ValidationError: "validation_error",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "too_many_attempts",
    PayloadTooLarge: "payload_too_large",
}

FRAMEWORK_CODES = sorted(set(FRAMEWORK_CODES_BY_CLASS.values()))

# Every `error.code` the API answers with: SPEC §4 (each DomainError subclass's code) and the
# framework's own refusals. Published as ErrorCodeEnum; a test keeps it equal to the code.
ERROR_CODES = [
    "already_cancelled",
    "already_registered",
    "already_reversed",
    "code_expired",
    "code_inactive",
    "code_not_found",
    "export_not_ready",
    "hold_not_pending",
    "idempotency_key_in_progress",
    "idempotency_key_reused",
    "insufficient_balance",
    "method_not_allowed",
    "not_acceptable",
    "not_authenticated",
    "not_cancellable",
    "not_eligible",
    "not_found",
    "not_in_scope",
    "not_priced_in_unit",
    "one_code_only",
    "payload_too_large",
    "payment_declined",
    "permission_denied",
    "refund_not_allowed",
    "scope_kind_immutable",
    "server_error",
    "service_unavailable",
    "session_full",
    "session_required",
    "session_started",
    "too_many_attempts",
    "unsupported_media_type",
    "validation_error",
]


def envelope(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        response = Response(exc.as_dict(), status=exc.status)
        if isinstance(exc, (TooManyAttemptsError, ServiceBusyError)):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    code = next((c for cls, c in FRAMEWORK_CODES_BY_CLASS.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        message = "The input is not valid."
        details = {"fields": exc.detail} if isinstance(exc.detail, dict) else {"errors": exc.detail}
    else:
        message = str(exc.detail)
        details = {}
    response = Response(envelope(code, message, details), status=exc.status_code)
    if isinstance(exc, exceptions.Throttled) and exc.wait:
        response["Retry-After"] = str(int(exc.wait) + 1)
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        response["WWW-Authenticate"] = auth_header
    return response
