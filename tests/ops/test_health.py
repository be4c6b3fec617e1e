from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import Client
from django_tasks_db.models import DBTaskResult

from tuition.core import clock
from tuition.notifications import tasks
from tuition.notifications.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from tuition.ops import health, services
from tuition.ops.models import Heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def processes():
    """A live worker and periodic runner."""
    services.beat(role=Heartbeat.Role.WORKER, name="web-1:100")
    services.beat(role=Heartbeat.Role.PERIODIC, name="web-1:101")


def _ready(client: Client, query: str = ""):  # type: ignore[no-untyped-def]
    response = client.get(f"/health/ready{query}")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def test_liveness_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_ready_when_database_migrations_worker_queue_and_deliveries_are_fine(client, processes):
    status, body = _ready(client)
    assert status == 200 and body["status"] == "ok"
    assert set(body["checks"]) == {
        "database",
        "migrations",
        "worker",
        "periodic",
        "queue",
        "deliveries",
    }
    assert body["checks"]["migrations"] == {"ok": True, "unapplied": 0}
    assert body["checks"]["worker"]["alive"] == 1


def test_not_ready_without_a_worker_heartbeat(client, processes):
    # given the worker stopped cleanly
    services.forget(name="web-1:100")
    # then readiness is red, and says why
    status, body = _ready(client)
    assert status == 503 and body["status"] == "fail"
    assert body["checks"]["worker"] == {"ok": False, "alive": 0, "last_beat_seconds_ago": None}
    assert body["checks"]["database"]["ok"] is True


def test_not_ready_when_the_last_heartbeat_is_stale(client, processes, settings):
    settings.TUITION = {**settings.TUITION, "READY_HEARTBEAT_SECONDS": 30}
    Heartbeat.objects.filter(role="worker").update(beat_at=clock.now() - timedelta(seconds=45))
    status, body = _ready(client)
    assert status == 503
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["last_beat_seconds_ago"] >= 45


def test_not_ready_when_the_queue_lags(client, processes, settings):
    settings.TUITION = {**settings.TUITION, "READY_QUEUE_LAG_SECONDS": 60}
    # given a task waiting for two minutes
    result = tasks.expire_credits.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(enqueued_at=clock.now() - timedelta(minutes=2))
    status, body = _ready(client)
    assert status == 503
    assert body["checks"]["queue"]["ok"] is False
    assert body["checks"]["queue"]["ready"] == 1
    assert body["checks"]["queue"]["lag_seconds"] >= 120
    # a load balancer asks only what this web process needs
    status, body = _ready(client, "?checks=database,migrations")
    assert status == 200 and set(body["checks"]) == {"database", "migrations"}


def test_not_ready_when_too_many_deliveries_died(client, processes, settings):
    settings.TUITION = {**settings.TUITION, "READY_MAX_DEAD_DELIVERIES": 1}
    hook = WebhookSubscription.objects.create(
        url="https://example.org/hook", secret="whsec_x", created_at=clock.now()
    )
    from tuition.notifications.models import NotificationEvent

    for _ in range(2):
        WebhookDelivery.objects.create(
            event=NotificationEvent.objects.create(kind="credit.issued", created_at=clock.now()),
            subscription=hook,
            status=DeliveryStatus.DEAD,
            next_attempt_at=clock.now(),
            created_at=clock.now(),
            last_error="connection refused",
        )
    status, body = _ready(client)
    assert status == 503
    assert body["checks"]["deliveries"] == {"ok": False, "dead_last_24h": 2}


def test_a_database_failure_is_a_503_naming_the_error_class_only(client, processes, monkeypatch):
    def refuse():  # type: ignore[no-untyped-def]
        raise OperationalError('connection to "db.internal" failed: password=hunter2')

    monkeypatch.setitem(health.CHECKS, "database", refuse)
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["worker"] == {"ok": False, "skipped": "database unavailable"}
    assert b"hunter2" not in response.content and b"db.internal" not in response.content
