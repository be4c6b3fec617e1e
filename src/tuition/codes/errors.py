"""Refusals about codes and coupons (SPEC §4)."""

from tuition.core.errors import ConflictError, UnprocessableError, ValidationError


class CodeNotFoundError(UnprocessableError):
    code = "code_not_found"
    message = "This code does not exist."


class CodeInactiveError(UnprocessableError):
    code = "code_inactive"
    message = "This code is not active."


class CodeExpiredError(UnprocessableError):
    code = "code_expired"
    message = "This code has expired."


class NotInScopeError(UnprocessableError):
    code = "not_in_scope"
    message = "This code cannot be used for this item."


class NotPricedInUnitError(UnprocessableError):
    code = "not_priced_in_unit"
    message = "This item has no price in the unit of this code."


class NotEligibleError(UnprocessableError):
    code = "not_eligible"
    message = "You are not allowed to use this code."


class OneCodeOnlyError(UnprocessableError):
    code = "one_code_only"
    message = "Only one code can be used per checkout; credits and coupons cannot be combined."


class CodeTakenError(ValidationError):
    """A custom code that already exists as a credit code or a coupon (one code space)."""

    message = "This code is already in use."


class CodeRevealDeniedError(ConflictError):
    code = "permission_denied"
    status = 403
    message = "You may not see this code."
