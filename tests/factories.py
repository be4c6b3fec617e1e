"""Factories and small helpers shared by the tests."""

from datetime import timedelta

import factory

from tuition.accounts.models import Membership, TrainingAccount, User
from tuition.core import clock
from tuition.ledger import services as ledger
from tuition.ledger.models import Lot, Unit


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    name = factory.Faker("name")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingAccount

    name = factory.Sequence(lambda n: f"Account {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    account = factory.SubFactory(AccountFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


class TokenUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("code",)

    code = "TT"
    name = "Training Token"
    decimals = 0


def usd() -> Unit:
    # Transactional tests flush every table, the built-in USD row included: bring it back.
    unit, _ = Unit.objects.get_or_create(
        code="USD", defaults={"name": "Training credits (USD)", "decimals": 2, "is_builtin": True}
    )
    return unit


def issue(
    account, amount: int, *, unit: Unit | None = None, days: int | None = 365, **kwargs
) -> Lot:
    """Issue `amount` minor units into `account`, expiring in `days` (None: never)."""
    expires_at = None if days is None else clock.now() + timedelta(days=days)
    return ledger.issue_credit(
        account_id=account.pk,
        unit=unit or usd(),
        redeemable_value=amount,
        expires_at=expires_at,
        actor="test",
        **kwargs,
    )


# --- catalog, codes and checkout -------------------------------------------------------------


def make_activity(title: str = "Cloud Fundamentals", price: int = 30000, **kwargs):
    from tuition.catalog import services as catalog

    return catalog.create_activity(title=title, price=price, actor="test", **kwargs)


def make_session(activity, *, capacity: int = 10, days: int = 30, **kwargs):
    from tuition.catalog import services as catalog

    starts_at = clock.now() + timedelta(days=days)
    return catalog.create_session(
        activity_id=activity.pk,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=8),
        capacity=capacity,
        actor="test",
        **kwargs,
    )


def make_credit(
    account, amount: int, *, unit: Unit | None = None, days: int | None = 365, **kwargs
):
    """A credit with its own code (IssuedCredit: .lot, .code, .code_text)."""
    from tuition.codes import services as codes

    expires_at = None if days is None else clock.now() + timedelta(days=days)
    return codes.create_credit(
        account_id=account.pk,
        unit=unit or usd(),
        redeemable_value=amount,
        expires_at=expires_at,
        actor="test",
        **kwargs,
    )


def fan_out_recorded() -> int:
    """Do the worker's first step for every recorded event: write its email and webhook
    deliveries (`notifications.fan_out`). Returns how many events it fanned out."""
    from tuition.notifications.fan_out import fan_out
    from tuition.notifications.models import NotificationEvent

    pending = NotificationEvent.objects.filter(fanned_out_at__isnull=True)
    return fan_out(event_ids=list(pending.values_list("pk", flat=True)))
