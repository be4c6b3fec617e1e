import pytest

from tests.factories import AccountFactory, UserFactory
from tuition.catalog import services as catalog
from tuition.checkout.models import Booking, Order, Registration
from tuition.core.models import IdempotencyRecord
from tuition.ledger.models import Lot, Transfer

from .conftest import error_code

pytestmark = pytest.mark.django_db


def _credit(api, account, value="500.00", **fields):  # type: ignore[no-untyped-def]
    response = api.post(
        "credits", {"account": str(account.pk), "unit": "USD", "redeemable_value": value, **fields}
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_create_a_credit_shows_its_code_once_and_issues_value(api):
    account = AccountFactory()
    body = _credit(
        api,
        account,
        purchase_price="450.00",
        external_id="pi_123",
        expires_at="2099-11-21T00:00:00Z",
        notes="Q4 deal",
        scope={"kind": "activity", "all": True},
    )
    assert body["remaining"] == {"amount": "500.00", "unit": "USD"} and body["purchase_price"] == {
        "amount": "450.00",
        "unit": "USD",
    }
    assert len(body["code"].replace("-", "")) >= 16 and body["source"] == "api"
    lot = Lot.objects.get(pk=body["id"])
    assert lot.remaining == 50000 and lot.external_id == "pi_123"
    assert Transfer.objects.filter(kind="issue", account=account).count() == 1
    assert api.get(f"credits/{lot.pk}").json()["remaining"] == {"amount": "500.00", "unit": "USD"}


def test_a_credit_for_an_owner_email_goes_to_a_personal_account(api):
    response = api.post("credits", {"owner_email": "olga@acme.test", "redeemable_value": "5"})
    assert response.status_code == 201
    lot = Lot.objects.get(pk=response.json()["id"])
    assert lot.account.is_personal


@pytest.mark.parametrize(
    "fields",
    [
        {"redeemable_value": "0"},
        {"redeemable_value": "1.001"},
        {"redeemable_value": 1.5},
        {"redeemable_value": "NaN"},
        {"redeemable_value": str(10**30)},
        {"redeemable_value": "5", "unit": "NOPE"},
        {"redeemable_value": "5", "remaining": "5"},
        {"redeemable_value": "5", "expires_at": "2099-01-01T00:00:00"},
        {"redeemable_value": "5", "expires_at": "2023-02-29T00:00:00Z"},
        {"redeemable_value": "5", "expires_at": "2020-01-01T00:00:00Z"},
        {"redeemable_value": "5", "scope": {"kind": "everything"}},
        {"redeemable_value": "5", "scope": {"kind": "activity", "all": False, "items": []}},
    ],
)
def test_credit_creation_refuses_bad_input_and_writes_nothing(api, fields):
    account = AccountFactory()
    response = api.post("credits", {"account": str(account.pk), **fields})
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not Lot.objects.exists() and not IdempotencyRecord.objects.exists()


def test_a_credit_into_a_missing_account_is_not_found(api):
    response = api.post("credits", {"account": "987654", "redeemable_value": "5"})
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_credit_creation_replays(api):
    account = AccountFactory()
    body = {"account": str(account.pk), "redeemable_value": "5.00"}
    first = api.post("credits", body, key="C-1")
    second = api.post("credits", body, key="C-1")
    assert second.content == first.content and second["Idempotent-Replayed"] == "true"
    assert Lot.objects.count() == 1
    assert (
        error_code(api.post("credits", {**body, "redeemable_value": "50.00"}, key="C-1"))
        == "idempotency_key_reused"
    )


def test_edit_bulk_history_and_delete(api):
    account = AccountFactory()
    a, b = _credit(api, account)["id"], _credit(api, account)["id"]
    # edit one
    response = api.patch(f"credits/{a}", {"status": "inactive", "notes": "paused"})
    assert response.status_code == 200 and response.json()["status"] == "inactive"
    response = api.patch(f"credits/{a}", {"scope": {"kind": "group"}})
    assert response.status_code == 409 and error_code(response) == "scope_kind_immutable"
    assert api.patch(f"credits/{a}", {"remaining": "1"}).status_code == 400
    history = api.get(f"credits/{a}/history").json()
    assert ["active", "inactive"] in [h["changes"].get("status") for h in history]
    edit = next(h for h in history if h["changes"].get("status"))
    assert edit["actor"]["kind"] == "api-key" and edit["actor"]["interface"] == "api"
    assert edit["actor"]["display"].startswith("API key test (")
    assert "api-key:" not in edit["description"]  # the reference is in `actor`, not the text
    # bulk
    response = api.post("credits/bulk", {"action": "activate", "ids": [a, b]})
    assert response.json() == {"action": "activate", "count": 2}
    response = api.post("credits/bulk", {"action": "delete", "ids": [a, "987654"]})
    assert response.status_code == 404 and error_code(response) == "not_found"
    assert Lot.objects.filter(deleted_at__isnull=False).count() == 0
    assert api.post("credits/bulk", {"action": "delete", "ids": [a]}).json()["count"] == 1
    assert error_code(api.get(f"credits/{a}")) == "not_found"
    assert Transfer.objects.filter(kind="void").count() == 1
    # delete one
    assert api.delete(f"credits/{b}").status_code == 204
    assert error_code(api.delete(f"credits/{b}")) == "not_found"
    assert api.get("credits").json()["count"] == 0


def test_owner_sees_own_credits_but_not_the_code_and_cannot_issue(session_api, owner_of, api):
    account, owner = owner_of()
    other = AccountFactory()
    mine, theirs = _credit(api, account), _credit(api, other)
    me = session_api(owner)
    listed = me.get("credits").json()["results"]
    assert [c["id"] for c in listed] == [mine["id"]]
    assert listed[0]["code"] != mine["code"]  # a hint, not the code
    assert error_code(me.get(f"credits/{theirs['id']}")) == "not_found"
    assert error_code(me.get(f"credits/{theirs['id']}/history")) == "not_found"
    assert (
        error_code(me.post("credits", {"account": str(account.pk), "redeemable_value": "1"}))
        == "permission_denied"
    )
    assert error_code(me.patch(f"credits/{mine['id']}", {"notes": "x"})) == "permission_denied"


@pytest.fixture
def course():
    return catalog.create_activity(title="Cloud Fundamentals", price=30000, actor="test")


def _checkout(api, code, item, **extra):  # type: ignore[no-untyped-def]
    return api.post(
        "checkout",
        {
            "learner": {"email": "ana@acme.test", "name": "Ana"},
            "item": {"activity": str(item.pk)},
            "payment": {"method": "code", "code": code},
            **extra,
        },
    )


def test_quote_then_checkout_with_a_credit_code(api, course):
    account = AccountFactory()
    code = _credit(api, account, value="350.00")["code"]
    quote = api.post(
        "checkout/quote",
        {
            "learner": {"email": "ana@acme.test"},
            "item": {"activity": str(course.pk)},
            "payment": {"method": "code", "code": code.lower()},
        },
    )
    assert quote.status_code == 200 and quote.json()["payable"]["amount"] == "300.00"
    assert quote.json()["needs_approval"] is False
    response = _checkout(api, code, course)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["order"]["charged"] == {"amount": "300.00", "unit": "USD"}
    assert body["registration"]["status"] == "active" and body["invoice"]["number"]
    lot = Lot.objects.get()
    assert lot.remaining == 5000
    order_id = body["order"]["id"]
    assert api.get(f"orders/{order_id}").json()["charged"] == {"amount": "300.00", "unit": "USD"}
    assert api.get(f"orders/{order_id}/invoice").json()["amount"] == {
        "amount": "300.00",
        "unit": "USD",
    }
    assert api.get(f"orders/{order_id}/receipt").status_code == 200
    assert api.get("registrations?learner=ana@acme.test").json()["count"] == 1
    # a second purchase is refused, and nothing is charged
    again = _checkout(api, code, course)
    assert again.status_code == 409 and error_code(again) == "already_registered"
    lot.refresh_from_db()
    assert lot.remaining == 5000 and Order.objects.count() == 1


def test_checkout_refusals_write_nothing(api, course):
    account = AccountFactory()
    code = _credit(api, account, value="100.00")["code"]
    response = _checkout(api, code, course)
    assert response.status_code == 422 and error_code(response) == "insufficient_balance"
    assert "100" not in response.content.decode()
    response = _checkout(api, "ABCD-EFGH-JKMN-PQRS", course)
    assert response.status_code == 422 and error_code(response) == "code_not_found"
    response = _checkout(api, code, course, session="987654")
    assert response.status_code in (400, 404, 422)
    response = api.post(
        "checkout",
        {
            "learner": {"email": "ana@acme.test"},
            "item": {"activity": str(course.pk)},
            "payment": {"method": "code", "code": code, "coupon": "SPRING10"},
        },
    )
    assert response.status_code == 422 and error_code(response) == "one_code_only"
    assert not Order.objects.exists() and Lot.objects.get().remaining == 10000
    # the credit's creation, and each business refusal as its key's first answer
    answers = sorted(IdempotencyRecord.objects.values_list("response_status", flat=True))
    assert answers[0] == 201 and set(answers[1:]) <= {404, 409, 422}, answers


def test_failed_code_entries_are_counted_even_though_the_attempt_rolled_back(api, course):
    from tuition.codes.models import AttemptCounter

    _checkout(api, "ABCD-EFGH-JKMN-PQRS", course)
    assert AttemptCounter.objects.filter(failures__gt=0).exists()


def test_checkout_replays_and_does_not_charge_twice(api, course):
    code = _credit(api, AccountFactory(), value="600.00")["code"]
    first = api.post(
        "checkout",
        {
            "learner": {"email": "ana@acme.test"},
            "item": {"activity": str(course.pk)},
            "payment": {"method": "code", "code": code},
        },
        key="CO-1",
    )
    second = api.post(
        "checkout",
        {
            "learner": {"email": "ana@acme.test"},
            "item": {"activity": str(course.pk)},
            "payment": {"method": "code", "code": code},
        },
        key="CO-1",
    )
    assert first.status_code == 201 and second.content == first.content
    assert Lot.objects.get().remaining == 30000 and Order.objects.count() == 1


def test_dated_activity_reschedule_unenroll_and_cancel_with_refund(api, course):
    from datetime import timedelta

    from tuition.core import clock

    start = clock.now() + timedelta(days=30)
    first = catalog.create_session(
        activity_id=course.pk,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        capacity=2,
        actor="t",
    )
    later = catalog.create_session(
        activity_id=course.pk,
        starts_at=start + timedelta(days=7),
        ends_at=start + timedelta(days=7, hours=8),
        capacity=2,
        actor="t",
    )
    code = _credit(api, AccountFactory(), value="300.00")["code"]
    missing = _checkout(api, code, course)
    assert error_code(missing) == "session_required"
    body = _checkout(api, code, course, session=str(first.pk)).json()
    registration = body["registration"]["id"]
    assert body["booking"]["session"] == str(first.pk)
    # find another time
    response = api.post(f"registrations/{registration}/reschedule", {"session": str(later.pk)})
    assert response.status_code == 200
    assert Booking.objects.get(status="active").session_id == later.pk
    # unenroll: the registration stays
    response = api.post(f"registrations/{registration}/unenroll", {})
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert not Booking.objects.filter(status="active").exists()
    # a move needs a booking; a new date is booked free of charge, with the same seat rules
    moved = api.post(f"registrations/{registration}/reschedule", {"session": str(first.pk)})
    assert moved.status_code == 422 and error_code(moved) == "session_required"
    response = api.post(f"registrations/{registration}/book", {"session": str(first.pk)})
    assert response.status_code == 200, response.json()
    bookings = response.json()["bookings"]
    assert [(b["session"], b["status"]) for b in bookings if b["status"] == "active"] == [
        (str(first.pk), "active")
    ]
    assert Transfer.objects.filter(kind="redeem").count() == 1
    assert Lot.objects.get().remaining == 0
    twice = api.post(f"registrations/{registration}/book", {"session": str(later.pk)})
    assert twice.status_code == 409 and error_code(twice) == "already_registered"
    assert error_code(api.post(f"registrations/{registration}/book", {})) == "validation_error"
    # cancel with a refund back into the same lot
    response = api.post(f"registrations/{registration}/cancel", {"refund": True})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Lot.objects.get().remaining == 30000
    assert Registration.objects.get().refunded
    again = api.post(f"registrations/{registration}/cancel", {"refund": True})
    assert again.status_code == 409 and error_code(again) == "already_cancelled"
    assert error_code(api.post("registrations/987654/cancel", {})) == "not_found"


def test_learners_see_only_their_registrations(api, session_api, course):
    code = _credit(api, AccountFactory(), value="300.00")["code"]
    registration = _checkout(api, code, course).json()["registration"]["id"]
    ana = UserFactory._meta.model.objects.get(email="ana@acme.test")
    stranger = UserFactory()
    assert session_api(ana).get(f"registrations/{registration}").status_code == 200
    foreign = session_api(stranger).get(f"registrations/{registration}")
    missing = session_api(stranger).get("registrations/987654")
    assert foreign.status_code == 404 and foreign.content == missing.content
    foreign = session_api(stranger).post(f"registrations/{registration}/cancel", {})
    assert error_code(foreign) == "not_found"
    assert Registration.objects.get().status == "active"
    order = Order.objects.get().pk
    assert error_code(session_api(stranger).get(f"orders/{order}")) == "not_found"
    assert error_code(session_api(stranger).get(f"orders/{order}/invoice")) == "not_found"


def test_a_person_checks_out_only_for_themselves(session_api, course, api):
    code = _credit(api, AccountFactory(), value="300.00")["code"]
    person = UserFactory()
    response = session_api(person).post(
        "checkout",
        {
            "learner": {"email": "someone@else.test"},
            "item": {"activity": str(course.pk)},
            "payment": {"method": "code", "code": code},
        },
    )
    assert error_code(response) == "permission_denied"
    response = session_api(person).post(
        "checkout",
        {"item": {"activity": str(course.pk)}, "payment": {"method": "code", "code": code}},
    )
    assert response.status_code == 201
    assert Order.objects.get().learner == person


def test_the_history_shows_a_change_of_the_scopes_items(api):
    # given a credit for two chosen activities
    from tests.factories import make_activity

    first, second, third = (make_activity(title=t) for t in ("One", "Two", "Three"))
    scope = {"kind": "activity", "all": False, "items": [str(first.pk), str(second.pk)]}
    credit = _credit(api, AccountFactory(), scope=scope)
    # when staff swap one of them
    changed = {"kind": "activity", "all": False, "items": [str(first.pk), str(third.pk)]}
    assert api.patch(f"credits/{credit['id']}", {"scope": changed}).status_code == 200
    # then the change history shows the old and the new list
    history = api.get(f"credits/{credit['id']}/history").json()
    assert history[-1]["changes"]["scope_item_list"] == [
        sorted([first.pk, second.pk]),
        sorted([first.pk, third.pk]),
    ]
    assert sorted(Lot.objects.get(pk=credit["id"]).scope_item_ids()) == sorted([first.pk, third.pk])


def test_a_new_learners_name_from_the_checkout_is_kept(api, course):
    code = _credit(api, AccountFactory(), value="300.00")["code"]
    assert _checkout(api, code, course).status_code == 201
    learner = UserFactory._meta.model.objects.get(email="ana@acme.test")
    assert learner.name == "Ana"
