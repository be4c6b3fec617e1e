"""Reads about accounts and who may do what with them."""

from django.db.models import QuerySet

from .models import Membership, TrainingAccount, User


def accounts_owned_by(user: User) -> QuerySet[TrainingAccount]:
    return TrainingAccount.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.OWNER
    ).distinct()


def accounts_of(user: User) -> QuerySet[TrainingAccount]:
    return TrainingAccount.objects.filter(memberships__user=user).distinct()


def membership_of(user: User | None, account_id: int) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, account_id=account_id).first()


def is_member(user: User | None, account_id: int) -> bool:
    return membership_of(user, account_id) is not None


def can_view_balance(user: User | None, account_id: int) -> bool:
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    membership = membership_of(user, account_id)
    return membership is not None and (membership.is_owner or membership.can_view_balance)
