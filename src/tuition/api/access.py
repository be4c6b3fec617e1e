"""Who is calling, and what they may see (SPEC rule 26).

API keys act for the provider and see everything their scopes allow. Staff users see
everything. Other signed-in people see only their own accounts (as owners, or the balance as
members where allowed) and their own registrations. Asking for anything else answers exactly
like asking for something that does not exist.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from rest_framework.permissions import BasePermission

from tuition.core.actors import API, Actor
from tuition.core.errors import NotFoundError, PermissionDeniedError

from .models import ApiKey

if TYPE_CHECKING:  # the person behind a session; API keys speak for the provider
    from tuition.accounts.models import User

READ_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Caller:
    user: "User | None"
    api_key: ApiKey | None

    @property
    def is_provider(self) -> bool:
        return self.api_key is not None or bool(self.user and self.user.is_staff)

    @property
    def actor(self) -> Actor:
        if self.api_key is not None:
            return self.api_key.actor
        assert self.user is not None
        return Actor.for_user(self.user, via=API)

    @property
    def idempotency_scope(self) -> str:
        if self.api_key is not None:
            return f"key:{self.api_key.pk}"[:120]
        assert self.user is not None
        return f"user:{self.user.pk}"


def caller(request: Any) -> Caller:
    if isinstance(request.auth, ApiKey):
        return Caller(user=None, api_key=request.auth)
    return Caller(user=request.user, api_key=None)


class ScopePermission(BasePermission):
    """Checks the view's `scopes` ({"GET": "credits:read", "POST": "credits:write"}) for API
    keys, and `provider_only` methods ({"POST"}) for people: only staff may use those."""

    message = "You do not have permission to do this."

    def has_permission(self, request, view):  # type: ignore[no-untyped-def]
        if not (request.user and request.user.is_authenticated):
            return False
        method = "GET" if request.method in READ_METHODS else request.method
        who = caller(request)
        if who.api_key is not None:
            scope = getattr(view, "scopes", {}).get(method)
            if scope is not None and not who.api_key.allows(scope):
                raise PermissionDeniedError(
                    f"This API key lacks the '{scope}' scope.", details={"scope": scope}
                )
            return True
        provider_only = getattr(view, "provider_only", ())
        if (provider_only == "*" or method in provider_only) and not who.is_provider:
            raise PermissionDeniedError()
        return True


def parse_id(value: Any) -> int | None:
    """Ids are opaque strings outside; inside they are positive integers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        number = int(value)
    else:
        return None
    return number if 0 < number < 2**63 else None


def visible_object(queryset: QuerySet[Any], object_id: Any, *, what: str = "object") -> Any:
    """One row of an already caller-filtered queryset, or `not_found`.

    Raises:
        NotFoundError: no such row for this caller.
    """
    pk = parse_id(object_id)
    found = queryset.filter(pk=pk).first() if pk else None
    if found is None:
        raise NotFoundError(f"No such {what}.")
    return found
