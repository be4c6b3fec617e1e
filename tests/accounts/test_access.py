"""The access policy: who may see or manage a training account (SPEC rule 26)."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.factories import AccountFactory, MembershipFactory, UserFactory
from tuition.accounts import access
from tuition.accounts.models import Membership
from tuition.core.errors import NotFoundError

pytestmark = pytest.mark.django_db


@dataclass
class Asking:
    user: Any
    is_provider: bool = False


@pytest.fixture
def people():
    acme, beta = AccountFactory(name="Acme"), AccountFactory(name="Beta")
    olga = UserFactory(email="olga@acme.test")
    MembershipFactory(account=acme, user=olga, role=Membership.Role.OWNER)
    ana = UserFactory(email="ana@acme.test")
    MembershipFactory(account=acme, user=ana, can_view_balance=True)
    ben = UserFactory(email="ben@acme.test")
    MembershipFactory(account=acme, user=ben)
    staff = UserFactory(email="cora@northwind.test", is_staff=True)
    return {"acme": acme, "beta": beta, "olga": olga, "ana": ana, "ben": ben, "staff": staff}


def test_owners_manage_their_account_and_nothing_else(people):
    # given an owner of Acme
    olga, acme, beta = people["olga"], people["acme"], people["beta"]
    # then they manage Acme, by id in any form, and Beta is as absent as a missing account
    assert list(access.manageable_by(olga)) == [acme]
    assert access.manageable_account(olga, acme.pk) == acme
    assert access.manageable_account(olga, str(acme.pk)) == acme
    assert access.manageable_account(olga, beta.pk) is None
    assert access.manageable_account(olga, 999999) is None
    assert access.is_owner(olga, acme.pk) and not access.is_owner(olga, beta.pk)


def test_members_manage_nothing_but_may_see_a_balance_they_were_given(people):
    # given two members of Acme, one allowed to see its balance
    ana, ben, acme = people["ana"], people["ben"], people["acme"]
    # then neither manages it; only the allowed one sees its balance
    assert access.manageable_account(ana, acme.pk) is None
    assert list(access.manageable_by(ana, balance=True)) == [acme]
    assert list(access.manageable_by(ben, balance=True)) == []
    assert not access.is_owner(ana, acme.pk)


def test_staff_manage_every_account_but_own_none(people):
    # given a staff member who owns nothing
    staff = people["staff"]
    # then they manage every account, yet their own list of accounts is empty
    assert set(access.manageable_by(staff)) == {people["acme"], people["beta"]}
    assert list(access.owned_by(staff)) == []


@pytest.mark.parametrize("account_id", [None, "", "abc", "-1", 0, True, "1.5", "9" * 40])
def test_odd_ids_and_strangers_see_nothing(people, account_id):
    # given an id that is not one, or someone not signed in
    acme = people["acme"]
    # then nothing is found, and nothing is owned
    assert access.manageable_account(people["olga"], account_id) is None
    assert access.manageable_account(AnonymousUser(), acme.pk) is None
    assert list(access.owned_by(AnonymousUser())) == []
    assert list(access.manageable_by(None)) == []


def test_an_inactive_owner_manages_nothing(people):
    # given an owner whose sign-in was switched off (as after being forgotten)
    olga = people["olga"]
    olga.is_active = False
    olga.save()
    # then they manage nothing
    assert access.manageable_account(olga, people["acme"].pk) is None


def test_api_callers_see_as_their_person_or_everything_as_the_provider(people):
    # given an owner, a member and the provider calling the API
    acme, beta = people["acme"], people["beta"]
    # then the provider sees every account, the owner theirs, and others get not_found
    assert set(access.visible_accounts(Asking(None, is_provider=True))) == {acme, beta}
    assert access.account_for(Asking(people["olga"]), str(acme.pk)) == acme
    assert access.account_for(Asking(people["ana"]), acme.pk, balance=True) == acme
    with pytest.raises(NotFoundError):
        access.account_for(Asking(people["ana"]), acme.pk)
    with pytest.raises(NotFoundError):
        access.account_for(Asking(people["olga"]), beta.pk)
