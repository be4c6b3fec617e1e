"""Staff edits of training accounts that only the admin makes."""

from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.transactions import use_case

from .models import TrainingAccount

_UNSET: object = object()


@use_case
def update_account(*, account_id: int, actor: str, name: str | None = None,
                   external_id: object = _UNSET,
                   redeemer_policy: str | None = None) -> TrainingAccount:
    """Rename an account, change its external ID or its redeemer policy; kept in its history.

    Raises:
        NotFoundError: no such account.
        ValidationError: an empty name, an unknown policy, an external ID another account has.
    """
    account = TrainingAccount.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        raise NotFoundError("No such account.")
    fields = []
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200:
            raise ValidationError("name must be 1 to 200 characters.", details={"field": "name"})
        if name != account.name:
            account.name, fields = name, [*fields, "name"]
    if external_id is not _UNSET:
        value = (external_id or "").strip() or None  # type: ignore[union-attr]
        if value and TrainingAccount.objects.filter(external_id=value).exclude(
                pk=account.pk).exists():
            raise ValidationError("external_id is already used by another account.",
                                  details={"field": "external_id"})
        if value != account.external_id:
            account.external_id, fields = value, [*fields, "external_id"]
    if redeemer_policy is not None and redeemer_policy != account.redeemer_policy:
        if redeemer_policy not in TrainingAccount.RedeemerPolicy.values:
            raise ValidationError("redeemers must be 'anyone' or 'members'.",
                                  details={"field": "redeemer_policy"})
        account.redeemer_policy, fields = redeemer_policy, [*fields, "redeemer_policy"]
    if fields:
        account._change_reason = f"edited by {actor}"  # type: ignore[attr-defined]
        account.save(update_fields=fields)
    return account
