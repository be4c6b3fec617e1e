"""The audit trail: every change names its actor and interface.

Services call `record_change()` inside the transaction of the change they make. Records with a
change history (django-simple-history) need no call: each history row's reason carries the
actor reference ("edited by user:42@admin"), and `note_history_row` turns it into the history
row's `history_user` and one audit event, in the same save and so the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from . import clock
from .actors import Actor, actor_in_reason, reason_without_actor
from .audit_context import current_actor
from .models import AuditEvent
from .verbs import VERB_LABELS, verb_label  # noqa: F401 - the audit trail's readers use them

HISTORY_VERBS = {"+": "created", "~": "changed", "-": "deleted"}


def object_type_of(obj: models.Model | type[models.Model]) -> str:
    """The stable name of a record's type ("ledger.lot")."""
    return obj._meta.label_lower


def record_change(
    *,
    actor: Actor | str,
    verb: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    summary: str = "",
) -> AuditEvent:
    """Record one change made by `actor` (inside the transaction that makes it).

    Raises:
        Nothing of its own; a database error aborts the change it records, as it should.
    """
    ref = Actor.parse(actor)
    if obj is not None:
        object_type = object_type or object_type_of(obj)
        object_id = object_id or obj.pk
    return AuditEvent.objects.create(
        at=clock.now(),
        actor=str(actor or "")[:200],
        actor_kind=ref.kind if ref else _legacy_kind(str(actor or "")),
        actor_id=(ref.id if ref else str(actor or "").partition(":")[2])[:64],
        interface=ref.interface if ref else "",
        verb=verb[:64],
        object_type=object_type[:64],
        object_id=str(object_id or "")[:64],
        summary=summary[:300],
    )


def _legacy_kind(text: str) -> str:
    kind = text.partition(":")[0]
    if kind in ("user", "api-key"):
        return kind
    return "job" if text else ""


def note_history_row(sender: Any, *, instance: Any, history_instance: Any, **_: Any) -> None:
    """Before a history row is saved: name its person from the actor in its reason (or, when
    the reason names none, from the use case running now)."""
    reason = history_instance.history_change_reason or ""
    if not actor_in_reason(reason) and current_actor():
        verb = reason or HISTORY_VERBS.get(history_instance.history_type, "changed")
        history_instance.history_change_reason = f"{verb} by {current_actor()}"[:100]
    actor = Actor.parse(actor_in_reason(history_instance.history_change_reason))
    if actor is not None and actor.user_id is not None:
        history_instance.history_user_id = actor.user_id
    elif actor is not None:  # an API key or a job, never the request's signed-in user
        history_instance.history_user_id = None


def audit_history_row(sender: Any, *, instance: Any, history_instance: Any, **_: Any) -> None:
    """After a history row is saved: the same change in the audit trail."""
    reason = history_instance.history_change_reason or ""
    actor = actor_in_reason(reason) or ""
    verb = reason_without_actor(reason).partition(":")[0].strip()
    record_change(
        actor=actor,
        verb=verb or HISTORY_VERBS.get(history_instance.history_type, "changed"),
        object_type=object_type_of(instance),
        object_id=instance.pk,
        summary=_changed_fields(history_instance),
    )


def _changed_fields(history_instance: Any) -> str:
    """Which fields changed ("status, expires_at"): names only, never values."""
    if history_instance.history_type != "~":
        return ""
    previous = history_instance.prev_record
    if previous is None:
        return ""
    try:
        delta = history_instance.diff_against(previous)
    except Exception:  # a history row whose model changed shape since: names are a courtesy
        return ""
    return ", ".join(sorted(change.field for change in delta.changes))
