import pytest

from tests.factories import AccountFactory, MembershipFactory, UserFactory, usd
from tuition.accounts.models import Membership


@pytest.fixture
def owner(db):
    return UserFactory(email="olga@acme.test", name="Olga")


@pytest.fixture
def acme(owner):
    usd()
    account = AccountFactory(name="Acme")
    MembershipFactory(account=account, user=owner, role=Membership.Role.OWNER)
    return account
