"""Failed code look-ups, limited per learner and per client IP address (SPEC rule 27).

Only a failed look-up counts: no such code, an inactive or deleted one, an expired one. A
refusal of a valid code (balance, scope, unit, eligibility, seats) is not a guess. Limits
(settings.TUITION["CODE_ATTEMPT_LIMITS"] overrides them): within a 15-minute window, 10
failures per learner and 30 per IP address lock that key out for 15 minutes. While locked out
every code entry of that learner or IP is refused with `too_many_attempts` and a retry time,
even a valid code, and nothing is written. Nothing is counted per account, so one person's
failures never lock anyone else out of the account's codes.

Counters live in the database (one row per key) and change only by single conditional UPDATE
statements (and an INSERT ... ON CONFLICT DO NOTHING for a first failure), so concurrent
failures are all counted, on every web process. A code entry first reads whether its keys are
locked out (`ensure_not_locked`); a successful entry writes nothing. A failed look-up is
counted after it failed (`count_failure`): the conditional UPDATE takes one of the key's
remaining attempts, so of fifty parallel wrong guesses exactly the limit answer with their
refusal and the rest with `too_many_attempts`. See docs/decisions/0006-attempt-limits.md.
"""

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat

from tuition.core import clock
from tuition.core.errors import TooManyAttemptsError

from .models import AttemptCounter

DEFAULT_LIMITS = {
    "window_seconds": 15 * 60,
    "lockout_seconds": 15 * 60,
    AttemptCounter.Scope.LEARNER: 10,
    AttemptCounter.Scope.IP: 30,
}

Key = tuple[str, str]


def limits() -> dict:
    return {**DEFAULT_LIMITS, **settings.TUITION.get("CODE_ATTEMPT_LIMITS", {})}


def keys_for(
    *, learner_id: int | None = None, ip: str | None = None, api_key: str | None = None
) -> list[Key]:
    """The counters one code entry counts against. Through an API key the learner is counted
    per key (`<key prefix>:<learner>`) and the IP not at all: the integrating system's server
    speaks for all its learners."""
    keys: list[Key] = []
    if learner_id is not None:
        learner_key = str(learner_id) if api_key is None else f"{api_key}:{learner_id}"
        keys.append((AttemptCounter.Scope.LEARNER, learner_key))
    if ip and api_key is None:
        keys.append((AttemptCounter.Scope.IP, ip[:128]))
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


def lockout_of_learner(*, at: datetime, ip: str | None = None, api_key: str | None = None) -> Any:
    """An expression for a query of learners: until when the learner's counter (as
    `keys_for` names it) or the IP's is locked out, or null. Lets the read of the learner
    tell the lockout too, so a code entry's check costs no read of its own."""
    learner_id = Cast(OuterRef("pk"), output_field=CharField())
    learner_key = learner_id if api_key is None else Concat(Value(api_key), Value(":"), learner_id)
    match = Q(scope=AttemptCounter.Scope.LEARNER, key=learner_key)
    if ip and api_key is None:
        match |= Q(scope=AttemptCounter.Scope.IP, key=ip[:128])
    return Subquery(
        AttemptCounter.objects.filter(match, locked_until__gt=at)
        .order_by("-locked_until")
        .values("locked_until")[:1]
    )


def refuse_if_locked(until: datetime | None, *, at: datetime) -> None:
    """Raises:
    TooManyAttemptsError: `until` (from `lockout_of_learner`) is still ahead."""
    if until is not None and until > at:
        raise TooManyAttemptsError(retry_after=max(1, math.ceil((until - at).total_seconds())))


def _take_attempt(keys: Iterable[Key], *, at: datetime | None = None) -> None:
    """Take one of each key's remaining attempts, all or none, with conditional UPDATEs, so
    fifty simultaneous failures cannot all see "nine failures so far".

    Raises:
        TooManyAttemptsError: a key is locked out, or has no attempt left in its window.
    """
    keys = list(keys)
    if not keys:
        return
    at = at or clock.now()
    config = limits()
    window_start = at - timedelta(seconds=config["window_seconds"])
    unlocked = Q(locked_until__isnull=True) | Q(locked_until__lte=at)
    refused = False
    with transaction.atomic():
        for scope, key in keys:
            AttemptCounter.objects.bulk_create(
                [AttemptCounter(scope=scope, key=key, failures=0, window_started_at=at)],
                ignore_conflicts=True,
            )
            counter = AttemptCounter.objects.filter(unlocked, scope=scope, key=key)
            counter.filter(window_started_at__lte=window_start).update(
                failures=0, window_started_at=at
            )
            if not counter.filter(failures__lt=config[scope]).update(failures=F("failures") + 1):
                refused = True
                break
        if refused:
            transaction.set_rollback(True)  # give back what this entry took from other keys
    if refused:
        ensure_not_locked(keys, at=at)
        # Not locked yet: the last attempts are still being checked. Ask to come back shortly.
        raise TooManyAttemptsError(retry_after=5)


def count_failure(keys: Iterable[Key], *, at: datetime | None = None) -> None:
    """Count one failed look-up against each key, locking out those that reach their limit.
    Runs in short transactions of its own (the checkout that failed has rolled back).

    Raises:
        TooManyAttemptsError: a key was already at its limit (a parallel guess past it).
    """
    _take_attempt(keys, at=at)
    _lock_out_at_limit(keys, at=at)


def _lock_out_at_limit(keys: Iterable[Key], *, at: datetime | None = None) -> None:
    """Lock out the keys whose failures reached their limit."""
    keys = list(keys)
    if not keys:
        return
    at = at or clock.now()
    config = limits()
    locked_until = at + timedelta(seconds=config["lockout_seconds"])
    with transaction.atomic():
        for scope, key in keys:
            AttemptCounter.objects.filter(
                Q(locked_until__isnull=True) | Q(locked_until__lte=at),
                scope=scope,
                key=key,
                failures__gte=config[scope],
            ).update(locked_until=locked_until, failures=0, window_started_at=at)
