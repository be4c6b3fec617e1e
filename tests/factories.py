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
    return Unit.objects.get(code="USD")


def issue(account, amount: int, *, unit: Unit | None = None, days: int | None = 365, **kwargs) -> Lot:
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
