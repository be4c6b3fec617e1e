import pytest

from tests.factories import AccountFactory, MembershipFactory, TokenUnitFactory, UserFactory, issue
from tuition.accounts.models import Membership, TrainingAccount
from tuition.ledger.models import Transfer, Unit

from .conftest import error_code

pytestmark = pytest.mark.django_db


def test_create_an_account_with_owners(api):
    # when
    response = api.post(
        "accounts",
        {
            "name": "Acme",
            "external_id": "crm-42",
            "owners": ["Olga@Acme.test"],
            "redeemers": "members",
        },
    )
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Acme" and body["external_id"] == "crm-42"
    assert body["redeemers"] == "members" and isinstance(body["id"], str)
    account = TrainingAccount.objects.get(pk=body["id"])
    owner = account.memberships.get()
    assert owner.user.email == "olga@acme.test" and owner.role == "owner"


def test_an_external_id_is_used_once(api):
    AccountFactory(external_id="crm-42")
    response = api.post("accounts", {"name": "Acme", "external_id": "crm-42"})
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert TrainingAccount.objects.count() == 1


def test_list_and_find_accounts(api):
    AccountFactory(name="B", external_id="x-1")
    AccountFactory(name="A")
    response = api.get("accounts")
    assert [a["name"] for a in response.json()["results"]] == ["A", "B"]
    assert response.json()["next"] is None
    response = api.get("accounts?external_id=x-1")
    assert [a["name"] for a in response.json()["results"]] == ["B"]
    assert api.get("accounts?page=9").status_code == 404


def test_retrieve_an_account_and_a_missing_one(api):
    account = AccountFactory()
    assert api.get(f"accounts/{account.pk}").json()["id"] == str(account.pk)
    for missing in ["999999", "abc", "-1", "0", "1.5", "9" * 40]:
        response = api.get(f"accounts/{missing}")
        assert response.status_code == 404 and error_code(response) == "not_found"


def test_members_add_list_update_remove(api):
    account = AccountFactory()
    # when
    response = api.post(
        f"accounts/{account.pk}/members",
        {"email": "ana@acme.test", "role": "member", "can_view_balance": False},
    )
    # then
    assert response.status_code == 201
    member_id = response.json()["id"]
    assert response.json()["email"] == "ana@acme.test"
    listed = api.get(f"accounts/{account.pk}/members").json()["results"]
    assert [m["email"] for m in listed] == ["ana@acme.test"]
    # adding again updates the same membership
    again = api.post(f"accounts/{account.pk}/members", {"email": "ANA@acme.test", "role": "owner"})
    assert again.json()["id"] == member_id and again.json()["role"] == "owner"
    assert api.get(f"accounts/{account.pk}/members/{member_id}").json()["role"] == "owner"
    # the last owner stays
    response = api.delete(f"accounts/{account.pk}/members/{member_id}")
    assert response.status_code == 400 and error_code(response) == "validation_error"
    api.post(f"accounts/{account.pk}/members", {"email": "bo@acme.test", "role": "owner"})
    assert api.delete(f"accounts/{account.pk}/members/{member_id}").status_code == 204
    assert not Membership.objects.filter(pk=member_id).exists()
    response = api.get(f"accounts/{account.pk}/members/{member_id}")
    assert response.status_code == 404 and error_code(response) == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "nope"},
        {"email": "a@b.test", "role": "boss"},
        {"email": "a@b.test", "can_view_balance": "yes"},
        {"email": "a@b.test", "x": 1},
    ],
)
def test_members_refuse_bad_input(api, body):
    account = AccountFactory()
    response = api.post(f"accounts/{account.pk}/members", body)
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not Membership.objects.exists()


def test_balances_per_unit_with_lots(api):
    # given
    account = AccountFactory()
    soon = issue(account, 10000, days=10)
    later = issue(account, 25000, days=300)
    issue(account, 3, unit=TokenUnitFactory())
    # when
    response = api.get(f"accounts/{account.pk}/balances")
    # then
    assert response.status_code == 200
    usd, tokens = response.json()
    assert usd["unit"] == "USD" and usd["available"] == {"amount": "350.00", "unit": "USD"}
    assert [lot["id"] for lot in usd["lots"]] == [str(soon.pk), str(later.pk)]
    assert (
        usd["lots"][0]["remaining"] == {"amount": "100.00", "unit": "USD"}
        and usd["lots"][0]["expires_at"]
    )
    assert tokens["unit"] == "TT" and tokens["available"] == {"amount": "3", "unit": "TT"}


def test_units_list_create_and_retrieve(api):
    response = api.post(
        "units", {"code": "lt", "name": "Lab Token", "decimals": 1, "expiry_days": None}
    )
    assert response.status_code == 201
    assert response.json()["code"] == "LT" and response.json()["expiry_days"] is None
    assert Unit.objects.get(code="LT").decimals == 1
    assert [u["code"] for u in api.get("units").json()["results"]] == ["USD", "LT"]
    assert api.get("units/usd").json()["decimals"] == 2
    assert error_code(api.get("units/NOPE")) == "not_found"


def test_transactions_with_entries(api):
    account = AccountFactory()
    lot = issue(account, 5000)
    response = api.get(f"transactions?account={account.pk}")
    [transfer] = response.json()["results"]
    assert transfer["kind"] == "issue" and transfer["amount"] == {"amount": "50.00", "unit": "USD"}
    assert transfer["unit"] == "USD" and transfer["account"] == str(account.pk)
    assert {
        (e["lot"], e["system_account"], e["amount"]["amount"]) for e in transfer["entries"]
    } == {
        (str(lot.pk), None, "50.00"),
        (None, "issuance", "-50.00"),
    }
    assert api.get(f"transactions/{transfer['id']}").json() == transfer
    assert api.get(f"transactions?lot={lot.pk}").json()["count"] == 1
    assert api.get("transactions?kind=redeem").json()["count"] == 0
    assert error_code(api.get("transactions/424242")) == "not_found"
    assert Transfer.objects.count() == 1


def test_adjust_a_credit_up_and_down(api):
    account = AccountFactory()
    lot = issue(account, 5000)
    response = api.post(f"credits/{lot.pk}/adjustments", {"amount": "-20.50", "reason": "fix"})
    assert response.status_code == 201 and response.json()["kind"] == "adjust"
    lot.refresh_from_db()
    assert lot.remaining == 2950
    response = api.post(f"credits/{lot.pk}/adjustments", {"amount": "-30.00", "reason": "fix"})
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert api.get(f"credits/{lot.pk}/adjustments").json()["count"] == 1


@pytest.mark.parametrize(
    "amount",
    [
        "0",
        0,
        "1.234",
        "1e3",
        1.5,
        None,
        "",
        True,
        "NaN",
        "Infinity",
        10**30,
        str(10**30),
        [],
    ],
)
def test_adjustments_refuse_bad_amounts_and_write_nothing(api, amount):
    account = AccountFactory()
    lot = issue(account, 5000)
    response = api.post(f"credits/{lot.pk}/adjustments", {"amount": amount, "reason": "x"})
    assert response.status_code == 400 and error_code(response) == "validation_error"
    lot.refresh_from_db()
    assert lot.remaining == 5000 and Transfer.objects.count() == 1


def test_session_owner_sees_own_account_only(session_api, owner_of):
    account, owner = owner_of()
    other = AccountFactory()
    api = session_api(owner)
    assert [a["id"] for a in api.get("accounts").json()["results"]] == [str(account.pk)]
    assert api.get(f"accounts/{account.pk}").status_code == 200
    assert error_code(api.get(f"accounts/{other.pk}")) == "not_found"


def test_member_sees_balance_only_when_allowed(session_api):
    account = AccountFactory()
    issue(account, 100)
    viewer, hidden = UserFactory(), UserFactory()
    MembershipFactory(account=account, user=viewer, can_view_balance=True)
    MembershipFactory(account=account, user=hidden, can_view_balance=False)
    assert session_api(viewer).get(f"accounts/{account.pk}/balances").status_code == 200
    response = session_api(hidden).get(f"accounts/{account.pk}/balances")
    assert response.status_code == 404 and error_code(response) == "not_found"
    # a member is not an owner: the account itself and its members stay hidden
    assert error_code(session_api(viewer).get(f"accounts/{account.pk}/members")) == "not_found"


def test_people_cannot_create_accounts_or_units(session_api, owner_of):
    _, owner = owner_of()
    api = session_api(owner)
    response = api.post("accounts", {"name": "Mine"})
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert error_code(api.post("units", {"code": "X", "name": "X"})) == "permission_denied"


def test_staff_session_sees_everything(session_api):
    account = AccountFactory()
    staff = UserFactory(is_staff=True)
    assert session_api(staff).get(f"accounts/{account.pk}").status_code == 200


def test_session_writes_need_the_csrf_token(owner_of):
    from django.test import Client

    account, owner = owner_of()
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(
        f"/api/v1/accounts/{account.pk}/members",
        data={"email": "a@b.test"},
        content_type="application/json",
    )
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert account.memberships.count() == 1
