"""Refusals of checkout and after-checkout changes (SPEC §4)."""

from tuition.catalog.errors import SessionFullError, SessionRequiredError, SessionStartedError
from tuition.core.errors import ConflictError, UnprocessableError
from tuition.ledger.errors import AlreadyReversedError, InsufficientBalanceError

__all__ = [
    "AlreadyCancelledError",
    "AlreadyRegisteredError",
    "AlreadyReversedError",
    "InsufficientBalanceError",
    "PaymentDeclinedError",
    "RefundNotAllowedError",
    "SessionFullError",
    "SessionRequiredError",
    "SessionStartedError",
]


class AlreadyRegisteredError(ConflictError):
    code = "already_registered"
    message = "You are already registered for this item."


class RefundNotAllowedError(ConflictError):
    code = "refund_not_allowed"
    message = "This registration can no longer be refunded."


class PaymentDeclinedError(UnprocessableError):
    code = "payment_declined"
    message = "The card payment was declined."


class NotCancellableError(ConflictError):
    code = "not_cancellable"
    message = "This registration cannot be cancelled by the learner; please contact us."


class AlreadyCancelledError(ConflictError):
    code = "already_cancelled"
    message = "This registration is already cancelled."
