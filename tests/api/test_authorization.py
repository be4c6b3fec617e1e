"""SPEC rule 26: the owner of account A asking for account B's data gets exactly what asking
for a missing id gives, on every account-scoped endpoint, and nothing of B is written."""

import pytest

from tests.api_support import error_code
from tests.factories import MembershipFactory, UserFactory, issue, usd
from tuition.catalog import services as catalog
from tuition.checkout import services as checkout
from tuition.checkout.models import Booking, Order, Registration
from tuition.codes.models import RedemptionCode
from tuition.codes.services import create_pool_code
from tuition.ledger.models import Lot, Transfer

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
    ("GET", "accounts/{account}/approval-rules", None),
    ("PUT", "accounts/{account}/approval-rules", {"hold_hours": 24}),
    ("GET", "transactions?account={account}", None),
    ("GET", "transactions/{transfer}", None),
    ("GET", "credits/{lot}/adjustments", None),
    ("GET", "credits?account={account}", None),
    ("GET", "credits/{lot}", None),
    ("GET", "credits/{lot}/history", None),
    ("GET", "accounts/{account}/usage", None),
    ("POST", "accounts/{account}/refills", {"amount": "10.00"}),
    ("GET", "orders?account={account}", None),
    ("GET", "orders/{order}", None),
    ("GET", "orders/{order}/receipt", None),
    ("GET", "orders/{order}/invoice", None),
    ("GET", "registrations/{registration}", None),
    ("POST", "registrations/{registration}/unenroll", {}),
    ("POST", "registrations/{registration}/cancel", {"refund": True}),
    ("GET", "codes?account={account}", None),
    ("POST", "codes", {"account": "{account}", "kind": "pool"}),
    ("GET", "codes/{code}", None),
    ("PATCH", "codes/{code}", {"status": "inactive"}),
    ("DELETE", "codes/{code}", None),
    ("POST", "codes/{code}/rotate", {}),
]


def _objects_of_b(owner_of):  # type: ignore[no-untyped-def]
    account_b, owner_b = owner_of()
    lot = issue(account_b, 50000)
    pool = create_pool_code(account_id=account_b.pk, unit=usd(), actor="test")
    course = catalog.create_activity(title="Course", price=1000, actor="test")
    bought = checkout.checkout(
        learner_email="learner-of-b@b.test",
        learner_name="",
        activity_id=course.pk,
        payment=checkout.PaymentChoice(method="code", code=pool.code_text),
        actor="test",
    )
    return {
        "account": account_b.pk,
        "lot": lot.pk,
        "member": account_b.memberships.get(user=owner_b).pk,
        "transfer": Transfer.objects.filter(account=account_b, kind="issue").get().pk,
        "order": bought.order.pk,
        "registration": bought.registration.pk,
        "code": pool.code.pk,
    }


def _fill(body, objects):  # type: ignore[no-untyped-def]
    if body is None:
        return None
    return {k: v.format(**objects) if isinstance(v, str) else v for k, v in body.items()}


def _state():  # type: ignore[no-untyped-def]
    return (
        list(Lot.objects.values_list("pk", "remaining", "status")),
        list(RedemptionCode.objects.values_list("pk", "status", "digest", "deleted_at")),
        list(Registration.objects.values_list("pk", "status")),
        list(Booking.objects.values_list("pk", "status")),
        Order.objects.count(),
    )


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_owner_of_a_gets_not_found_for_b_identical_to_a_missing_id(
    session_api, owner_of, method, path, body
):
    # given
    _, owner_a = owner_of()
    objects_b = _objects_of_b(owner_of)
    api = session_api(owner_a)
    before = _state()
    missing_ids = {k: MISSING for k in objects_b}
    # when
    foreign = api.call(
        method, path.format(**objects_b), _fill(body, objects_b), idempotency_key="k1"
    )
    missing = api.call(
        method, path.format(**missing_ids), _fill(body, missing_ids), idempotency_key="k2"
    )
    # then
    assert foreign.status_code == 404 and error_code(foreign) == "not_found"
    assert foreign.content == missing.content and missing.status_code == 404
    assert _state() == before
    assert not UserFactory._meta.model.objects.filter(email="spy@evil.test").exists()


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_member_without_balance_rights_gets_not_found_too(
    session_api, owner_of, method, path, body
):
    objects_b = _objects_of_b(owner_of)
    member = UserFactory()
    MembershipFactory(account_id=objects_b["account"], user=member, can_view_balance=False)
    before = _state()
    response = session_api(member).call(
        method, path.format(**objects_b), _fill(body, objects_b), idempotency_key="k1"
    )
    assert response.status_code == 404 and error_code(response) == "not_found"
    assert _state() == before


def test_owner_lists_never_include_b(session_api, owner_of):
    account_a, owner_a = owner_of()
    issue(account_a, 100)
    _objects_of_b(owner_of)
    api = session_api(owner_a)
    transfers = api.get("transactions").json()["results"]
    assert {t["account"] for t in transfers} == {str(account_a.pk)}
    assert {a["id"] for a in api.get("accounts").json()["results"]} == {str(account_a.pk)}
