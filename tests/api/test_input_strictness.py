"""Bad input is `validation_error` (400) with a clear message and writes nothing: lone
surrogates in bodies, unknown or invalid query parameters, amounts that are not decimal
strings, ids that are not strings."""

import pytest

from tests.factories import AccountFactory, issue
from tuition.catalog.models import Activity
from tuition.core.models import IdempotencyRecord
from tuition.ledger.models import Lot, Transfer

from .conftest import error_code

pytestmark = pytest.mark.django_db


# A lone surrogate, escaped as JSON allows, in a body that takes an Idempotency-Key.


@pytest.mark.parametrize(
    "path, body",
    [
        ("credits", '{"account": "%s", "redeemable_value": "10.00", "notes": "\\ud800"}'),
        ("credits", '{"account": "%s", "redeemable_value": "10.00", "\\udfff": "x"}'),
        ("credits/bulk", '{"action": "deactivate", "ids": ["\\ud800"], "x": "%s"}'),
    ],
)
def test_a_lone_surrogate_in_an_idempotent_body_is_a_validation_error(api, path, body):
    # given
    account = AccountFactory()
    # when
    response = api.call("POST", path, raw=body % account.pk, idempotency_key="surrogate-1")
    # then
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert "surrogate" in response.json()["error"]["message"]
    assert not Lot.objects.exists() and not IdempotencyRecord.objects.exists()


# Unknown and invalid query parameters


@pytest.mark.parametrize(
    "path",
    [
        "credits?status=AAA",
        "transactions?kind=bogus",
        "codes?kind=bogus",
        "registrations?status=AAA",
        "credits?bogus=1",
        "accounts?externalid=crm-1",
        "units?page_size=0",
        "units?page=abc",
        "units?page_size=5.0",
        "transactions?from=2027-02-30",
        "orders?ordering=title",
        "sessions?upcoming=yes",
        "credits?status=active&status=inactive",
        "units/USD?x=1",
    ],
)
def test_an_unknown_or_invalid_query_parameter_is_a_validation_error(api, path):
    # given
    issue(AccountFactory(), 5000)
    # when
    response = api.get(path)
    # then
    assert response.status_code == 400, response.json()
    assert error_code(response) == "validation_error"
    assert response.json()["error"]["details"]["fields"]


def test_an_impossible_date_in_a_usage_filter_is_a_validation_error(api):
    account = AccountFactory()
    response = api.get(f"accounts/{account.pk}/usage?from=2027-02-30")
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert "from" in response.json()["error"]["details"]["fields"]


def test_valid_filters_still_filter(api):
    # given
    account = AccountFactory()
    kept = issue(account, 5000)
    dropped = issue(AccountFactory(), 7000)
    api.patch(f"credits/{dropped.pk}", {"status": "inactive"})
    # when
    active = api.get("credits?status=active&page_size=10&ordering=created_at").json()
    issues = api.get(f"transactions?kind=issue&account={account.pk}").json()
    # then
    assert [c["id"] for c in active["results"]] == [str(kept.pk)]
    assert [t["kind"] for t in issues["results"]] == ["issue"]
    assert Transfer.objects.filter(kind="issue").count() == 2


# Amounts are decimal strings, nothing else


@pytest.mark.parametrize(
    "price",
    [0, 300, 300.0, " 10.00 ", "10.00 ", "+10.00", "1e3", "010.00", "10.", ".5", "10.001"],
)
def test_an_amount_that_is_not_a_plain_decimal_string_is_refused(api, price):
    # when
    response = api.post("activities", {"title": "Cloud", "price": price})
    # then
    assert response.status_code == 400 and error_code(response) == "validation_error"
    message = str(response.json()["error"]["details"]["fields"]["price"])
    assert "decimal string" in message
    assert not Activity.objects.exists()


@pytest.mark.parametrize("value", [500, "500", " 5.00", "5.00\n"])
def test_a_credit_value_must_be_a_decimal_string(api, value):
    account = AccountFactory()
    response = api.post(
        "credits", {"account": str(account.pk), "redeemable_value": value, "unit": "USD"}
    )
    if value == "500":
        assert response.status_code == 201, response.json()
        assert Lot.objects.get().remaining == 50000
    else:
        assert response.status_code == 400 and error_code(response) == "validation_error"
        assert not Lot.objects.exists()


def test_a_token_price_amount_given_as_a_number_is_refused(api):
    response = api.post(
        "activities", {"title": "Cloud", "token_prices": [{"unit": "USD", "amount": 3}]}
    )
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not Activity.objects.exists()


def test_an_id_given_as_a_number_is_refused(api):
    account = AccountFactory()
    response = api.post("credits", {"account": account.pk, "redeemable_value": "5.00"})
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert "account" in response.json()["error"]["details"]["fields"]
    assert not Lot.objects.exists()


@pytest.mark.parametrize("raw", ["null", "[]", "0", "false", '""'])
def test_a_body_that_is_not_an_object_is_refused_even_where_the_body_is_optional(api, raw):
    # given: a registration-free operation whose body is optional (a webhook's secret rotation)
    created = api.post("webhooks", {"url": "https://crm.example.com/hooks"}).json()
    # when
    response = api.call("POST", f"webhooks/{created['id']}/rotate-secret", raw=raw)
    # then
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert api.call("POST", f"webhooks/{created['id']}/rotate-secret", raw="{}").status_code == 200
