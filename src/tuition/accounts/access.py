"""Who may see or manage a training account: the one place that answers it.

An account is managed by its owners; the provider (staff, or an API key) manages every
account. Members who were given "may view the balance" may also see its balance. Anything
else looks exactly like an account that does not exist (SPEC rule 26).
"""

from typing import Any, Protocol

from django.db.models import Q, QuerySet

from tuition.core.errors import NotFoundError

from .models import Membership, TrainingAccount


class Asker(Protocol):
    """Who asks: a person (`user`), or the provider acting (`is_provider`)."""

    @property
    def user(self) -> Any: ...

    @property
    def is_provider(self) -> bool: ...


def _id(account_id: Any) -> int | None:
    if isinstance(account_id, bool):
        return None
    if isinstance(account_id, int):
        number = account_id
    elif (
        isinstance(account_id, str)
        and account_id.isascii()
        and account_id.isdigit()
        and len(account_id) <= 18
    ):
        number = int(account_id)
    else:
        return None
    return number if 0 < number < 2**63 else None


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def owned_by(user: Any) -> QuerySet[TrainingAccount]:
    """The accounts this person owns (staff included: their own, not everyone's)."""
    if not _signed_in(user):
        return TrainingAccount.objects.none()
    return TrainingAccount.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.OWNER
    ).distinct()


def is_owner(user: Any, account_id: Any) -> bool:
    pk = _id(account_id)
    return pk is not None and owned_by(user).filter(pk=pk).exists()


def manageable_by(user: Any, *, balance: bool = False) -> QuerySet[TrainingAccount]:
    """Accounts this person may manage: every one for staff, else the ones they own; with
    `balance=True` also those whose balance they were allowed to see."""
    if not _signed_in(user):
        return TrainingAccount.objects.none()
    if user.is_staff:
        return TrainingAccount.objects.all()
    allowed = Q(memberships__user=user, memberships__role=Membership.Role.OWNER)
    if balance:
        allowed |= Q(memberships__user=user, memberships__can_view_balance=True)
    return TrainingAccount.objects.filter(allowed).distinct()


def manageable_account(user: Any, account_id: Any) -> TrainingAccount | None:
    """The account if this person may manage it, else None (the caller answers 404)."""
    pk = _id(account_id)
    return manageable_by(user).filter(pk=pk).first() if pk is not None else None


def visible_accounts(who: Asker, *, balance: bool = False) -> QuerySet[TrainingAccount]:
    """What an API caller may see: everything for the provider, else as `manageable_by`."""
    if who.is_provider:
        return TrainingAccount.objects.all()
    return manageable_by(who.user, balance=balance)


def account_for(who: Asker, account_id: Any, *, balance: bool = False) -> TrainingAccount:
    """The account, if the caller may see it.

    Raises:
        NotFoundError: no such account, or one the caller may not see (the same answer).
    """
    pk = _id(account_id)
    account = (
        visible_accounts(who, balance=balance).filter(pk=pk).first() if pk is not None else None
    )
    if account is None:
        raise NotFoundError("No such account.")
    return account
