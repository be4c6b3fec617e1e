"""Which language a person reads: the one chosen on their profile, else their browser's (Django's
LocaleMiddleware, which runs first), else English. Emails and documents sent without a request
use `language_of(user)`, and times in a person's own notifications use `zone_of(user)`."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


def supported(code: str | None) -> str | None:
    """The shipped language for a code ("de-AT" -> "de"), or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def language_of(user: Any) -> str:
    """A person's language for what reaches them outside a request (emails, documents)."""
    return supported(getattr(user, "language", "")) or settings.LANGUAGE_CODE


def zone_of(user: Any) -> str:
    """A person's own time zone name for their notifications; the provider's when unset."""
    return getattr(user, "timezone", "") or settings.TIME_ZONE


class PersonLanguageMiddleware:
    """After authentication: a signed-in person's chosen language wins over the browser's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        chosen = supported(getattr(user, "language", "")) if user is not None else None
        if chosen and user.is_authenticated:  # type: ignore[union-attr]
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
