"""Readiness checks: each answers a small JSON-able dict with `ok`, and never a secret.

- database: a `SELECT 1` on the default database answers.
- migrations: no migration of any installed app is left unapplied (a release whose code is
  ahead of its schema is not ready).
- worker / periodic: some task worker (`tuition worker`) and some periodic runner beat within
  `TUITION_READY_HEARTBEAT_SECONDS`.
- queue: the oldest task that is due has waited less than `TUITION_READY_QUEUE_LAG_SECONDS`.
- deliveries: emails and webhooks that gave up (dead) in the last 24 hours are at most
  `TUITION_READY_MAX_DEAD_DELIVERIES`.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Min
from django_tasks_db.models import DBTaskResult

from tuition.core import clock
from tuition.notifications.models import DeliveryStatus, EmailDelivery, WebhookDelivery

from .models import Heartbeat

Check = Callable[[], dict[str, Any]]


def _limit(name: str, default: float) -> float:
    return float(settings.TUITION.get(name, default))


def check_database() -> dict[str, Any]:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_migrations() -> dict[str, Any]:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return {"ok": not plan, "unapplied": len(plan)}


def _heartbeat(role: str) -> dict[str, Any]:
    limit = _limit("READY_HEARTBEAT_SECONDS", 60)
    now = clock.now()
    recent = Heartbeat.objects.filter(role=role, beat_at__gte=now - timedelta(seconds=limit))
    last = Heartbeat.objects.filter(role=role).order_by("-beat_at").first()
    age = round((now - last.beat_at).total_seconds(), 1) if last else None
    return {"ok": recent.exists(), "alive": recent.count(), "last_beat_seconds_ago": age}


def check_worker() -> dict[str, Any]:
    return _heartbeat(Heartbeat.Role.WORKER)


def check_periodic() -> dict[str, Any]:
    return _heartbeat(Heartbeat.Role.PERIODIC)


def queue_figures() -> dict[str, Any]:
    """Tasks that are due and waiting, and how long the oldest has waited (seconds)."""
    now = clock.now()
    due = DBTaskResult.objects.ready()
    oldest = due.aggregate(oldest=Min("enqueued_at"))["oldest"]
    lag = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    return {"ready": due.count(), "lag_seconds": round(lag, 1)}


def check_queue() -> dict[str, Any]:
    figures = queue_figures()
    return {"ok": figures["lag_seconds"] < _limit("READY_QUEUE_LAG_SECONDS", 300), **figures}


def dead_deliveries(*, since: timedelta = timedelta(hours=24)) -> int:
    cutoff = clock.now() - since
    return sum(
        model.objects.filter(status=DeliveryStatus.DEAD, created_at__gte=cutoff).count()
        for model in (EmailDelivery, WebhookDelivery)
    )


def check_deliveries() -> dict[str, Any]:
    dead = dead_deliveries()
    return {"ok": dead <= _limit("READY_MAX_DEAD_DELIVERIES", 10), "dead_last_24h": dead}


CHECKS: dict[str, Check] = {
    "database": check_database,
    "migrations": check_migrations,
    "worker": check_worker,
    "periodic": check_periodic,
    "queue": check_queue,
    "deliveries": check_deliveries,
}


def run_checks(names: list[str] | None = None) -> tuple[bool, dict[str, dict[str, Any]]]:
    """Run the named checks (all by default); a check that raises is failed, not a 500.

    After a failed database check the others are skipped: they would only fail the same way.
    """
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        if names and name not in names:
            continue
        if name != "database" and results.get("database", {}).get("ok") is False:
            results[name] = {"ok": False, "skipped": "database unavailable"}
            continue
        try:
            results[name] = check()
        except Exception as error:  # any failure means "not ready", never a 500
            # The class name only: a driver's message can carry the connection string.
            results[name] = {"ok": False, "error": type(error).__name__}
    return all(r["ok"] for r in results.values()), results
