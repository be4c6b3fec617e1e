"""The §4 error envelope for everything under /api/, including what Django answers before or
after the API views run: unknown paths (404), wrong methods (405), bodies that are too big
(413), crashes (500)."""

import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import envelope

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

_BY_STATUS = {
    400: ("validation_error", "The request is not valid."),
    401: ("not_authenticated", "Authentication is required."),
    403: ("permission_denied", "You do not have permission to do this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    406: ("not_acceptable", "The requested response format is not available."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the body as application/json."),
    500: ("server_error", "Something went wrong on our side."),
}

STATUS_CODES = sorted({code for code, _ in _BY_STATUS.values()})


def error_response(status: int) -> JsonResponse:
    code, message = _BY_STATUS.get(status, ("error", "The request could not be completed."))
    return JsonResponse(envelope(code, message), status=status)


def too_large(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and length > limit


class ApiErrorEnvelopeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if too_large(request):
            return error_response(413)
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_envelope(response):
            replacement = error_response(response.status_code)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response


def _is_envelope(response: HttpResponse) -> bool:
    if not response.get("Content-Type", "").startswith("application/json"):
        return False
    if getattr(response, "streaming", False):
        return True
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict)
