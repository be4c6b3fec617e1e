"""Refusals of checkout and after-checkout changes (SPEC §4)."""

from django.utils.translation import gettext_lazy as _

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
    message = _("You are already registered for this item.")


class RefundNotAllowedError(ConflictError):
    code = "refund_not_allowed"
    message = _("This registration can no longer be refunded.")


class PaymentDeclinedError(UnprocessableError):
    code = "payment_declined"
    message = _("The card payment was declined.")


class NotCancellableError(ConflictError):
    code = "not_cancellable"
    message = _("This registration cannot be cancelled by the learner; please contact us.")


class AlreadyCancelledError(ConflictError):
    code = "already_cancelled"
    message = _("This registration is already cancelled.")
