"""The real worker (`tuition db_worker`, a separate process) is killed with SIGKILL in the middle
of a batch of emails, restarted, and every notification still reaches its recipient once."""

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import AccountFactory, MembershipFactory, UserFactory, usd
from tests.notifications.conftest import free_port
from tuition.accounts.models import Membership
from tuition.core import clock
from tuition.ledger import services as ledger
from tuition.notifications.models import DeliveryStatus, EmailDelivery
from tuition.notifications.services import expire_credits

LOTS = 12
STALL_AT = 5  # the SMTP server holds the 5th message until the worker has been killed
ROOT = Path(__file__).resolve().parents[2]


class StallingReceiver:
    """Accepts mail, except that it holds one message (without answering) until released, then
    drops it: the worker dies before the server took responsibility for it."""

    def __init__(self) -> None:
        self.messages: list = []
        self.seen = 0
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen == STALL_AT:
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "421 4.3.0 Closing"
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _env(smtp_port: int, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tuition.config.settings.base",
        "DATABASE_URL": _database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "TUITION_DATA_DIR": str(tmp_path),
        "TUITION_DELIVERY_LEASE_SECONDS": "2",
        "CACHE_URL": "locmemcache://",
        "LOG_LEVEL": "ERROR",
    }


def _start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
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
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_delivers_every_notification_exactly_once(tmp_path):
    from aiosmtpd.controller import Controller

    # given: an account whose many lots expire at once, and a real SMTP server
    receiver = StallingReceiver()
    port = free_port()
    controller = Controller(receiver, hostname="127.0.0.1", port=port)
    controller.start()
    account = AccountFactory(name="Acme")
    MembershipFactory(
        account=account, role=Membership.Role.OWNER, user=UserFactory(email="olga@acme.test")
    )
    for _ in range(LOTS):
        ledger.issue_credit(
            account_id=account.pk,
            unit=usd(),
            redeemable_value=1000,
            expires_at=clock.now() + timedelta(seconds=1),
            actor="test",
        )
    time.sleep(1.1)
    assert expire_credits(actor="test") == LOTS  # one batch: one task with every email
    env = _env(port, tmp_path)
    worker = _start_worker(env)
    try:
        # when: the worker is killed -9 while the server holds one message
        assert receiver.stalled.wait(60), worker.stderr.read().decode() if worker.poll() else ""
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        receiver.release.set()
        delivered_before = len(receiver.messages)
        statuses = list(EmailDelivery.objects.values_list("status", flat=True))
        assert delivered_before == STALL_AT - 1
        assert statuses.count(DeliveryStatus.SENT) == STALL_AT - 1
        assert statuses.count(DeliveryStatus.SENDING) == 1

        # then: restarted, with the periodic runner handing back what the dead worker held
        worker = _start_worker(env)
        time.sleep(2.5)  # the dead worker's lease runs out
        subprocess.run(
            [sys.executable, "-m", "tuition", "run_periodic", "--once", "--verbosity", "0"],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=60,
        )
        _wait_for(
            lambda: not EmailDelivery.objects.exclude(status=DeliveryStatus.SENT).exists(),
            60,
            "every delivery to be sent",
        )
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(10)
        controller.stop()

    deliveries = list(EmailDelivery.objects.order_by("pk"))
    assert len(deliveries) == LOTS
    received_ids = [m["Message-ID"] for m in receiver.messages]
    assert len(received_ids) == LOTS  # none lost, none twice
    assert sorted(received_ids) == sorted(d.message_id for d in deliveries)
    assert sorted(d.attempts for d in deliveries) == [1] * (LOTS - 1) + [2]
