"""Row locks of checkout. Lock order everywhere: the ledger wallet first (ledger.locks), then
the registration, then sessions in primary-key order, then the coupon row, then document
counters. On SQLite the
IMMEDIATE transaction already serializes writers; the guarded updates hold either way."""

from collections.abc import Iterable

from tuition.catalog.models import Session

from .models import Registration


def lock_sessions(session_ids: Iterable[int]) -> dict[int, Session]:
    ids = sorted(set(session_ids))
    return {s.pk: s for s in Session.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def lock_registration(registration_id: int) -> Registration | None:
    # Only the registration's row is locked; its order comes along read-only (and may be
    # missing, for one activity of a group, which PostgreSQL cannot lock through an outer join).
    return (
        Registration.objects.select_for_update(of=("self",))
        .filter(pk=registration_id)
        .select_related("order")
        .first()
    )
