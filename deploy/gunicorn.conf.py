"""gunicorn settings for one Tuition web process (tuition-web@PORT.service).

Everything can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import os
import shutil
from pathlib import Path

bind = os.environ.get("TUITION_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("TUITION_WEB_WORKERS", "3"))
worker_class = "gthread"
threads = int(os.environ.get("TUITION_WEB_THREADS", "4"))
timeout = 60
graceful_timeout = 20
keepalive = 5
# Restart workers now and then, so a slow leak never becomes an outage.
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("TUITION_TRUSTED_PROXIES", "127.0.0.1")
# Each request is logged by Tuition itself (one JSON line with its request id and outcome).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "tuition.core.observability.JsonLogFormatter"}},
    "filters": {"request_id": {"()": "tuition.core.observability.RequestIdFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def on_starting(server):  # type: ignore[no-untyped-def]
    """Prometheus counters of a previous run of this instance must not be added up again."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
