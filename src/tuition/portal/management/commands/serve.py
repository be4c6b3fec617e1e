"""`tuition serve`: everything one machine needs, in one command.

Migrates the database, collects static files, optionally loads the demo data, then runs the web
server (gunicorn), the task worker and the periodic runner as child processes until Ctrl-C. In
production run the three as separate services instead (see the README).
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server, the worker and the periodic jobs together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("TUITION_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("TUITION_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--demo", action="store_true", help="load the demo data once")
        parser.add_argument("--no-worker", action="store_true", help="web server only")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if options["demo"]:
            call_command("demo")

        python = sys.executable
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "tuition.config.settings.base"
            ),
        }
        web = [
            python,
            "-m",
            "gunicorn",
            "tuition.config.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "5",
        ]
        # The worker and the periodic runner exit when the database goes away; they are
        # restarted here (a process manager does it in production). The web server is not:
        # if it stops, everything stops.
        helpers = (
            []
            if options["no_worker"]
            else [
                [python, "-m", "tuition", "worker"],
                [python, "-m", "tuition", "run_periodic"],
            ]
        )
        children = [subprocess.Popen(cmd, env=env) for cmd in [web, *helpers]]  # noqa: S603

        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"Tuition is running at {url} (Ctrl-C stops it)."))
        db = settings.DATABASES["default"]
        self.stdout.write(f"Database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")

        def stop(*_args):
            for child in children:
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + 10
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
            raise SystemExit(0)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while True:
            if children[0].poll() is not None:
                self.stderr.write(f"The web server stopped (exit {children[0].returncode}).")
                stop()
            for index, child in enumerate(children[1:], start=1):
                if child.poll() is not None:
                    self.stderr.write(
                        f"{' '.join(child.args[3:])} stopped "
                        f"(exit {child.returncode}); starting it again."
                    )
                    time.sleep(2)
                    children[index] = subprocess.Popen(child.args, env=env)  # noqa: S603
            time.sleep(0.5)
