"""A database that is restarting or unreachable gives 503 with Retry-After, never a 500:
the §4 envelope under /api/, a short page elsewhere (core.middleware)."""

import uuid

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client, RequestFactory

from tests.api_support import Api, error_code
from tuition.api.authentication import ApiKeyAuthentication
from tuition.checkout.models import Order
from tuition.core.errors import ServiceBusyError
from tuition.core.middleware import DatabaseOutageMiddleware
from tuition.core.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

LOST = [
    OperationalError("connection failed: Connection refused"),
    OperationalError("server closed the connection unexpectedly"),
    OperationalError("terminating connection due to administrator command"),
    InterfaceError("connection already closed"),
]


def _database_gone(monkeypatch, error):  # type: ignore[no-untyped-def]
    def fail(self, request):  # type: ignore[no-untyped-def]
        raise error

    monkeypatch.setattr(ApiKeyAuthentication, "authenticate", fail)


@pytest.mark.parametrize("error", LOST, ids=str)
def test_an_api_request_during_an_outage_is_a_503_envelope_with_retry_after(monkeypatch, error):
    # given: the database connection fails where the request first touches it
    _database_gone(monkeypatch, error)
    api = Api(Client(raise_request_exception=False), "tk_whatever.secret")

    # when
    response = api.post(
        "checkout",
        {"item": {"activity": "1"}, "payment": {"method": "code", "code": "X"}},
        key=str(uuid.uuid4()),
    )

    # then
    assert response.status_code == 503
    assert error_code(response) == "service_unavailable"
    assert int(response["Retry-After"]) >= 1
    assert not Order.objects.exists() and not IdempotencyRecord.objects.exists()


def test_a_read_during_an_outage_is_a_503_too(monkeypatch):
    _database_gone(monkeypatch, LOST[1])
    response = Api(Client(raise_request_exception=False), "tk_x.y").get("units")
    assert response.status_code == 503 and error_code(response) == "service_unavailable"
    assert "Retry-After" in response


@pytest.mark.parametrize("error", [*LOST, ServiceBusyError()], ids=str)
def test_a_page_during_an_outage_is_a_short_503_page(error):
    middleware = DatabaseOutageMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    request = RequestFactory().get("/learning/")

    response = middleware.process_exception(request, error)

    assert response is not None and response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert b"try again" in response.content and int(response["Retry-After"]) >= 1


def test_other_errors_are_left_alone():
    middleware = DatabaseOutageMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    request = RequestFactory().get("/api/v1/units")
    assert middleware.process_exception(request, ValueError("a bug")) is None
