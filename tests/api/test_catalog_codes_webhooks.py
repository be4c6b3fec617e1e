"""Codes, coupons, catalog, usage and webhooks over the API: success, every refusal, and bad
input that writes nothing."""

from datetime import timedelta

import pytest

from tests.api_support import Api, error_code
from tests.factories import AccountFactory, MembershipFactory, UserFactory, issue, usd
from tuition.catalog import services as catalog
from tuition.catalog.models import Activity, Group, Session, TokenPrice
from tuition.codes import selectors as code_selectors
from tuition.codes.models import Coupon, RedemptionCode
from tuition.core import clock
from tuition.ledger.models import Unit
from tuition.notifications.models import (
    DeliveryStatus,
    NotificationEvent,
    WebhookDelivery,
    WebhookSubscription,
)

pytestmark = pytest.mark.django_db

MISSING = "987654321"

# These run without the test's enclosing transaction, as a request does: a refusal raised
# half-way through a service must roll back the whole use case.
REAL_TRANSACTIONS = pytest.mark.django_db(transaction=True)


def _course(price: int = 30000, **kwargs):  # type: ignore[no-untyped-def]
    return catalog.create_activity(title="Cloud Fundamentals", price=price, actor="t", **kwargs)


def _checkout(api, code: str, item, email: str = "ana@acme.test"):  # type: ignore[no-untyped-def]
    return api.post(
        "checkout",
        {
            "learner": {"email": email},
            "item": {"activity": str(item.pk)},
            "payment": {"method": "code", "code": code},
        },
    )


# Codes ----------------------------------------------------------------------------------------


def test_owner_makes_a_pool_code_that_pays_at_checkout(session_api, owner_of, api):
    # given
    account, owner = owner_of()
    issue(account, 50000)
    course = _course()
    me = session_api(owner)
    # when
    response = me.post("codes", {"account": str(account.pk), "kind": "pool", "label": "Team"})
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    code = RedemptionCode.objects.get(pk=body["id"])
    assert body["kind"] == "pool" and body["unit"] == "USD" and body["label"] == "Team"
    assert code.account_id == account.pk and code_selectors.reveal_code(code) == body["code"]
    assert body["code"].replace("-", "")[-4:] == body["hint"]
    # the owner sees it listed with its text; it pays
    listed = me.get(f"codes?account={account.pk}").json()["results"]
    assert [c["code"] for c in listed] == [body["code"]]
    assert _checkout(api, body["code"], course).status_code == 201


def test_member_code_with_a_cap_and_custom_text(api, owner_of):
    account, _ = owner_of()
    member = UserFactory(email="ana@acme.test")
    MembershipFactory(account=account, user=member)
    response = api.post(
        "codes",
        {
            "account": str(account.pk),
            "kind": "member",
            "member_email": "ANA@acme.test",
            "cap": "250.00",
            "code": "ana-training-2027",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["member"] == "ana@acme.test" and body["cap"] == {"amount": "250.00", "unit": "USD"}
    assert (
        body["spent"] == {"amount": "0.00", "unit": "USD"} and body["code"] == "ANA-TRAINING-2027"
    )
    assert RedemptionCode.objects.get(pk=body["id"]).cap == 25000
    # the same text again is taken
    again = api.post(
        "codes", {"account": str(account.pk), "kind": "pool", "code": "ana training 2027"}
    )
    assert again.status_code == 400 and again.json()["error"]["details"]["field"] == "code"
    assert RedemptionCode.objects.count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "lot"},
        {"kind": "coupon"},
        {"kind": "pool", "unit": "NOPE"},
        {"kind": "pool", "cap": "5"},
        {"kind": "pool", "member_email": "x@y.test"},
        {"kind": "member"},
        {"kind": "member", "member_email": "stranger@y.test"},
        {"kind": "member", "member_email": "ana@acme.test", "cap": "0"},
        {"kind": "member", "member_email": "ana@acme.test", "cap": "1.001"},
        {"kind": "member", "member_email": "ana@acme.test", "cap": 2.5},
        {"kind": "pool", "code": "é"},
        {"kind": "pool", "code": 12},
        {"kind": "pool", "spent": "1"},
        {"kind": "pool", "account": "abc"},
    ],
)
def test_code_creation_refuses_bad_input_and_writes_nothing(api, owner_of, fields):
    account, _ = owner_of()
    MembershipFactory(account=account, user=UserFactory(email="ana@acme.test"))
    response = api.post("codes", {"account": str(account.pk), **fields})
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not RedemptionCode.objects.exists()


def test_code_for_a_missing_account_is_not_found(api):
    response = api.post("codes", {"account": MISSING, "kind": "pool"})
    assert response.status_code == 404 and error_code(response) == "not_found"
    assert not RedemptionCode.objects.exists()


def test_deactivate_rotate_and_delete_a_code(api, owner_of):
    account, _ = owner_of()
    issue(account, 50000)
    course = _course()
    created = api.post("codes", {"account": str(account.pk), "kind": "pool"}).json()
    code_id = created["id"]
    # deactivate: the code stops paying
    response = api.patch(f"codes/{code_id}", {"status": "inactive"})
    assert response.status_code == 200 and response.json()["status"] == "inactive"
    assert error_code(_checkout(api, created["code"], course)) == "code_inactive"
    assert api.patch(f"codes/{code_id}", {"status": "paused"}).status_code == 400
    assert api.patch(f"codes/{code_id}", {"kind": "member"}).status_code == 400
    assert api.patch(f"codes/{code_id}", {"status": "active"}).json()["status"] == "active"
    # rotate: the old text stops working, the new one pays
    rotated = api.post(f"codes/{code_id}/rotate", {})
    assert rotated.status_code == 200 and rotated.json()["code"] != created["code"]
    assert error_code(_checkout(api, created["code"], course)) == "code_not_found"
    assert _checkout(api, rotated.json()["code"], course).status_code == 201
    assert api.post(f"codes/{code_id}/rotate", {"code": 5}).status_code == 400
    # delete: gone from lists, never works again
    assert api.delete(f"codes/{code_id}").status_code == 204
    assert error_code(api.get(f"codes/{code_id}")) == "not_found"
    assert error_code(api.delete(f"codes/{code_id}")) == "not_found"
    assert error_code(api.post(f"codes/{code_id}/rotate", {})) == "not_found"
    assert api.get("codes").json()["count"] == 0
    assert RedemptionCode.objects.get(pk=code_id).deleted_at is not None


def test_a_credit_code_is_not_managed_as_an_account_code(api, owner_of):
    account, _ = owner_of()
    lot = issue(account, 100)
    credit_code = api.post("credits", {"account": str(account.pk), "redeemable_value": "5"}).json()
    lot_code = RedemptionCode.objects.get(lot_id=credit_code["id"])
    assert lot.pk != lot_code.lot_id
    assert error_code(api.get(f"codes/{lot_code.pk}")) == "not_found"
    assert error_code(api.delete(f"codes/{lot_code.pk}")) == "not_found"


def test_codes_need_the_right_key_scope(make_key, owner_of):
    from django.test import Client

    account, _ = owner_of()
    reader = Api(Client(), make_key("credits:read"))
    assert reader.get("codes").status_code == 200
    response = reader.post("codes", {"account": str(account.pk), "kind": "pool"})
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert not RedemptionCode.objects.exists()


def test_a_member_never_sees_the_accounts_codes(api, session_api, owner_of):
    account, _ = owner_of()
    member = UserFactory()
    MembershipFactory(account=account, user=member, can_view_balance=True)
    created = api.post("codes", {"account": str(account.pk), "kind": "pool"}).json()
    me = session_api(member)
    assert me.get("codes").json()["count"] == 0
    assert error_code(me.get(f"codes/{created['id']}")) == "not_found"
    assert error_code(me.post("codes", {"account": str(account.pk), "kind": "pool"})) == "not_found"
    assert RedemptionCode.objects.count() == 1


# Coupons --------------------------------------------------------------------------------------


def test_coupon_crud(api):
    course = _course()
    response = api.post(
        "coupons",
        {
            "name": "Spring",
            "percent_off": "10",
            "code": "SPRING10",
            "max_uses": 5,
            "once_per_learner": True,
            "scope": {"kind": "activity", "all": False, "items": [str(course.pk)]},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    coupon = Coupon.objects.get(pk=body["id"])
    assert coupon.percent_off_bp == 1000 and body["percent_off"] == "10.00"
    assert body["code"] == "SPRING10" and body["amount_off"] is None
    assert body["scope"]["items"] == [{"kind": "activity", "id": str(course.pk)}]
    # it discounts a card checkout
    quote = api.post(
        "checkout/quote",
        {
            "learner": {"email": "ana@acme.test"},
            "item": {"activity": str(course.pk)},
            "payment": {"method": "card", "coupon": "spring10"},
        },
    )
    assert quote.json()["payable"]["amount"] == "270.00"
    # edit
    response = api.patch(f"coupons/{coupon.pk}", {"status": "inactive", "max_uses": 9})
    assert response.status_code == 200 and response.json()["max_uses"] == 9
    assert Coupon.objects.get().status == "inactive"
    response = api.patch(f"coupons/{coupon.pk}", {"scope": {"kind": "group"}})
    assert response.status_code == 409 and error_code(response) == "scope_kind_immutable"
    assert api.patch(f"coupons/{coupon.pk}", {"percent_off": "50"}).status_code == 400
    assert api.get("coupons").json()["count"] == 1
    assert api.get(f"coupons/{coupon.pk}").json()["name"] == "Spring"
    # delete
    assert api.delete(f"coupons/{coupon.pk}").status_code == 204
    assert error_code(api.get(f"coupons/{coupon.pk}")) == "not_found"
    assert error_code(api.patch(f"coupons/{coupon.pk}", {"name": "x"})) == "not_found"
    assert error_code(api.delete(f"coupons/{coupon.pk}")) == "not_found"
    assert api.get("coupons").json()["count"] == 0


def test_a_fixed_amount_coupon(api):
    response = api.post("coupons", {"name": "Fifty off", "amount_off": "50.00"})
    assert response.status_code == 201 and response.json()["amount_off"] == {
        "amount": "50.00",
        "unit": "USD",
    }
    assert Coupon.objects.get().amount_off == 5000


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"name": "x"},
        {"name": "x", "percent_off": "10", "amount_off": "5"},
        {"name": "x", "percent_off": "0"},
        {"name": "x", "percent_off": "100.01"},
        {"name": "x", "percent_off": "10.001"},
        {"name": "x", "amount_off": 1.5},
        {"name": "x", "amount_off": "NaN"},
        {"name": "", "amount_off": "5"},
        {"name": "x", "amount_off": "5", "max_uses": 0},
        {
            "name": "x",
            "amount_off": "5",
            "valid_from": "2027-01-02T00:00:00Z",
            "valid_until": "2027-01-01T00:00:00Z",
        },
        {"name": "x", "amount_off": "5", "valid_until": "2027-01-01T00:00:00"},
        {"name": "x", "amount_off": "5", "scope": {"kind": "activity", "all": False}},
        {"name": "x", "amount_off": "5", "scope": {"kind": "any", "all": False, "items": ["1"]}},
        {"name": "x", "amount_off": "5", "uses": 3},
        {"name": "x", "amount_off": "5", "code": "bad code ✓"},
    ],
)
@REAL_TRANSACTIONS
def test_coupon_creation_refuses_bad_input_and_writes_nothing(api, fields):
    response = api.post("coupons", fields)
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not Coupon.objects.exists() and not RedemptionCode.objects.exists()


@REAL_TRANSACTIONS
def test_a_coupon_code_shares_the_code_space_with_credits(api):
    usd()  # an earlier test without a transaction may have emptied the units table
    account = AccountFactory()
    taken = api.post("codes", {"account": str(account.pk), "kind": "pool", "code": "TAKEN-2027"})
    assert taken.status_code == 201, taken.json()
    response = api.post("coupons", {"name": "x", "amount_off": "5", "code": "taken 2027"})
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not Coupon.objects.exists()


def test_coupons_are_for_the_provider_only(session_api, owner_of, api):
    coupon = api.post("coupons", {"name": "x", "amount_off": "5"}).json()
    _, owner = owner_of()
    me = session_api(owner)
    for response in (
        me.get("coupons"),
        me.get(f"coupons/{coupon['id']}"),
        me.post("coupons", {"name": "y", "amount_off": "5"}),
        me.delete(f"coupons/{coupon['id']}"),
    ):
        assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert Coupon.objects.filter(deleted_at__isnull=True).count() == 1


# Catalog --------------------------------------------------------------------------------------


@pytest.fixture
def tokens(db):  # type: ignore[no-untyped-def]
    return Unit.objects.create(code="TT", name="Training Token", decimals=0)


def test_create_and_edit_an_activity_with_token_prices(api, tokens):
    response = api.post(
        "activities",
        {
            "title": "Cloud Fundamentals",
            "price": "300.00",
            "token_prices": [{"unit": "tt", "amount": "3"}],
            "refund_window_days": 14,
            "kind": "certification",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    activity = Activity.objects.get(pk=body["id"])
    assert activity.price == 30000 and body["price"] == {"amount": "300.00", "unit": "USD"}
    assert body["token_prices"] == [{"unit": "TT", "amount": "3"}]
    assert TokenPrice.objects.get().amount == 3 and body["is_dated"] is False
    # edit
    response = api.patch(
        f"activities/{activity.pk}", {"price": "250", "token_prices": [], "is_published": False}
    )
    assert response.status_code == 200 and response.json()["price"] == {
        "amount": "250.00",
        "unit": "USD",
    }
    assert not TokenPrice.objects.exists() and not Activity.objects.get().is_published
    assert api.get(f"activities/{activity.pk}").json()["title"] == "Cloud Fundamentals"
    assert error_code(api.patch(f"activities/{MISSING}", {"title": "x"})) == "not_found"
    assert error_code(api.get(f"activities/{MISSING}")) == "not_found"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"title": ""},
        {"title": "x", "price": "-1"},
        {"title": "x", "price": "1.001"},
        {"title": "x", "price": 3.5},
        {"title": "x", "kind": "party"},
        {"title": "x", "refund_window_days": -1},
        {"title": "x", "refund_window_days": "3"},
        {"title": "x", "token_prices": [{"unit": "USD", "amount": "3"}]},
        {"title": "x", "token_prices": [{"unit": "NOPE", "amount": "3"}]},
        {"title": "x", "token_prices": [{"unit": "TT", "amount": "1.5"}]},
        {
            "title": "x",
            "token_prices": [{"unit": "TT", "amount": "1"}, {"unit": "tt", "amount": "2"}],
        },
        {"title": "x", "is_dated": True},
        {"title": 5},
    ],
)
@REAL_TRANSACTIONS
def test_activity_creation_refuses_bad_input_and_writes_nothing(api, tokens, fields):
    response = api.post("activities", fields)
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not Activity.objects.exists() and not TokenPrice.objects.exists()


def test_learners_read_the_published_catalog_but_never_write(session_api, api):
    shown, hidden = _course(), _course(is_published=False)
    learner = session_api(UserFactory())
    assert [a["id"] for a in learner.get("activities").json()["results"]] == [str(shown.pk)]
    assert error_code(learner.get(f"activities/{hidden.pk}")) == "not_found"
    assert api.get(f"activities/{hidden.pk}").status_code == 200
    response = learner.post("activities", {"title": "Mine"})
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    response = learner.patch(f"activities/{shown.pk}", {"title": "Mine"})
    assert response.status_code == 403 and Activity.objects.get(pk=shown.pk).title != "Mine"


def test_groups(api, tokens):
    a, b = _course(), _course()
    response = api.post(
        "groups",
        {
            "title": "Cloud Path",
            "price": "800.00",
            "activities": [str(a.pk), str(b.pk)],
            "token_prices": [{"unit": "TT", "amount": "8"}],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["activities"] == [str(a.pk), str(b.pk)] and body["price"] == {
        "amount": "800.00",
        "unit": "USD",
    }
    group = Group.objects.get()
    response = api.patch(f"groups/{group.pk}", {"activities": [str(a.pk)]})
    assert response.json()["activities"] == [str(a.pk)]
    assert list(group.activities.values_list("pk", flat=True)) == [a.pk]
    response = api.patch(f"groups/{group.pk}", {"activities": [MISSING]})
    assert response.status_code == 400 and group.activities.count() == 1
    response = api.post("groups", {"title": "Broken", "activities": [MISSING]})
    assert response.status_code == 400 and Group.objects.count() == 1
    assert api.post("groups", {"title": "x", "activities": "1"}).status_code == 400
    assert api.get("groups").json()["count"] == 1
    assert error_code(api.get(f"groups/{MISSING}")) == "not_found"
    assert error_code(api.patch(f"groups/{MISSING}", {"title": "x"})) == "not_found"


def test_sessions(api, session_api):
    course = _course()
    start = clock.now() + timedelta(days=30)
    response = api.post(
        "sessions",
        {
            "activity": str(course.pk),
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=8)).isoformat(),
            "timezone": "Europe/Berlin",
            "capacity": 12,
            "location": "Online",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["seats_left"] == 12 and body["booked"] == 0
    assert Activity.objects.get().is_dated
    session_id = body["id"]
    # learners see upcoming sessions
    learner = session_api(UserFactory())
    listed = learner.get(f"sessions?activity={course.pk}&upcoming=true").json()["results"]
    assert [s["id"] for s in listed] == [session_id]
    # edit, cancel
    assert api.patch(f"sessions/{session_id}", {"capacity": 20}).json()["capacity"] == 20
    response = api.patch(f"sessions/{session_id}", {"ends_at": start.isoformat()})
    assert response.status_code == 400 and Session.objects.get().ends_at > start
    assert api.patch(f"sessions/{session_id}", {"is_cancelled": True}).status_code == 200
    assert error_code(learner.get(f"sessions/{session_id}")) == "not_found"
    assert (
        error_code(learner.patch(f"sessions/{session_id}", {"capacity": 1})) == "permission_denied"
    )
    assert error_code(api.patch(f"sessions/{MISSING}", {"capacity": 1})) == "not_found"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"activity": MISSING},
        {"ends_at": "START"},
        {"timezone": "Mars/Olympus"},
        {"capacity": 0},
        {"capacity": "3"},
        {"starts_at": "2027-01-10T09:00:00"},
        {"booked": 3},
    ],
)
def test_session_creation_refuses_bad_input_and_writes_nothing(api, fields):
    course = _course()
    start = clock.now() + timedelta(days=3)
    body = {
        "activity": str(course.pk),
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "capacity": 5,
    }
    if fields:
        body.update({k: (start.isoformat() if v == "START" else v) for k, v in fields.items()})
    else:
        body = {}
    response = api.post("sessions", body)
    expected = 404 if fields.get("activity") == MISSING else 400
    assert response.status_code == expected, response.json()
    assert not Session.objects.exists() and not Activity.objects.get().is_dated


# Usage by team member ---------------------------------------------------------------------------


def test_usage_by_team_member(api, session_api, owner_of):
    account, owner = owner_of()
    issue(account, 100000)
    a, b = _course(30000), _course(20000)
    ana, bo = UserFactory(email="ana@acme.test"), UserFactory(email="bo@acme.test")
    MembershipFactory(account=account, user=ana)
    code = api.post("codes", {"account": str(account.pk), "kind": "pool"}).json()["code"]
    assert _checkout(api, code, a, "ana@acme.test").status_code == 201
    assert _checkout(api, code, b, "ana@acme.test").status_code == 201
    assert _checkout(api, code, b, "bo@acme.test").status_code == 201
    # when
    response = session_api(owner).get(f"accounts/{account.pk}/usage")
    # then
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [
        (r["email"], r["unit"], r["spent"]["amount"], r["redemptions"], r["is_member"])
        for r in rows
    ] == [("ana@acme.test", "USD", "500.00", 2, True), ("bo@acme.test", "USD", "200.00", 1, False)]
    assert bo.pk and api.get(f"accounts/{account.pk}/usage?unit=TT").json()["count"] == 0
    future = (clock.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert api.get(f"accounts/{account.pk}/usage?from={future}").json()["count"] == 0
    assert api.get(f"accounts/{account.pk}/usage?from=yesterday").status_code == 400
    assert error_code(api.get(f"accounts/{MISSING}/usage")) == "not_found"


# Webhooks -------------------------------------------------------------------------------------


def test_webhook_subscription_lifecycle(api):
    account = AccountFactory()
    response = api.post(
        "webhooks",
        {
            "url": "https://hooks.example.test/tuition",
            "event_kinds": ["credit.issued", "credit.redeemed"],
            "account": str(account.pk),
            "description": "CRM",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["account"] == str(account.pk)
    subscription = WebhookSubscription.objects.get(pk=body["id"])
    assert subscription.secret == body["secret"]
    # the secret is never listed
    listed = api.get("webhooks").json()["results"]
    assert [w["id"] for w in listed] == [body["id"]] and "secret" not in listed[0]
    assert "secret" not in api.get(f"webhooks/{subscription.pk}").json()
    assert api.get(f"webhooks?account={account.pk}").json()["count"] == 1
    assert api.get(f"webhooks?account={MISSING}").json()["count"] == 0
    # edit
    response = api.patch(f"webhooks/{subscription.pk}", {"is_active": False, "event_kinds": []})
    assert response.status_code == 200 and response.json()["event_kinds"] == []
    assert not WebhookSubscription.objects.get().is_active
    assert api.patch(f"webhooks/{subscription.pk}", {"event_kinds": ["x"]}).status_code == 400
    assert api.patch(f"webhooks/{subscription.pk}", {"url": "ftp://x"}).status_code == 400
    # rotate: a new secret, the old one signs for the grace period
    rotated = api.post(f"webhooks/{subscription.pk}/rotate-secret", {"grace_hours": 2})
    assert rotated.status_code == 200 and rotated.json()["secret"] != body["secret"]
    assert WebhookSubscription.objects.get().previous_secret == body["secret"]
    # delete
    assert api.delete(f"webhooks/{subscription.pk}").status_code == 204
    for response in (
        api.get(f"webhooks/{subscription.pk}"),
        api.delete(f"webhooks/{subscription.pk}"),
        api.post(f"webhooks/{subscription.pk}/rotate-secret", {}),
        api.get(f"webhooks/{subscription.pk}/deliveries"),
    ):
        assert response.status_code == 404 and error_code(response) == "not_found"
    assert api.get("webhooks").json()["count"] == 0


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"url": ""},
        {"url": "ftp://hooks.example.test"},
        {"url": "https://u:p@example.test"},
        {"url": "https://example.test", "event_kinds": ["nope"]},
        {"url": "https://example.test", "event_kinds": "credit.issued"},
        {"url": "https://example.test", "account": MISSING},
        {"url": "https://example.test", "secret": "mine"},
        {"url": 5},
    ],
)
def test_webhook_creation_refuses_bad_input_and_writes_nothing(api, fields):
    response = api.post("webhooks", fields)
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not WebhookSubscription.objects.exists()


def test_webhook_private_address_is_refused_in_production(api, settings):
    settings.TUITION = {**settings.TUITION, "WEBHOOKS_ALLOW_PRIVATE": False}
    response = api.post("webhooks", {"url": "http://127.0.0.1:8000/hook"})
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not WebhookSubscription.objects.exists()


def test_webhook_deliveries_and_resend(api, monkeypatch):
    from tuition.notifications import services as notification_services

    sent: list[list[int]] = []
    monkeypatch.setattr(
        notification_services,
        "enqueue_sending",
        lambda webhook_ids=(), **_: sent.append(list(webhook_ids)),
    )
    account = AccountFactory()
    subscription = WebhookSubscription.objects.create(
        url="https://hooks.example.test", secret="whsec_x", created_at=clock.now()
    )
    event = NotificationEvent.objects.create(
        kind="credit.issued", account=account, data={}, created_at=clock.now()
    )
    delivery = WebhookDelivery.objects.create(
        event=event,
        subscription=subscription,
        status=DeliveryStatus.DEAD,
        attempts=8,
        next_attempt_at=clock.now(),
        created_at=clock.now(),
        last_error="HTTP 500",
    )
    # the log
    listed = api.get(f"webhooks/{subscription.pk}/deliveries").json()["results"]
    assert [(d["id"], d["status"], d["event_kind"]) for d in listed] == [
        (str(delivery.pk), "dead", "credit.issued")
    ]
    assert api.get(f"webhooks/{subscription.pk}/deliveries?status=sent").json()["count"] == 0
    # resend
    response = api.post(f"webhooks/{subscription.pk}/deliveries/{delivery.pk}/resend")
    assert response.status_code == 202 and response.json()["status"] == "pending"
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 0 and sent == [[delivery.pk]]
    # a delivery of another subscription is not found through this one
    other = WebhookSubscription.objects.create(
        url="https://x.test", secret="whsec_y", created_at=clock.now()
    )
    response = api.post(f"webhooks/{other.pk}/deliveries/{delivery.pk}/resend")
    assert response.status_code == 404 and error_code(response) == "not_found"
    assert (
        error_code(api.post(f"webhooks/{subscription.pk}/deliveries/{MISSING}/resend"))
        == "not_found"
    )


def test_webhooks_need_the_admin_scope_and_the_provider(make_key, session_api, owner_of):
    from django.test import Client

    reader = Api(Client(), make_key("credits:read", "credits:write"))
    response = reader.post("webhooks", {"url": "https://example.test"})
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert error_code(reader.get("webhooks")) == "permission_denied"
    _, owner = owner_of()
    response = session_api(owner).post("webhooks", {"url": "https://example.test"})
    assert response.status_code == 403 and not WebhookSubscription.objects.exists()


# Authentication and key scopes ----------------------------------------------------------------

NEW_OPERATIONS = [
    ("GET", "codes"),
    ("POST", "codes"),
    ("GET", "codes/1"),
    ("PATCH", "codes/1"),
    ("DELETE", "codes/1"),
    ("POST", "codes/1/rotate"),
    ("GET", "coupons"),
    ("POST", "coupons"),
    ("GET", "coupons/1"),
    ("PATCH", "coupons/1"),
    ("DELETE", "coupons/1"),
    ("GET", "activities"),
    ("POST", "activities"),
    ("GET", "activities/1"),
    ("PATCH", "activities/1"),
    ("GET", "groups"),
    ("POST", "groups"),
    ("GET", "groups/1"),
    ("PATCH", "groups/1"),
    ("GET", "sessions"),
    ("POST", "sessions"),
    ("GET", "sessions/1"),
    ("PATCH", "sessions/1"),
    ("GET", "accounts/1/usage"),
    ("GET", "webhooks"),
    ("POST", "webhooks"),
    ("GET", "webhooks/1"),
    ("PATCH", "webhooks/1"),
    ("DELETE", "webhooks/1"),
    ("POST", "webhooks/1/rotate-secret"),
    ("GET", "webhooks/1/deliveries"),
    ("POST", "webhooks/1/deliveries/1/resend"),
]


@pytest.mark.parametrize(("method", "path"), NEW_OPERATIONS)
def test_every_new_operation_needs_authentication(client, method, path):

    response = Api(client).call(method, path, None if method in ("GET", "DELETE") else {})
    assert response.status_code == 401 and error_code(response) == "not_authenticated"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "activities", {"title": "x"}),
        ("PATCH", "activities/{activity}", {"title": "x"}),
        ("POST", "groups", {"title": "x"}),
        ("POST", "sessions", {}),
        ("POST", "coupons", {"name": "x", "amount_off": "5"}),
        ("POST", "codes", {"kind": "pool"}),
        ("PATCH", "codes/{code}", {"status": "inactive"}),
        ("DELETE", "codes/{code}", None),
        ("POST", "codes/{code}/rotate", {}),
    ],
)
def test_writes_need_their_key_scope(make_key, owner_of, method, path, body):
    from django.test import Client

    account, _ = owner_of()
    activity = _course()
    from tuition.codes.services import create_pool_code

    code = create_pool_code(account_id=account.pk, unit=usd(), actor="t").code
    before = (
        Activity.objects.count(),
        Group.objects.count(),
        Coupon.objects.count(),
        list(RedemptionCode.objects.values_list("pk", "status", "digest", "deleted_at")),
    )
    reader = Api(Client(), make_key("credits:read", "checkout", "reports"))
    if body is not None and "kind" in body:
        body = {**body, "account": str(account.pk)}
    response = reader.call(method, path.format(activity=activity.pk, code=code.pk), body)
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert (
        Activity.objects.count(),
        Group.objects.count(),
        Coupon.objects.count(),
        list(RedemptionCode.objects.values_list("pk", "status", "digest", "deleted_at")),
    ) == before
