from tuition.core.errors import ConflictError, UnprocessableError


class InsufficientBalanceError(UnprocessableError):
    code = "insufficient_balance"
    message = "The balance available for this code does not cover the price."


class AlreadyReversedError(ConflictError):
    code = "already_reversed"
    message = "This transaction has already been reversed."
