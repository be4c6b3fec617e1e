from django.utils.translation import gettext_lazy as _

from tuition.core.errors import ConflictError, UnprocessableError


class InsufficientBalanceError(UnprocessableError):
    code = "insufficient_balance"
    message = _("The balance available for this code does not cover the price.")


class AlreadyReversedError(ConflictError):
    code = "already_reversed"
    message = _("This transaction has already been reversed.")


class HoldNotPendingError(ConflictError):
    code = "hold_not_pending"
    message = _("This request has already been decided or has expired.")
