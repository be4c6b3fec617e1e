import pytest

from tests.factories import AccountFactory
from tuition.accounts import services
from tuition.accounts.models import Membership, TrainingAccount, User
from tuition.core.errors import NotFoundError, ValidationError

pytestmark = pytest.mark.django_db


def test_create_account_with_owners_by_email():
    # when
    account = services.create_account(
        name=" Acme ",
        owners=["Olga@Acme.test"],
        external_id="crm-42",
        redeemer_policy="members",
        actor="test",
    )
    # then
    account.refresh_from_db()
    assert (account.name, account.external_id, account.redeemer_policy) == (
        "Acme",
        "crm-42",
        "members",
    )
    owner = Membership.objects.get(account=account)
    assert owner.user.email == "olga@acme.test" and owner.is_owner and owner.can_view_balance


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": ""},
        {"name": "x" * 201},
        {"redeemer_policy": "everyone"},
        {"owners": ["not-an-email"]},
    ],
)
def test_create_account_refuses_bad_input_and_writes_nothing(kwargs):
    with pytest.raises(ValidationError):
        services.create_account(**{"name": "Acme", "actor": "test", **kwargs})
    assert not TrainingAccount.objects.exists() and not User.objects.exists()


def test_an_external_id_belongs_to_one_account():
    services.create_account(name="A", external_id="crm-1", actor="test")
    with pytest.raises(ValidationError, match="external ID is already used"):
        services.create_account(name="B", external_id="crm-1", actor="test")
    assert TrainingAccount.objects.count() == 1


def test_add_member_creates_the_person_once_and_updates_their_role():
    account = AccountFactory()
    first = services.add_member(account=account, email="ana@acme.test", actor="test")
    again = services.add_member(account=account, email="ANA@acme.test", role="owner", actor="test")
    assert first.pk == again.pk
    again.refresh_from_db()
    assert again.is_owner and again.can_view_balance
    assert User.objects.filter(email="ana@acme.test").count() == 1


def test_the_last_owner_cannot_be_removed():
    account = services.create_account(name="Acme", owners=["olga@acme.test"], actor="test")
    owner = Membership.objects.get(account=account)
    with pytest.raises(ValidationError, match="at least one owner"):
        services.remove_member(membership=owner, actor="test")
    services.add_member(account=account, email="ben@acme.test", role="owner", actor="test")
    services.remove_member(membership=owner, actor="test")
    assert list(account.memberships.values_list("user__email", flat=True)) == ["ben@acme.test"]


def test_update_account_keeps_its_history():
    account = AccountFactory(name="Old")
    services.update_account(
        account_id=account.pk, name="New", redeemer_policy="members", actor="staff"
    )
    account.refresh_from_db()
    assert account.name == "New" and account.redeemer_policy == "members"
    assert account.history.first().history_change_reason == "edited by staff"
    with pytest.raises(NotFoundError):
        services.update_account(account_id=account.pk + 999, name="X", actor="staff")


def test_a_personal_account_is_made_once_per_person():
    first = services.personal_account_for(email="lena@learner.test", actor="test")
    second = services.personal_account_for(email="lena@learner.test", actor="test")
    assert first.pk == second.pk and first.is_personal
