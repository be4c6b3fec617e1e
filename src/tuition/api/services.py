"""Writes the API needs that no domain app offers yet."""

from tuition.core.errors import ValidationError
from tuition.core.transactions import use_case
from tuition.ledger.models import Unit


@use_case
def create_token_type(
    *, code: str, name: str, decimals: int = 0, expiry_days: int | None = 365, actor: str
) -> Unit:
    """Add a token type (a unit other than the built-in USD).

    Raises:
        ValidationError: a bad or taken code, an empty name, decimals outside 0-6.
    """
    code = (code or "").strip().upper()
    if not code or len(code) > 16 or not code.isascii() or not code.replace("_", "").isalnum():
        raise ValidationError("code must be 1 to 16 letters or digits.", details={"field": "code"})
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError("name must be 1 to 100 characters.", details={"field": "name"})
    if not 0 <= decimals <= 6:
        raise ValidationError("decimals must be between 0 and 6.", details={"field": "decimals"})
    if expiry_days is not None and not 1 <= expiry_days <= 36500:
        raise ValidationError("expiry_days must be between 1 and 36500.",
                              details={"field": "expiry_days"})
    if Unit.objects.filter(code__iexact=code).exists():
        raise ValidationError("A unit with this code exists.", details={"field": "code"})
    unit = Unit(code=code, name=name, decimals=decimals, expiry_days=expiry_days)
    unit._change_reason = f"created by {actor}"  # type: ignore[attr-defined]
    unit.save()
    return unit
