"""Failed code entries, limited per learner, per IP address and per account (SPEC rule 27).

Limits (settings.TUITION["CODE_ATTEMPT_LIMITS"] overrides them): within a 15-minute window, 10
failures per learner, 30 per IP address, 50 per account (failures on one account's codes, e.g.
probing its balance) lock that key out for 15 minutes. While locked out every code entry is
refused with `too_many_attempts` and a retry time, even a valid code, and nothing is written.

Counters live in the database (one row per key) and change only by single conditional UPDATE
statements (and an INSERT ... ON CONFLICT DO NOTHING for a first failure), so concurrent
failures are all counted, on every web process. See docs/decisions/0006-attempt-limits.md.
"""

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When

from tuition.core import clock
from tuition.core.errors import TooManyAttemptsError

from .models import AttemptCounter

DEFAULT_LIMITS = {
    "window_seconds": 15 * 60,
    "lockout_seconds": 15 * 60,
    AttemptCounter.Scope.LEARNER: 10,
    AttemptCounter.Scope.IP: 30,
    AttemptCounter.Scope.ACCOUNT: 50,
}

Key = tuple[str, str]


def limits() -> dict:
    return {**DEFAULT_LIMITS, **settings.TUITION.get("CODE_ATTEMPT_LIMITS", {})}


def keys_for(*, learner_id: int | None = None, ip: str | None = None,
             account_id: int | None = None) -> list[Key]:
    keys: list[Key] = []
    if learner_id is not None:
        keys.append((AttemptCounter.Scope.LEARNER, str(learner_id)))
    if ip:
        keys.append((AttemptCounter.Scope.IP, ip[:128]))
    if account_id is not None:
        keys.append((AttemptCounter.Scope.ACCOUNT, str(account_id)))
    return keys


def ensure_not_locked(keys: Iterable[Key], *, at: datetime | None = None) -> None:
    """Raises:
    TooManyAttemptsError: one of the keys is locked out (retry_after in seconds)."""
    keys = list(keys)
    if not keys:
        return
    at = at or clock.now()
    match = Q()
    for scope, key in keys:
        match |= Q(scope=scope, key=key)
    until = (
        AttemptCounter.objects.filter(match, locked_until__gt=at)
        .order_by("-locked_until")
        .values_list("locked_until", flat=True)
        .first()
    )
    if until is not None:
        raise TooManyAttemptsError(retry_after=max(1, math.ceil((until - at).total_seconds())))


def record_failure(keys: Iterable[Key], *, at: datetime | None = None) -> None:
    """Count one failed code entry against each key, locking out those past their limit.

    Runs in its own transaction when called outside one, so the count survives the rollback
    of the checkout that failed.
    """
    keys = list(keys)
    if not keys:
        return
    at = at or clock.now()
    config = limits()
    window_start = at - timedelta(seconds=config["window_seconds"])
    locked_until = at + timedelta(seconds=config["lockout_seconds"])
    with transaction.atomic():
        for scope, key in keys:
            AttemptCounter.objects.bulk_create(
                [AttemptCounter(scope=scope, key=key, failures=0, window_started_at=at)],
                ignore_conflicts=True,
            )
            stale = Q(window_started_at__lte=window_start)
            AttemptCounter.objects.filter(scope=scope, key=key).update(
                failures=Case(When(stale, then=Value(1)), default=F("failures") + 1),
                window_started_at=Case(When(stale, then=Value(at)),
                                       default=F("window_started_at")),
            )
            AttemptCounter.objects.filter(
                Q(locked_until__isnull=True) | Q(locked_until__lte=at),
                scope=scope, key=key, failures__gte=config[scope],
            ).update(locked_until=locked_until, failures=0, window_started_at=at)


def clear(keys: Iterable[Key]) -> None:
    """Forget the failures of these keys (staff unlocking a learner)."""
    match = Q(pk__in=[])
    for scope, key in keys:
        match |= Q(scope=scope, key=key)
    AttemptCounter.objects.filter(match).delete()
