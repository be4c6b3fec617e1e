"""The OpenAPI document describes what the server does: the error codes it answers with, a tag,
summary and example for every operation, declared query parameters and headers."""

import json

import pytest
from django.test import Client

from tuition.api.base import error_codes
from tuition.api.errors import ERROR_CODES

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(schema):  # type: ignore[no-untyped-def]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_error_code_enum_is_every_code_the_server_answers_with(schema):
    assert sorted(ERROR_CODES) == error_codes()
    assert schema["components"]["schemas"]["ErrorCodeEnum"]["enum"] == ERROR_CODES


def test_every_operation_has_a_resource_tag_a_summary_and_an_example(schema):
    for path, method, operation in _operations(schema):
        assert operation["tags"] == [path.split("/")[3]], (path, method)
        assert operation.get("summary"), (path, method)
        contents = [
            *operation.get("requestBody", {}).get("content", {}).values(),
            *(c for r in operation["responses"].values() for c in r.get("content", {}).values()),
        ]
        assert any("example" in c for c in contents), (path, method)


def test_lists_declare_pagination_and_refusals_declare_the_envelope(schema):
    lists = [
        (path, op)
        for path, method, op in _operations(schema)
        if method == "get" and "results" in json.dumps(op["responses"]["200"])
    ]
    assert len(lists) >= 15
    for path, operation in lists:
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert {"page", "page_size"} <= names, path
        assert "404" in operation["responses"], path
    for path, method, operation in _operations(schema):
        for status in ("400", "401", "403"):
            assert status in operation["responses"], (path, method, status)


def test_headers_and_nullable_fields_are_declared(schema):
    checkout = schema["paths"]["/api/v1/checkout"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in checkout["parameters"])
    assert "Idempotent-Replayed" in checkout["responses"]["201"]["headers"]
    assert "Retry-After" in checkout["responses"]["429"]["headers"]
    assert "Retry-After" in checkout["responses"]["503"]["headers"]
    components = schema["components"]["schemas"]
    for component, field in [
        ("OrderOut", "account"),
        ("OrderOut", "group"),
        ("OrderOut", "session"),
        ("RegistrationOut", "group"),
        ("EntryOut", "lot"),
        ("TransferOut", "reverses"),
    ]:
        assert components[component]["properties"][field].get("nullable") is True, field
    money = "#/components/schemas/Money"
    assert money in json.dumps(components["OrderOut"]["properties"]["charged"])
    assert money in json.dumps(components["ActivityOut"]["properties"]["token_prices"])
    scheme = schema["components"]["securitySchemes"]["ApiKey"]
    assert "Api-Key <key>" in scheme["description"]
