"""The JSON API client and API fixtures shared by every test directory (via tests/conftest.py)."""

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from tests.factories import AccountFactory, MembershipFactory, UserFactory
from tuition.accounts.models import Membership
from tuition.api.keys import create_api_key
from tuition.api.models import SCOPES


class Api:
    """A JSON client for /api/v1/ that sends an API key or a session, and bodies as given."""

    def __init__(self, client: Client, key: str | None = None):
        self.client = client
        self.key = key

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: str | bytes | None = None,
        content_type: str = "application/json",
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        headers = dict(headers or {})
        if self.key:
            headers["Authorization"] = f"Api-Key {self.key}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        url = path if path.startswith("/") else f"/api/v1/{path}"
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        kwargs: dict[str, Any] = {"headers": headers}
        if data is not None:
            kwargs.update(data=data, content_type=content_type)
        return getattr(self.client, method.lower())(url, **kwargs)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, *, key: str | None = "auto", **kw: Any) -> Any:
        if key == "auto":
            key = str(uuid.uuid4())
        return self.call("POST", path, body, idempotency_key=key, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)


def error_code(response: Any) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]["code"]


def assert_only_refusals_stored() -> None:
    """Nothing but refusals kept as their keys' first answers (SPEC rule 28)."""
    from tuition.core.models import IdempotencyRecord

    kept = list(IdempotencyRecord.objects.values_list("status", "response_status"))
    assert all(status == "completed" and code >= 400 for status, code in kept), kept


@pytest.fixture
def make_key(db):
    def make(*scopes: str) -> str:
        _, plaintext = create_api_key(name="test", scopes=list(scopes or SCOPES), actor="test")
        return plaintext

    return make


@pytest.fixture
def api(make_key) -> Api:
    """Acting for the provider with an admin key."""
    return Api(Client(), make_key("admin"))


@pytest.fixture
def session_api():
    def as_user(user) -> Api:  # type: ignore[no-untyped-def]
        client = Client()
        client.force_login(user)
        return Api(client)

    return as_user


@pytest.fixture
def owner_of():
    """An account and its owner."""

    def make(**account_fields: Any):  # type: ignore[no-untyped-def]
        account = AccountFactory(**account_fields)
        owner = UserFactory()
        MembershipFactory(
            account=account, user=owner, role=Membership.Role.OWNER, can_view_balance=True
        )
        return account, owner

    return make
