"""`tuition worker`: django-tasks-db's `db_worker` with a heartbeat.

A thread records `worker host:pid` in the heartbeat table every
`TUITION_WORKER_HEARTBEAT_SECONDS`, so /health/ready can tell a live worker from a dead one;
a clean stop (SIGTERM) removes the row at once. All of db_worker's options apply.
"""

import logging
import threading

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from tuition.ops import services
from tuition.ops.models import Heartbeat

logger = logging.getLogger("tuition.worker")


class Heartbeating:
    def __init__(self, *, role: str, every: float):
        self.role = role
        self.every = every
        self.name = services.process_name()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        services.beat(role=self.role, name=self.name)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                services.beat(role=self.role, name=self.name)
            except Exception:  # a database outage: beat again next time
                logger.warning("heartbeat failed", exc_info=True)
                connection.close()
        connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 5)
        try:
            services.forget(name=self.name)
        except Exception:  # the row then simply goes stale
            logger.warning("could not remove the heartbeat", exc_info=True)


class Command(DbWorkerCommand):
    help = "Run the task worker (db_worker) with a heartbeat for the readiness check."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        heartbeat = Heartbeating(
            role=Heartbeat.Role.WORKER,
            every=float(settings.TUITION.get("WORKER_HEARTBEAT_SECONDS", 10)),
        )
        heartbeat.start()
        try:
            super().handle(*args, **options)
        finally:
            heartbeat.stop()
