"""Writes to accounts, members and learners."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from tuition.core.actors import Actor
from tuition.core.audit import record_change
from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.transactions import use_case
from tuition.notifications import events, personal

from .models import Membership, TrainingAccount, User


def normalize_email(email: object) -> str:
    """Raises:
    ValidationError: not an email address."""
    if not isinstance(email, str):
        raise ValidationError("email must be an email address.", details={"field": "email"})
    cleaned = email.strip().lower()
    try:
        validate_email(cleaned)
    except DjangoValidationError as exc:
        raise ValidationError(
            "email must be an email address.", details={"field": "email"}
        ) from exc
    return cleaned


def get_or_create_user(*, email: str, name: str = "") -> User:
    """The person with this email, created (without a usable password) on first use.

    Raises:
        ValidationError: not an email address.
    """
    email = normalize_email(email)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = add_person(email=email, name=name)
    elif name and not user.name:
        user.name = name[:200]
        user.save(update_fields=["name"])
    return user


def add_person(*, email: str, name: str = "") -> User:
    """A new person with this (normalized) email and no usable password; the caller's
    transaction rolls back on IntegrityError when the email is taken."""
    return User.objects.create_user(email=email, password=None, name=name[:200])


@use_case
def create_account(
    *,
    name: str,
    owners: Iterable[str] = (),
    external_id: str | None = None,
    redeemer_policy: str = TrainingAccount.RedeemerPolicy.ANYONE,
    is_personal: bool = False,
    actor: Actor,
) -> TrainingAccount:
    """Create a training account with its owners (by email).

    Raises:
        ValidationError: an empty name, an unknown policy, a bad email, a taken external ID.
    """
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError("name must be 1 to 200 characters.", details={"field": "name"})
    if redeemer_policy not in TrainingAccount.RedeemerPolicy.values:
        raise ValidationError(
            "redeemers must be 'anyone' or 'members'.", details={"field": "redeemers"}
        )
    if external_id and TrainingAccount.objects.filter(external_id=external_id).exists():
        raise ValidationError(
            _("This external ID is already used by another account."),
            details={"field": "external_id"},
        )
    owner_emails = [normalize_email(email) for email in owners]  # all checked before any write
    account = TrainingAccount.objects.create(
        name=name,
        external_id=external_id or None,
        redeemer_policy=redeemer_policy,
        is_personal=is_personal,
    )
    for email in owner_emails:
        add_member.joining(
            account=account,
            email=email,
            role=Membership.Role.OWNER,
            can_view_balance=True,
            notify=True,
            invite=not is_personal,
            actor=actor,
        )
    return account


@use_case
def add_member(
    *,
    account: TrainingAccount,
    email: str,
    role: str = Membership.Role.MEMBER,
    can_view_balance: bool = False,
    notify: bool = False,
    invite: bool = True,
    actor: Actor,
) -> Membership:
    """Add a person to an account, or update their role if they are on it already. A person
    new to the account is told by email (`member.invited`) unless `invite` is False.

    Raises:
        ValidationError: a bad email or role.
    """
    if role not in Membership.Role.values:
        raise ValidationError("role must be 'owner' or 'member'.", details={"field": "role"})
    user = get_or_create_user(email=email)
    membership, created = Membership.objects.update_or_create(
        account=account,
        user=user,
        defaults={
            "role": role,
            "can_view_balance": can_view_balance or role == Membership.Role.OWNER,
            "notify": notify,
        },
    )
    if created and invite:
        events.record_many([personal.member_invited(account=account, user=user, role=role)])
    return membership


@use_case
def remove_member(*, membership: Membership, actor: Actor) -> None:
    """Take a person off an account. The last owner cannot be removed.

    Raises:
        ValidationError: removing the last owner.
    """
    if (
        membership.is_owner
        and not Membership.objects.filter(
            account_id=membership.account_id, role=Membership.Role.OWNER
        )
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError("An account must keep at least one owner.")
    membership.delete()


def personal_account_for(*, email: str, actor: Actor) -> TrainingAccount:
    """The personal account of the person with this email, created on first use."""
    user = get_or_create_user(email=email)
    existing = TrainingAccount.objects.filter(
        is_personal=True, memberships__user=user, memberships__role=Membership.Role.OWNER
    ).first()
    if existing:
        return existing
    return create_account.joining(
        name=f"{user.email} (personal)", owners=[user.email], is_personal=True, actor=actor
    )


_UNSET: object = object()


@use_case
def update_account(
    *,
    account_id: int,
    actor: Actor,
    name: str | None = None,
    external_id: object = _UNSET,
    redeemer_policy: str | None = None,
) -> TrainingAccount:
    """Rename an account, change its external ID or its redeemer policy; kept in its history.

    Raises:
        NotFoundError: no such account.
        ValidationError: an empty name, an unknown policy, an external ID another account has.
    """
    account = TrainingAccount.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        raise NotFoundError("No such account.")
    fields = []
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200:
            raise ValidationError("name must be 1 to 200 characters.", details={"field": "name"})
        if name != account.name:
            account.name, fields = name, [*fields, "name"]
    if external_id is not _UNSET:
        value = (external_id or "").strip() or None  # type: ignore[union-attr]
        if (
            value
            and TrainingAccount.objects.filter(external_id=value).exclude(pk=account.pk).exists()
        ):
            raise ValidationError(
                _("This external ID is already used by another account."),
                details={"field": "external_id"},
            )
        if value != account.external_id:
            account.external_id, fields = value, [*fields, "external_id"]
    if redeemer_policy is not None and redeemer_policy != account.redeemer_policy:
        if redeemer_policy not in TrainingAccount.RedeemerPolicy.values:
            raise ValidationError(
                "redeemers must be 'anyone' or 'members'.", details={"field": "redeemer_policy"}
            )
        account.redeemer_policy, fields = redeemer_policy, [*fields, "redeemer_policy"]
    if fields:
        account._change_reason = f"edited by {actor}"  # type: ignore[attr-defined]
        account.save(update_fields=fields)
    return account


@use_case
def update_profile(*, user_id: int, actor: Actor, name: str, language: str, timezone: str) -> User:
    """A person's own settings: their name, the language they read (empty: the browser's) and
    the time zone of their notifications (empty: the provider's).

    Raises:
        ValidationError: a language that is not shipped, or an unknown time zone.
    """
    from zoneinfo import available_timezones

    from django.conf import settings

    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(_("This language is not available."), details={"field": "language"})
    if timezone and timezone not in available_timezones():
        raise ValidationError(_("This time zone is not known."), details={"field": "timezone"})
    user = User.objects.select_for_update().get(pk=user_id)
    user.name, user.language, user.timezone = name.strip(), language, timezone
    user.save(update_fields=["name", "language", "timezone"])
    record_change(
        actor=actor, verb="settings changed", obj=user, summary="name, language, time zone"
    )
    return user
