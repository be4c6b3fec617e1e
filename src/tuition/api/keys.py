"""Writes to API keys: made (shown once), revoked."""

from collections.abc import Iterable
from datetime import datetime

from tuition.core.actors import Actor
from tuition.core.audit import record_change
from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.transactions import use_case

from .models import SCOPES, ApiKey


@use_case
def create_api_key(
    *, name: str, scopes: Iterable[str], actor: Actor, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Make a key; returns the record and the plaintext key, which is never stored.

    Raises:
        ValidationError: an empty or too long name, no scope, an unknown scope.
    """
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise ValidationError("name must be 1 to 50 characters.", details={"field": "name"})
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        raise ValidationError(
            f"scopes must be some of: {', '.join(SCOPES)}.", details={"field": "scopes"}
        )
    key, plaintext = ApiKey.objects.create_key(name=name, scopes=wanted, expiry_date=expires_at)
    # An API key is named by its prefix (its id also holds the key's hash).
    record_change(
        actor=actor, verb="created", obj=key, object_id=key.prefix, summary=", ".join(wanted)
    )
    return key, plaintext


@use_case
def revoke_api_key(*, prefix: str, actor: Actor) -> ApiKey:
    """Revoke a key for good. Revoking a revoked key changes nothing.

    Raises:
        NotFoundError: no key with this prefix.
    """
    key = ApiKey.objects.select_for_update().filter(prefix=prefix).first()
    if key is None:
        raise NotFoundError("No API key with this prefix.")
    if not key.revoked:
        key.revoked = True
        key.save(update_fields=["revoked"])
        record_change(actor=actor, verb="revoked", obj=key, object_id=key.prefix)
    return key
