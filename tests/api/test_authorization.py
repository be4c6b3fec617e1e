"""SPEC rule 26: the owner of account A asking for account B's data gets exactly what asking
for a missing id gives, on every account-scoped endpoint, and nothing of B is written."""

import pytest

from tests.factories import MembershipFactory, UserFactory, issue
from tuition.ledger.models import Lot, Transfer

from .conftest import error_code

pytestmark = pytest.mark.django_db

MISSING = "987654321"

# (method, path, body); {account}, {lot}, {member}, {transfer} name objects of account B.
ENDPOINTS = [
    ("GET", "accounts/{account}", None),
    ("GET", "accounts/{account}/members", None),
    ("POST", "accounts/{account}/members", {"email": "spy@evil.test"}),
    ("GET", "accounts/{account}/members/{member}", None),
    ("DELETE", "accounts/{account}/members/{member}", None),
    ("GET", "accounts/{account}/balances", None),
    ("GET", "transactions?account={account}", None),
    ("GET", "transactions/{transfer}", None),
    ("GET", "credits/{lot}/adjustments", None),
]


def _objects_of_b(owner_of):  # type: ignore[no-untyped-def]
    account_b, owner_b = owner_of()
    lot = issue(account_b, 5000)
    return {
        "account": account_b.pk,
        "lot": lot.pk,
        "member": account_b.memberships.get(user=owner_b).pk,
        "transfer": Transfer.objects.get(account=account_b).pk,
    }


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_owner_of_a_gets_not_found_for_b_identical_to_a_missing_id(
    session_api, owner_of, method, path, body
):
    # given
    _, owner_a = owner_of()
    objects_b = _objects_of_b(owner_of)
    api = session_api(owner_a)
    lots_before = list(Lot.objects.values_list("pk", "remaining", "status"))
    # when
    foreign = api.call(method, path.format(**objects_b), body, idempotency_key="k1")
    missing = api.call(method, path.format(**{k: MISSING for k in objects_b}), body,
                       idempotency_key="k2")
    # then
    assert foreign.status_code == 404 and error_code(foreign) == "not_found"
    assert foreign.content == missing.content and missing.status_code == 404
    assert list(Lot.objects.values_list("pk", "remaining", "status")) == lots_before
    assert not UserFactory._meta.model.objects.filter(email="spy@evil.test").exists()


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_member_without_balance_rights_gets_not_found_too(
    session_api, owner_of, method, path, body
):
    objects_b = _objects_of_b(owner_of)
    member = UserFactory()
    MembershipFactory(account_id=objects_b["account"], user=member, can_view_balance=False)
    response = session_api(member).call(method, path.format(**objects_b), body,
                                        idempotency_key="k1")
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_owner_lists_never_include_b(session_api, owner_of):
    account_a, owner_a = owner_of()
    issue(account_a, 100)
    _objects_of_b(owner_of)
    api = session_api(owner_a)
    transfers = api.get("transactions").json()["results"]
    assert {t["account"] for t in transfers} == {str(account_a.pk)}
    assert {a["id"] for a in api.get("accounts").json()["results"]} == {str(account_a.pk)}
