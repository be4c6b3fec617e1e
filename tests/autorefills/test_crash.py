"""A process killed (SIGKILL) in the middle of an automatic refill leaves nothing half done:
the next run buys once, and a run after that buys nothing."""

import os
import signal
import subprocess
import sys

import pytest

from tests.autorefills.test_rules import CARD_THRESHOLD
from tests.factories import usd
from tests.notifications.test_worker_crash import ROOT, _database_url
from tuition.autorefills import services as autorefills
from tuition.autorefills.models import RefillFiring, RefillRule
from tuition.checkout.models import Invoice, Order
from tuition.ledger.models import Lot
from tuition.ledger.verify import CHECKS as LEDGER_CHECKS
from tuition.notifications.models import NotificationEvent

pytestmark = pytest.mark.django_db(transaction=True)


def run_job(tmp_path, fault: str = "") -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TUITION_FAULT")}
    env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "tuition.config.settings.base",
        "DATABASE_URL": _database_url(),
        "TUITION_DATA_DIR": str(tmp_path),
        "CACHE_URL": "locmemcache://",
        "LOG_LEVEL": "ERROR",
        "TUITION_FAULT": fault,
    }
    return subprocess.run(
        [sys.executable, "-m", "tuition", "run_automatic_refills"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "fault", ["automatic_refill_before_purchase", "automatic_refill_before_commit"]
)
def test_a_crash_between_firing_steps_never_buys_twice(tmp_path, acme, owner, fault):
    # given: a threshold rule that is due (the account is empty)
    rule = autorefills.set_rule(
        account_id=acme.pk, unit=usd(), rule=CARD_THRESHOLD, buyer=owner, actor="user:1"
    )

    # when: the job dies at the fault point
    crashed = run_job(tmp_path, fault)

    # then: nothing of the firing survived, the rule is still armed
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert not RefillFiring.objects.exists() and not Order.objects.exists()
    assert RefillRule.objects.get(pk=rule.pk).armed

    # when: the job runs again (restarted), and once more
    restarted = run_job(tmp_path)
    assert restarted.returncode == 0, restarted.stderr
    assert "Bought 1 automatic refill(s)." in restarted.stdout
    assert autorefills.run_automatic_refills() == 0

    # then: exactly one refill with its order, invoice, lot and notice
    firing = RefillFiring.objects.get(rule=rule)
    assert firing.outcome == "paid" and firing.key == "threshold:1"
    assert Order.objects.filter(item_kind="refill").count() == 1
    assert Invoice.objects.filter(order=firing.order).count() == 1
    assert Lot.objects.filter(account=acme).count() == 1
    assert NotificationEvent.objects.filter(kind="refill.automatic").count() == 1
    assert [p for check in LEDGER_CHECKS for p in check()] == []
