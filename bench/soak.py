"""Proof under fire: checkouts over HTTP while processes are killed and PostgreSQL restarts.

    .venv/bin/python bench/soak.py [--requests 600] [--clients 12] [--web-workers 3]
        [--web-fault-probability 0.05] [--worker-fault-probability 0.03] [--pg-restarts 3]
        [--min-kills 50] [--json summary.json]

What it does, all on loopback, nothing shared with the machine:
 1. makes its own PostgreSQL cluster (initdb in a temporary folder, a free port, run as the
    `postgres` user when started as root), migrates it, and creates accounts holding credit
    with a pool code each (one owner each, who is notified of every redemption), an undated
    activity, a dated one with a large session, and an API key;
 2. starts a loopback SMTP sink (aiosmtpd), gunicorn (several sync workers), the task worker
    (`tuition db_worker`) and the periodic runner (`tuition run_periodic`), the last two
    restarted by the harness whenever they die;
 3. arms the fault points (tuition.core.faults): every gunicorn worker SIGKILLs itself at
    random after a checkout's rows are written but before commit, and after the commit but
    before the answer; the task worker SIGKILLs itself after handing an email to the SMTP
    server but before recording it; gunicorn's master replaces dead workers, the harness
    restarts the task worker;
 4. fires the checkouts from many client threads, each with its own Idempotency-Key and
    learner, and retries every request that got no definitive answer (connection reset,
    503, 409 idempotency_key_in_progress) with the same key and body until it gets one;
 5. restarts PostgreSQL with `pg_ctl restart -m immediate` during the load;
 6. waits for the notifications to drain, then proves:
      - every acknowledged (201) order exists            (lost = 0)
      - one order and one redeem transfer per key       (double debits = 0)
      - every booking and registration has its debit, and the accounts' debits add up
      - `tuition verify` is clean
      - every email delivery reached the SMTP sink, once per delivery after the receiver drops
        repeats of a Message-ID (raw repeats happen only for a kill between the server's
        "250 OK" and the worker's record, and are counted)
      - no 5xx other than 503, every 503 with Retry-After.
It prints a summary table, writes it as JSON with --json, and exits 1 if any proof fails.
`make soak` runs it; tests/fire/test_soak.py runs a short version in CI.
"""

import sys
from pathlib import Path

# bench/http.py is named like the standard library's `http`: keep this folder off the import
# path, and load the cluster helper by file instead.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import contextlib  # noqa: E402
import email  # noqa: E402
import email.policy  # noqa: E402
import heapq  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import timedelta  # noqa: E402

import httpx  # noqa: E402

ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
_spec = importlib.util.spec_from_file_location("soak_cluster", HERE / "soak_cluster.py")
assert _spec and _spec.loader
soak_cluster = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(soak_cluster)

PYTHON = sys.executable
ACCOUNTS = 4
CREDIT_CENTS = 10**11  # a billion USD per account: the soak never runs out
PRICES = (100, 250)  # the undated activity, the dated one


# --- processes ---------------------------------------------------------------------------------


class Supervised:
    """A process the harness restarts whenever it exits, like a process manager would."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.exits: list[int] = []
        self._stop = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        with open(self.log, "ab") as out:
            while not self._stop.is_set():
                self._proc = subprocess.Popen(
                    self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=out
                )
                code = self._proc.wait()
                if self._stop.is_set():
                    break
                self.exits.append(code)
                time.sleep(0.3)

    def stop(self) -> None:
        self._stop.set()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._thread.join(20)


class Sink:
    """The loopback SMTP server: accepts everything, remembers each message's Message-ID."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.message_ids.append(str(message["Message-ID"]))
        return "250 OK"


# --- load --------------------------------------------------------------------------------------


@dataclass
class Job:
    index: int
    key: str
    body: dict
    attempts: int = 0
    outcome: str = ""  # "201" or the definitive error code
    order_id: str | None = None
    replayed: bool = False


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)
    unanswered: int = 0
    retry_after_missing: int = 0
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Scheduler:
    """Jobs ready now or later (a retry waits for Retry-After); threads take the next due one."""

    def __init__(self, jobs: list[Job]):
        self._heap = [(0.0, job.index, job) for job in jobs]
        heapq.heapify(self._heap)
        self._pending = len(jobs)
        self._cond = threading.Condition()

    def take(self, deadline: float) -> Job | None:
        with self._cond:
            while True:
                if self._pending == 0 or time.monotonic() > deadline:
                    return None
                if self._heap and self._heap[0][0] <= time.monotonic():
                    return heapq.heappop(self._heap)[2]
                wait = self._heap[0][0] - time.monotonic() if self._heap else 0.5
                self._cond.wait(max(0.01, min(wait, 0.5)))

    def later(self, job: Job, delay: float) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, job.index, job))
            self._cond.notify()

    def done(self) -> None:
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        return self._pending


def _attempt(client: httpx.Client, url: str, api_key: str, job: Job, tally: Tally) -> float | None:
    """Send once. Returns None when the job got its definitive answer, else the retry delay."""
    job.attempts += 1
    headers = {"Authorization": f"Api-Key {api_key}", "Idempotency-Key": job.key}
    try:
        response = client.post(url, json=job.body, headers=headers)
    except httpx.HTTPError:
        # The worker died under us (fault point) or the server is restarting: no answer.
        with tally.lock:
            tally.unanswered += 1
        return 0.2
    status = response.status_code
    with tally.lock:
        tally.statuses[status] += 1
    if status == 201:
        body = response.json()
        job.outcome, job.order_id = "201", body["order"]["id"]
        job.replayed = response.headers.get("Idempotent-Replayed") == "true"
        return None
    if status == 503:
        retry_after = response.headers.get("Retry-After")
        if retry_after is None:
            with tally.lock:
                tally.retry_after_missing += 1
            return 1.0
        return min(float(retry_after), 5.0)
    if status >= 500:
        with tally.lock:
            tally.server_errors.append(f"{status} {response.text[:300]}")
        return 1.0
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = f"http_{status}"
    if code == "idempotency_key_in_progress":
        return 0.5  # a dead worker's claim: it is taken over once its lease runs out
    job.outcome = code
    return None


def run_load(
    jobs: list[Job],
    *,
    base_url: str,
    api_key: str,
    clients: int,
    deadline: float,
    tally: Tally,
    progress: "Progress",
) -> None:
    scheduler = Scheduler(jobs)
    url = f"{base_url}/api/v1/checkout"

    def client_loop() -> None:
        with httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0)) as client:
            while (job := scheduler.take(deadline)) is not None:
                delay = _attempt(client, url, api_key, job, tally)
                if delay is None:
                    progress.decided(job)
                    scheduler.done()
                else:
                    scheduler.later(job, delay)

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class Progress:
    def __init__(self, total: int):
        self.total = total
        self.count = 0
        self._cond = threading.Condition()

    def decided(self, job: Job) -> None:
        with self._cond:
            self.count += 1
            self._cond.notify_all()

    def wait_for(self, count: int, deadline: float) -> bool:
        with self._cond:
            while self.count < count:
                if time.monotonic() > deadline:
                    return False
                self._cond.wait(0.5)
            return True


# --- the run -----------------------------------------------------------------------------------


def prepare(database_url: str, smtp_port: int, home: Path) -> dict:
    os.environ.update(_base_env(database_url, smtp_port, home))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from tuition.accounts.services import create_account
    from tuition.api.keys import create_api_key
    from tuition.catalog.services import create_activity, create_session
    from tuition.codes.services import create_credit, create_pool_code
    from tuition.core import clock
    from tuition.ledger.models import Unit

    usd = Unit.objects.get(code="USD")
    codes = []
    for n in range(ACCOUNTS):
        account = create_account(
            name=f"Soak account {n}", owners=[f"owner{n}@soak.test"], actor="soak"
        )
        create_credit(
            account_id=account.pk,
            unit=usd,
            redeemable_value=CREDIT_CENTS,
            expires_at=None,
            actor="soak",
        )
        codes.append(create_pool_code(account_id=account.pk, unit=usd, actor="soak").code_text)
    course = create_activity(title="Soak course", price=PRICES[0], actor="soak")
    workshop = create_activity(title="Soak workshop", price=PRICES[1], actor="soak")
    starts = clock.now() + timedelta(days=60)
    session = create_session(
        activity_id=workshop.pk,
        starts_at=starts,
        ends_at=starts + timedelta(hours=6),
        capacity=100_000,
        actor="soak",
    )
    _, key = create_api_key(name="soak", scopes=["admin"], actor="soak")
    return {
        "key": key,
        "codes": codes,
        "course": str(course.pk),
        "workshop": str(workshop.pk),
        "session": str(session.pk),
    }


def _base_env(database_url: str, smtp_port: int, home: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "tuition.config.settings.base",
        "DATABASE_URL": database_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "TUITION_DATA_DIR": str(home / "data"),
        "CACHE_URL": "locmemcache://",
        "LOG_LEVEL": "ERROR",
        "TUITION_DELIVERY_LEASE_SECONDS": "3",
        "TUITION_DELIVERY_BACKOFF_SECONDS": "1",
        "TUITION_DELIVERY_MAX_ATTEMPTS": "100",
        "TUITION_PERIODIC_TICK_SECONDS": "1",
        # hand back what a killed worker held within seconds, not the production minute
        "TUITION_PERIODIC_INTERVALS": "retry_stuck_deliveries=5",
        "TUITION_IDEMPOTENCY_CLAIM_SECONDS": "5",
        "TUITION_FAULT_LOG": str(home / "faults.log"),
    }


def make_jobs(count: int, data: dict, run: str) -> list[Job]:
    jobs = []
    for i in range(count):
        body: dict = {
            "learner": {"email": f"learner{i}-{run}@soak.test", "name": f"Learner {i}"},
            "payment": {"method": "code", "code": data["codes"][i % ACCOUNTS]},
        }
        if i % 2:
            body["item"] = {"activity": data["workshop"]}
            body["session"] = data["session"]
        else:
            body["item"] = {"activity": data["course"]}
        jobs.append(Job(index=i, key=str(uuid.uuid4()), body=body))
    return jobs


def wait_http(url: str, api_key: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(
                    url, headers={"Authorization": f"Api-Key {api_key}"}, timeout=5
                ).status_code
                == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def drain_notifications(sink: Sink, timeout: float) -> bool:
    from django.db import close_old_connections, connection

    from tuition.notifications.models import DeliveryStatus, EmailDelivery, NotificationEvent

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        close_old_connections()
        try:
            # Events the worker has not fanned out yet have no deliveries to count.
            open_ = EmailDelivery.objects.exclude(status=DeliveryStatus.SENT).count()
            open_ += NotificationEvent.objects.filter(fanned_out_at__isnull=True).count()
        except Exception:  # the database may still be recovering
            connection.close()
            open_ = -1
        if open_ == 0:
            return True
        time.sleep(0.5)
    return False


def prove(jobs: list[Job], sink: Sink, env: dict[str, str]) -> dict:
    from django.db import close_old_connections
    from django.db.models import Count, Sum

    from tuition.checkout.models import Booking, Order, Registration
    from tuition.ledger.models import Lot, Transfer
    from tuition.notifications.events import CREDIT_REDEEMED
    from tuition.notifications.models import DeliveryStatus, EmailDelivery, NotificationEvent

    close_old_connections()
    acknowledged = {job.order_id for job in jobs if job.outcome == "201"}
    existing = set(
        str(pk) for pk in Order.objects.filter(pk__in=acknowledged).values_list("pk", flat=True)
    )
    emails = [job.body["learner"]["email"] for job in jobs]
    per_learner = Counter(
        dict(
            Order.objects.filter(learner__email__in=emails)
            .values_list("learner__email")
            .annotate(n=Count("pk"))
            .values_list("learner__email", "n")
        )
    )
    redeems = Transfer.objects.filter(kind="redeem")
    orders_with_debit = Order.objects.filter(transfer__isnull=False)
    debited = redeems.aggregate(n=Count("pk"))["n"]
    charged = orders_with_debit.aggregate(total=Sum("charged"))["total"] or 0
    spent = sum(CREDIT_CENTS - lot.remaining for lot in Lot.objects.all())
    from tuition.notifications.delivery import message_id_for

    # Keyed by the Message-ID every attempt of a delivery carries (stored only once sent).
    deliveries = {message_id_for(d): d.status for d in EmailDelivery.objects.all()}
    received = Counter(sink.message_ids)
    verify = subprocess.run(
        [PYTHON, "-m", "tuition", "verify"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return {
        "acknowledged": len(acknowledged),
        "lost": len(acknowledged - existing),
        "undecided": sum(1 for job in jobs if not job.outcome),
        "refused": dict(Counter(job.outcome for job in jobs if job.outcome not in ("", "201"))),
        "double_debits": sum(n - 1 for n in per_learner.values() if n > 1)
        + max(0, debited - orders_with_debit.count()),
        "orders": sum(per_learner.values()),
        "redeem_transfers": debited,
        "orders_without_debit": Order.objects.filter(transfer__isnull=True).count(),
        "bookings_without_debit": Booking.objects.filter(
            registration__order__transfer__isnull=True
        ).count(),
        "registrations_without_order_debit": Registration.objects.filter(
            order__transfer__isnull=True
        ).count(),
        "debits_match_lots": charged == spent,
        "redeemed_events": NotificationEvent.objects.filter(kind=CREDIT_REDEEMED).count(),
        "email_deliveries": len(deliveries),
        "emails_unsent": sum(1 for s in deliveries.values() if s != DeliveryStatus.SENT),
        "emails_missing_at_sink": sum(1 for mid in deliveries if received[mid] == 0),
        "emails_unknown_at_sink": sum(1 for mid in received if mid not in deliveries),
        "emails_repeated_at_sink": sum(n - 1 for n in received.values() if n > 1),
        "verify_ok": verify.returncode == 0,
        "verify_output": (verify.stdout + verify.stderr)[-2000:],
    }


def kill_counts(log: Path) -> Counter:
    if not log.exists():
        return Counter()
    return Counter(line.split()[0] for line in log.read_text().splitlines() if line.strip())


def soak(args: argparse.Namespace) -> dict:
    from aiosmtpd.controller import Controller

    home = Path(tempfile.mkdtemp(prefix="tuition-soak-"))
    cluster = soak_cluster.Cluster(home)
    sink = Sink()
    smtp_port = soak_cluster.free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    web: subprocess.Popen | None = None
    helpers: list[Supervised] = []
    started = time.monotonic()
    summary: dict = {}
    try:
        cluster.create()
        data = prepare(cluster.url, smtp_port, home)
        controller.start()
        env = {**os.environ, **_base_env(cluster.url, smtp_port, home)}
        web_port = soak_cluster.free_port()
        web_env = {
            **env,
            "TUITION_FAULT": "after_entries_before_commit,after_commit_before_response",
            "TUITION_FAULT_PROBABILITY": str(args.web_fault_probability),
        }
        web_log = open(home / "gunicorn.log", "ab")  # noqa: SIM115 - lives as long as gunicorn
        web = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "tuition.config.wsgi",
                "-b",
                f"127.0.0.1:{web_port}",
                "-w",
                str(args.web_workers),
                "--preload",
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
            ],
            env=web_env,
            cwd=ROOT,
            stdout=web_log,
            stderr=web_log,
        )
        base_url = f"http://127.0.0.1:{web_port}"
        wait_http(f"{base_url}/api/v1/units", data["key"], 60)
        worker_env = {
            **env,
            "TUITION_FAULT": "mid_notification_delivery",
            "TUITION_FAULT_PROBABILITY": str(args.worker_fault_probability),
        }
        helpers = [
            Supervised(
                "worker",
                [
                    PYTHON,
                    "-m",
                    "tuition",
                    "db_worker",
                    "--interval",
                    "0.1",
                    "--no-startup-delay",
                    "--no-reload",
                    "--verbosity",
                    "0",
                ],
                worker_env,
                home / "worker.log",
            ),
            Supervised(
                "periodic",
                [PYTHON, "-m", "tuition", "run_periodic", "--verbosity", "0"],
                env,
                home / "periodic.log",
            ),
        ]
        for helper in helpers:
            helper.start()

        jobs = make_jobs(args.requests, data, uuid.uuid4().hex[:8])
        tally, progress = Tally(), Progress(len(jobs))
        deadline = time.monotonic() + args.max_seconds
        restarts: list[float] = []

        def nemesis() -> None:
            for n in range(args.pg_restarts):
                target = (n + 1) * len(jobs) // (args.pg_restarts + 1)
                if not progress.wait_for(target, deadline):
                    return
                began = time.monotonic()
                cluster.restart_immediate()
                restarts.append(time.monotonic() - began)

        chaos = threading.Thread(target=nemesis, daemon=True)
        load_started = time.monotonic()
        chaos.start()
        run_load(
            jobs,
            base_url=base_url,
            api_key=data["key"],
            clients=args.clients,
            deadline=deadline,
            tally=tally,
            progress=progress,
        )
        load_seconds = time.monotonic() - load_started
        chaos.join(120)
        web.send_signal(signal.SIGTERM)
        web.wait(30)
        web = None
        drained = drain_notifications(sink, args.drain_seconds)
        for helper in helpers:
            helper.stop()
        helpers = []
        time.sleep(0.5)  # the sink's last acknowledgements
        proofs = prove(jobs, sink, env)
        kills = kill_counts(home / "faults.log")
        statuses = tally.statuses
        summary = {
            "requests": len(jobs),
            "attempts": sum(job.attempts for job in jobs),
            "load_seconds": round(load_seconds, 1),
            "total_seconds": round(time.monotonic() - started, 1),
            "status_counts": {str(k): v for k, v in sorted(statuses.items())},
            "unanswered": tally.unanswered,
            "replayed_201": sum(1 for job in jobs if job.replayed),
            "http_5xx_not_503": sum(v for k, v in statuses.items() if k >= 500 and k != 503),
            "http_503": statuses.get(503, 0),
            "503_without_retry_after": tally.retry_after_missing,
            "server_errors_sample": tally.server_errors[:5],
            "kills": sum(kills.values()),
            "kills_by_point": dict(kills),
            "pg_restarts": len(restarts),
            "notifications_drained": drained,
            **proofs,
        }
        summary["ok"] = ok(summary, args)
        return summary
    finally:
        if web is not None and web.poll() is None:
            web.kill()
            web.wait(10)
        for helper in helpers:
            helper.stop()
        with contextlib.suppress(Exception):  # it may never have started
            controller.stop()
        from django.db import connections

        connections.close_all()
        if args.keep:
            cluster.stop()
            print(f"kept {home}", file=sys.stderr)
        else:
            cluster.destroy()


def repeats_allowed(s: dict) -> int:
    """Delivery is at least once: an email goes out twice only when its worker handed it to
    the SMTP server and could not record that. That happens once per kill at
    `mid_notification_delivery`, and at most once per database restart (the one task worker
    had at most one email in flight when the database went away)."""
    return s["kills_by_point"].get("mid_notification_delivery", 0) + s["pg_restarts"]


def ok(s: dict, args: argparse.Namespace) -> bool:
    return (
        s["lost"] == 0
        and s["undecided"] == 0
        and not s["refused"]
        and s["double_debits"] == 0
        and s["orders"] == s["requests"]
        and s["redeem_transfers"] == s["requests"]
        and s["orders_without_debit"] == 0
        and s["bookings_without_debit"] == 0
        and s["registrations_without_order_debit"] == 0
        and s["debits_match_lots"]
        and s["redeemed_events"] == s["requests"]
        and s["verify_ok"]
        and s["http_5xx_not_503"] == 0
        and s["503_without_retry_after"] == 0
        and s["notifications_drained"]
        and s["emails_unsent"] == 0
        and s["emails_missing_at_sink"] == 0
        and s["emails_unknown_at_sink"] == 0
        and s["emails_repeated_at_sink"] <= repeats_allowed(s)
        and s["kills"] >= args.min_kills
        and s["pg_restarts"] == args.pg_restarts
    )


def print_table(s: dict) -> None:
    rows = [
        ("checkout requests (keys)", s["requests"]),
        ("HTTP attempts", s["attempts"]),
        ("acknowledged (201)", s["acknowledged"]),
        ("  of which replayed", s["replayed_201"]),
        ("lost acknowledged orders", s["lost"]),
        ("undecided / refused", f"{s['undecided']} / {sum(s['refused'].values())}"),
        ("double debits", s["double_debits"]),
        ("bookings without debit", s["bookings_without_debit"]),
        ("redeem transfers / orders", f"{s['redeem_transfers']} / {s['orders']}"),
        ("5xx other than 503", s["http_5xx_not_503"]),
        (
            "503 (all with Retry-After)",
            f"{s['http_503']} ({'yes' if not s['503_without_retry_after'] else 'NO'})",
        ),
        ("no answer (connection cut)", s["unanswered"]),
        ("kills (SIGKILL at fault points)", s["kills"]),
        *((f"  {k}", v) for k, v in sorted(s["kills_by_point"].items())),
        ("PostgreSQL immediate restarts", s["pg_restarts"]),
        (
            "email deliveries / missing at sink",
            f"{s['email_deliveries']} / {s['emails_missing_at_sink']}",
        ),
        ("raw repeats at sink (same Message-ID)", s["emails_repeated_at_sink"]),
        ("tuition verify", "clean" if s["verify_ok"] else "FAILED"),
        ("load / total seconds", f"{s['load_seconds']} / {s['total_seconds']}"),
        ("RESULT", "PASS" if s["ok"] else "FAIL"),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    if not s["verify_ok"]:
        print(s["verify_output"])
    for line in s["server_errors_sample"]:
        print("  5xx:", line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--web-fault-probability", type=float, default=0.05)
    parser.add_argument("--worker-fault-probability", type=float, default=0.03)
    parser.add_argument("--pg-restarts", type=int, default=3)
    parser.add_argument("--min-kills", type=int, default=50)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=600,
        help="give up on requests still undecided after this long",
    )
    # One worker on two cores sends the 1,200 emails of 600 checkouts, each confirmation with
    # its receipt and invoice rendered as PDF, in five to six minutes.
    parser.add_argument("--drain-seconds", type=float, default=600)
    parser.add_argument("--json", type=Path, help="also write the summary here")
    parser.add_argument("--keep", action="store_true", help="keep the cluster folder and logs")
    args = parser.parse_args(argv)
    if not soak_cluster.available():
        print(f"PostgreSQL server binaries not found in {soak_cluster.PG_BIN}", file=sys.stderr)
        return 2
    summary = soak(args)
    print_table(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
