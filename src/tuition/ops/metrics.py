"""The /metrics answer: the web processes' counters plus figures read from the database."""

import os
from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from tuition.core import clock
from tuition.notifications.models import DeliveryStatus, EmailDelivery, WebhookDelivery

from . import health
from .models import Heartbeat


class DatabaseFigures(Collector):
    """Queue depth and lag, deliveries by state, heartbeat ages: the same from any process."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        queue = health.queue_figures()
        yield GaugeMetricFamily(
            "tuition_task_queue_ready", "Tasks due and waiting for a worker.", value=queue["ready"]
        )
        yield GaugeMetricFamily(
            "tuition_task_queue_lag_seconds",
            "How long the oldest due task has waited.",
            value=queue["lag_seconds"],
        )
        deliveries = GaugeMetricFamily(
            "tuition_deliveries",
            "Email and webhook deliveries by channel and state (failing = pending after a "
            "failed attempt; dead = gave up).",
            labels=["channel", "state"],
        )
        for channel, model in (("email", EmailDelivery), ("webhook", WebhookDelivery)):
            rows = model.objects.exclude(status=DeliveryStatus.SENT)
            counts = {"pending": 0, "failing": 0, "dead": 0}
            for row in rows.values("status", "attempts").annotate(n=Count("id")):
                if row["status"] == DeliveryStatus.DEAD:
                    counts["dead"] += row["n"]
                elif row["attempts"] > 0 and row["status"] == DeliveryStatus.PENDING:
                    counts["failing"] += row["n"]
                else:
                    counts["pending"] += row["n"]
            for state, n in counts.items():
                deliveries.add_metric([channel, state], n)
        yield deliveries
        yield GaugeMetricFamily(
            "tuition_deliveries_dead_last_24h",
            "Deliveries created in the last 24 hours that gave up.",
            value=health.dead_deliveries(since=timedelta(hours=24)),
        )
        ages = GaugeMetricFamily(
            "tuition_heartbeat_age_seconds",
            "Seconds since the freshest heartbeat of each process role.",
            labels=["role"],
        )
        now = clock.now()
        for role in Heartbeat.Role.values:
            last = Heartbeat.objects.filter(role=role).order_by("-beat_at").first()
            if last is not None:
                ages.add_metric([role], (now - last.beat_at).total_seconds())
        yield ages


def scrape() -> bytes:
    """The exposition text: per-process counters (added up across gunicorn workers when
    PROMETHEUS_MULTIPROC_DIR is set), then the database figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        counters = generate_latest(registry)
    else:
        counters = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(DatabaseFigures())
    return counters + generate_latest(database)
