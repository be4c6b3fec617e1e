"""Every failure under /api/ answers with the §4 envelope, and bad input writes nothing."""

import pytest
from django.test import override_settings

from tuition.accounts.models import TrainingAccount
from tuition.ledger.models import Unit

from .conftest import error_code

pytestmark = pytest.mark.django_db


def test_unknown_api_path_is_a_json_not_found(api):
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and error_code(response) == "not_found"
    response = api.get("/api/nowhere/")
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_wrong_method_is_a_json_method_not_allowed(api):
    response = api.call("PUT", "units", {"code": "X"})
    assert response.status_code == 405 and error_code(response) == "method_not_allowed"
    assert "GET" in response["Allow"]


def test_wrong_content_type_is_unsupported_media_type(api):
    response = api.call("POST", "units", raw="code=TT", content_type="text/plain")
    assert response.status_code == 415 and error_code(response) == "unsupported_media_type"
    assert Unit.objects.count() == 1


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_over_the_limit_is_payload_too_large(api):
    response = api.call("POST", "accounts", {"name": "A" * 2000})
    assert response.status_code == 413 and error_code(response) == "payload_too_large"
    assert not TrainingAccount.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_over_the_limit_without_content_length_is_payload_too_large(api):
    # The parser applies the limit itself: a body whose declared length is wrong or missing
    # must not slip past it.
    from tuition.api.parsers import PayloadTooLarge, StrictJSONParser

    with pytest.raises(PayloadTooLarge):
        StrictJSONParser().parse(__import__("io").BytesIO(b'{"a": "' + b"x" * 2000 + b'"}'))


@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "Acme", ',
        '{"name": NaN}',
        '{"name": Infinity}',
        '{"name": -Infinity}',
        '{"name": "A", "name": "B"}',
        "[" * 100 + "]" * 100,
        "\xff\xfe",
        '"just a string"',
        "[]",
        "null",
    ],
)
def test_malformed_json_is_a_validation_error_and_writes_nothing(api, raw):
    response = api.call("POST", "accounts", raw=raw)
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not TrainingAccount.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"name": 12},
        {"name": 1.5},
        {"name": None},
        {"name": ["Acme"]},
        {"name": ""},
        {"name": "Acme", "unknown": 1},
        {"name": "Acme", "id": "5"},
        {"name": "Acme", "redeemers": "everyone"},
        {"name": "Acme", "owners": "olga@acme.test"},
        {"name": "Acme", "owners": ["not-an-email"]},
        {"name": "Acme", "owners": [1]},
        {"name": "x" * 201},
        {"name": "Acme\x00"},
        {},
    ],
)
def test_wrong_types_and_unknown_fields_are_validation_errors_and_write_nothing(api, body):
    response = api.post("accounts", body)
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not TrainingAccount.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"code": "LT", "name": "Lab", "decimals": 7},
        {"code": "LT", "name": "Lab", "decimals": 1.0},
        {"code": "LT", "name": "Lab", "decimals": "2"},
        {"code": "LT", "name": "Lab", "decimals": True},
        {"code": "LT", "name": "Lab", "decimals": 10**30},
        {"code": "LT", "name": "Lab", "decimals": -1},
        {"code": "L T", "name": "Lab"},
        {"code": "USD", "name": "Again"},
    ],
)
def test_units_refuse_bad_numbers(api, body):
    response = api.post("units", body)
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert Unit.objects.count() == 1


def test_a_crash_answers_with_the_envelope(api, monkeypatch, client):
    from tuition import ledger_api

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(ledger_api.UnitListView, "get", explode)
    api.client.raise_request_exception = False
    response = api.get("units")
    assert response.status_code == 500 and error_code(response) == "server_error"
    assert b"boom" not in response.content


def test_pages_outside_the_api_keep_html_errors(client):
    response = client.get("/no-such-page-anywhere/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
