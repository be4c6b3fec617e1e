"""Prometheus metrics counted in the web processes.

With several gunicorn workers, set `PROMETHEUS_MULTIPROC_DIR` (deploy/ does): each process
writes its counters to files there and the /metrics view adds them up. Figures that live in
the database (queue depth, deliveries, worker heartbeats) are read at scrape time instead, so
they are the same whichever process answers (tuition.ops.metrics).
"""

from django.db import transaction
from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "tuition_http_requests",
    "HTTP requests answered, by method, URL route and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "tuition_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and URL route.",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CHECKOUTS = Counter(
    "tuition_checkouts", "Checkouts that succeeded, by interface (api, page).", ["interface"]
)
REFUSALS = Counter(
    "tuition_checkout_refusals",
    "Checkouts refused, by interface and error code (SPEC section 4).",
    ["interface", "code"],
)
VALUE_REDEEMED = Counter(
    "tuition_value_redeemed",
    "Value redeemed from lots (committed debits), in the unit's whole units.",
    ["unit"],
)


def count_redeemed_on_commit(*, unit_code: str, decimals: int, amount: int) -> None:
    """Count a debit once its transaction commits (a rolled-back attempt counts nothing)."""
    transaction.on_commit(lambda: VALUE_REDEEMED.labels(unit_code).inc(amount / 10**decimals))
