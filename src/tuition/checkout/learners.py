"""Learners as checkout knows them: identified by email, created on first use."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from tuition.accounts.models import User
from tuition.accounts.services import add_person, get_or_create_user, normalize_email
from tuition.codes.limiter import lockout_of_learner
from tuition.core import idempotency
from tuition.core.reused_queries import ReusedQuery


def learner_for(email: str, name: str = "") -> User:
    """The learner with this email, created on first use; two first checkouts of one new
    learner at the same moment both get the same person.

    Raises:
        ValidationError: not an email address.
    """
    return read_or_add_learner(email, name)[0]


def read_or_add_learner(
    email: str,
    name: str = "",
    *,
    code_entered_at: datetime | None = None,
    ip: str | None = None,
    api_key: str | None = None,
    unanswered_key: tuple[str, str] | None = None,
) -> tuple[User, bool]:
    """`learner_for`, and whether this call added the learner. A learner found by the read
    comes with more, from the same query: with `code_entered_at`, their lockout
    (`locked_until`, see codes.limiter.lockout_of_learner); with `unanswered_key` (an
    Idempotency-Key's scope and key), `idempotency_key_unanswered`.

    Raises:
        ValidationError: not an email address.
    """
    email = normalize_email(email)
    scope, key = unanswered_key or (None, None)
    known = next(
        iter(
            _LEARNER_BY_EMAIL.fetch(
                email=email,
                at=code_entered_at,
                # An entry through an API key is never counted per IP (codes.limiter).
                ip=(ip or "")[:128] or None if api_key is None else None,
                api_key=api_key,
                key_scope=scope,
                key=key,
            )
        ),
        None,
    )
    if known is not None and (known.name or not name):
        return known, False  # the common case: one read, no transaction
    if known is None:
        try:
            with transaction.atomic():
                return add_person(email=email, name=name), True  # no second read of the absent
        except IntegrityError:
            pass  # a simultaneous first checkout of the same learner added them
    return get_or_create_user(email=email, name=name), False


def _learner_by_email(
    *,
    email: str,
    at: datetime | None,
    ip: str | None,
    api_key: str | None,
    key_scope: str | None,
    key: str | None,
) -> QuerySet[User]:
    learners = User.objects.filter(email=email)
    if at is not None:
        learners = learners.annotate(locked_until=lockout_of_learner(at=at, ip=ip, api_key=api_key))
    if key_scope is not None and key is not None:
        learners = learners.annotate(
            idempotency_key_unanswered=idempotency.unanswered(scope=key_scope, key=key)
        )
    return learners


# Every checkout and quote reads its learner this way: compiled once.
_LEARNER_BY_EMAIL = ReusedQuery(
    _learner_by_email, values=("email", "at", "ip", "api_key", "key_scope", "key")
)
