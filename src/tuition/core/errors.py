"""Domain errors: every refusal the product makes, with the code and HTTP status of SPEC §4.

Services raise these; the API renders them as {"error": {"code", "message", "details"}} and the
pages show the same message in the form.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "error"
    status = 400
    message = _("The request could not be completed.")

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = str(message or self.message)  # in the language active when raised
        self.details = details or {}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationError(DomainError):
    code = "validation_error"
    status = 400
    message = _("The input is not valid.")


class NotAuthenticatedError(DomainError):
    code = "not_authenticated"
    status = 401
    message = _("Authentication is required.")


class PermissionDeniedError(DomainError):
    code = "permission_denied"
    status = 403
    message = _("You do not have permission to do this.")


class NotFoundError(DomainError):
    code = "not_found"
    status = 404
    message = _("Not found.")


class ConflictError(DomainError):
    status = 409


class UnprocessableError(DomainError):
    status = 422


class ServiceBusyError(DomainError):
    """The database stayed busy through every retry; the caller may try again shortly."""

    code = "service_unavailable"
    status = 503
    message = _("The service is busy. Please try again in a moment.")
    retry_after = 1


class TooManyAttemptsError(DomainError):
    code = "too_many_attempts"
    status = 429
    message = _("Too many failed attempts. Please wait before trying again.")

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs: Any):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)
        self.details = {**self.details, "retry_after": retry_after}


class ScopeKindImmutableError(ConflictError):
    code = "scope_kind_immutable"
    message = _("The scope kind of a credit cannot change after it is created.")


class IdempotencyKeyReusedError(UnprocessableError):
    code = "idempotency_key_reused"
    message = _("This Idempotency-Key was already used with a different request.")


class IdempotencyKeyInProgressError(ConflictError):
    code = "idempotency_key_in_progress"
    message = _("A request with this Idempotency-Key is still being processed.")
