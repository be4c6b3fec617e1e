"""Approvals over the API (SPEC §7): rules on the account, a checkout answered 202 while it
waits, the holds list, approve and decline (idempotent)."""

import pytest

from tests.api_support import Api, error_code
from tests.factories import AccountFactory, make_activity, make_credit, usd
from tuition.checkout.models import Order, Registration
from tuition.ledger.models import Hold, Lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(client, make_key):  # type: ignore[no-untyped-def]
    usd()
    account = AccountFactory(name="Acme")
    course = make_activity(price=30000)
    credit = make_credit(account, 50000)
    api = Api(client, make_key())
    return api, account, course, credit


def checkout_body(course, credit) -> dict:  # type: ignore[no-untyped-def]
    return {
        "learner": {"email": "ana@acme.test"},
        "item": {"activity": str(course.pk)},
        "payment": {"method": "code", "code": credit.code_text},
    }


def test_rules_are_set_and_read_on_the_account(setup):
    # given
    api, account, course, _ = setup

    # when
    put = api.call(
        "PUT",
        f"accounts/{account.pk}/approval-rules",
        {
            "above": [{"unit": "USD", "amount": "100.00"}],
            "items": [{"activity": str(course.pk)}],
            "hold_hours": 24,
        },
    )

    # then
    assert put.status_code == 200, put.json()
    got = api.get(f"accounts/{account.pk}/approval-rules").json()
    assert got["above"] == [{"unit": "USD", "amount": "100.00"}]
    assert got["items"] == [{"activity": str(course.pk), "group": None}]
    assert got["hold_hours"] == 24
    assert account.approval_policy.above == {"USD": 10000}


def test_bad_rules_are_refused_and_change_nothing(setup):
    api, account, _, _ = setup

    answer = api.call(
        "PUT",
        f"accounts/{account.pk}/approval-rules",
        {"above": [{"unit": "USD", "amount": 5}], "hold_hours": 24},
    )
    too_long = api.call("PUT", f"accounts/{account.pk}/approval-rules", {"hold_hours": 100000})

    assert error_code(answer) == "validation_error" and error_code(too_long) == "validation_error"
    assert not hasattr(
        AccountFactory._meta.model.objects.get(pk=account.pk), "approval_policy_cache"
    )
    assert api.get(f"accounts/{account.pk}/approval-rules").json()["above"] == []


def test_a_checkout_that_needs_approval_answers_202_and_approving_registers(setup):
    # given
    api, account, course, credit = setup
    api.call(
        "PUT",
        f"accounts/{account.pk}/approval-rules",
        {"above": [{"unit": "USD", "amount": "100.00"}], "hold_hours": 24},
    )
    quote = api.post("checkout/quote", checkout_body(course, credit))
    assert quote.status_code == 200 and quote.json()["needs_approval"] is True

    # when
    placed = api.post("checkout", checkout_body(course, credit))

    # then
    assert placed.status_code == 202, placed.json()
    body = placed.json()
    assert body["order"]["status"] == "awaiting_approval" and body["registration"] is None
    assert body["hold"]["status"] == "pending" and body["hold"]["amount"] == {
        "amount": "300.00",
        "unit": "USD",
    }
    balances = api.get(f"accounts/{account.pk}/balances").json()
    assert (
        balances[0]["available"]["amount"] == "200.00" and balances[0]["held"]["amount"] == "300.00"
    )
    listed = api.get(f"holds?account={account.pk}&status=pending").json()["results"]
    assert [h["id"] for h in listed] == [body["hold"]["id"]]

    # when: approved, twice with the same key
    first = api.post(f"holds/{body['hold']['id']}/approve", {}, key="approve-1")
    again = api.post(f"holds/{body['hold']['id']}/approve", {}, key="approve-1")

    # then
    assert first.status_code == 200 and first.json()["status"] == "captured"
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert Registration.objects.get(learner__email="ana@acme.test").status == "active"
    assert Order.objects.get().status == "paid"
    later = api.post(f"holds/{body['hold']['id']}/decline", {})
    assert later.status_code == 409 and error_code(later) == "hold_not_pending"


def test_declining_releases_the_value(setup):
    api, account, course, credit = setup
    api.call(
        "PUT",
        f"accounts/{account.pk}/approval-rules",
        {"above": [{"unit": "USD", "amount": "0.00"}], "hold_hours": 24},
    )
    hold_id = api.post("checkout", checkout_body(course, credit)).json()["hold"]["id"]

    declined = api.post(f"holds/{hold_id}/decline", {})

    assert declined.status_code == 200 and declined.json()["status"] == "released"
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 50000
    assert Hold.objects.get().status == "released" and Registration.objects.count() == 0


def test_another_accounts_hold_is_not_found_for_an_owner(client, setup):
    from tests.factories import MembershipFactory, UserFactory

    api, account, course, credit = setup
    api.call(
        "PUT",
        f"accounts/{account.pk}/approval-rules",
        {"above": [{"unit": "USD", "amount": "0.00"}], "hold_hours": 24},
    )
    hold_id = api.post("checkout", checkout_body(course, credit)).json()["hold"]["id"]
    stranger = UserFactory(email="owner@other.test")
    MembershipFactory(account=AccountFactory(), user=stranger, role="owner")
    client.force_login(stranger)
    as_stranger = Api(client)

    answer = as_stranger.post(f"holds/{hold_id}/approve", {})

    assert answer.status_code == 404 and error_code(answer) == "not_found"
    assert as_stranger.get("holds").json()["results"] == []
    assert Hold.objects.get().status == "pending"
