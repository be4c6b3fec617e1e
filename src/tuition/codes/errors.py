"""Refusals about codes and coupons (SPEC §4)."""

from django.utils.translation import gettext_lazy as _

from tuition.core.errors import ConflictError, UnprocessableError, ValidationError


class CodeNotFoundError(UnprocessableError):
    code = "code_not_found"
    message = _("This code does not exist.")


class CodeInactiveError(UnprocessableError):
    code = "code_inactive"
    message = _("This code is not active.")


class CodeExpiredError(UnprocessableError):
    code = "code_expired"
    message = _("This code has expired.")


class NotInScopeError(UnprocessableError):
    code = "not_in_scope"
    message = _("This code cannot be used for this item.")


class NotPricedInUnitError(UnprocessableError):
    code = "not_priced_in_unit"
    message = _("This item has no price in the unit of this code.")


class NotEligibleError(UnprocessableError):
    code = "not_eligible"
    message = _("You are not allowed to use this code.")


class OneCodeOnlyError(UnprocessableError):
    code = "one_code_only"
    message = _("Only one code can be used per checkout; credits and coupons cannot be combined.")


class CodeTakenError(ValidationError):
    """A custom code that already exists as a credit code or a coupon (one code space)."""

    message = _("This code is already in use.")


class CodeRevealDeniedError(ConflictError):
    code = "permission_denied"
    status = 403
    message = _("You may not see this code.")
