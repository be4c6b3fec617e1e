"""`tuition run_periodic`: enqueue the periodic jobs (expiry, reminders, low balance, stuck
deliveries) when due, for the worker (`tuition db_worker`) to run. Safe to run on several
machines at once: each job is enqueued once per time slot."""

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from tuition.notifications import periodic
from tuition.ops import services as heartbeats
from tuition.ops.models import Heartbeat


class Command(BaseCommand):
    help = "Enqueue periodic jobs when due (run beside `tuition db_worker`)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="tick once and exit")
        parser.add_argument(
            "--tick",
            type=float,
            default=None,
            help="seconds between ticks (default TUITION_PERIODIC_TICK_SECONDS)",
        )

    def handle(self, *args, **options):
        tick_seconds = options["tick"] or float(settings.TUITION.get("PERIODIC_TICK_SECONDS", 15))
        running = True

        def stop(*_args):
            nonlocal running
            running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            self._run(options, tick_seconds, lambda: running)
        finally:
            if not options["once"]:  # a cron-driven --once leaves its beat to age out
                heartbeats.forget()

    def _run(self, options, tick_seconds, running):  # type: ignore[no-untyped-def]
        ticks = 0
        while running():
            started = periodic.tick()
            heartbeats.beat(role=Heartbeat.Role.PERIODIC)
            if started and options["verbosity"] > 0:
                self.stdout.write(f"Enqueued: {', '.join(started)}")
            ticks += 1
            if ticks % 240 == 0:
                periodic.prune()
            if options["once"]:
                return
            # Like a request boundary: drop connections that broke or outlived CONN_MAX_AGE.
            close_old_connections()
            deadline = time.monotonic() + tick_seconds
            while running() and time.monotonic() < deadline:
                time.sleep(min(0.5, tick_seconds))
