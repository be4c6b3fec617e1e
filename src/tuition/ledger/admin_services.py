"""Staff edits of token types that the admin needs and no other interface makes."""

from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.transactions import use_case

from .models import Unit


@use_case
def update_token_type(*, unit_id: int, actor: str, name: str | None = None,
                      expiry_days: object = ...,
                      is_active: bool | None = None) -> Unit:
    """Rename a token type, change its default expiry for refills and API issues, or retire it.
    Its code and decimals never change: existing amounts are stored in its minor unit.

    Raises:
        NotFoundError: no such token type, or it is the built-in USD.
        ValidationError: an empty name, an expiry outside 1-36500 days.
    """
    unit = Unit.objects.select_for_update().filter(pk=unit_id, is_builtin=False).first()
    if unit is None:
        raise NotFoundError("No such token type.")
    fields = []
    if name is not None:
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationError("name must be 1 to 100 characters.", details={"field": "name"})
        if name != unit.name:
            unit.name, fields = name, [*fields, "name"]
    if expiry_days is not ...:
        if expiry_days is not None and not (isinstance(expiry_days, int)
                                            and 1 <= expiry_days <= 36500):
            raise ValidationError("expiry_days must be between 1 and 36500.",
                                  details={"field": "expiry_days"})
        if expiry_days != unit.expiry_days:
            unit.expiry_days, fields = expiry_days, [*fields, "expiry_days"]  # type: ignore[assignment]
    if is_active is not None and is_active != unit.is_active:
        unit.is_active, fields = is_active, [*fields, "is_active"]
    if fields:
        unit._change_reason = f"edited by {actor}"  # type: ignore[attr-defined]
        unit.save(update_fields=fields)
    return unit
