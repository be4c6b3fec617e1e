"""Learners as checkout knows them: identified by email, created on first use."""

from django.db import IntegrityError, transaction

from tuition.accounts.models import User
from tuition.accounts.services import get_or_create_user, normalize_email


def learner_for(email: str, name: str = "") -> User:
    """The learner with this email, created on first use; two first checkouts of one new
    learner at the same moment both get the same person.

    Raises:
        ValidationError: not an email address.
    """
    known = User.objects.filter(email=normalize_email(email)).first()
    if known is not None and (known.name or not name):
        return known  # the common case: one read, no transaction
    try:
        with transaction.atomic():
            return get_or_create_user(email=email, name=name)
    except IntegrityError:
        return get_or_create_user(email=email, name=name)
