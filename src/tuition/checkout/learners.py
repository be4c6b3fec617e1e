"""Learners as checkout knows them: identified by email, created on first use."""

from typing import Any

from django.db import IntegrityError, transaction

from tuition.accounts.models import User
from tuition.accounts.services import add_person, get_or_create_user, normalize_email


def learner_for(email: str, name: str = "", **reads: Any) -> User:
    """The learner with this email, created on first use; two first checkouts of one new
    learner at the same moment both get the same person. `reads`: annotations to read with a
    known learner in the same query (a new learner has none).

    Raises:
        ValidationError: not an email address.
    """
    email = normalize_email(email)
    known = next(iter(User.objects.filter(email=email).annotate(**reads)), None)
    if known is not None and (known.name or not name):
        return known  # the common case: one read, no transaction
    if known is None:
        try:
            with transaction.atomic():
                return add_person(email=email, name=name)  # no second read of the absent
        except IntegrityError:
            pass  # a simultaneous first checkout of the same learner added them
    return get_or_create_user(email=email, name=name)
