from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from tests.factories import AccountFactory, MembershipFactory, UserFactory, issue, usd
from tuition.accounts.models import Membership
from tuition.core import clock
from tuition.ledger import services as ledger
from tuition.ledger.models import Transfer
from tuition.notifications import events, periodic
from tuition.notifications.models import NotificationEvent, PeriodicRun
from tuition.notifications.services import (
    check_low_balances,
    expire_credits,
    send_expiry_reminders,
)

pytestmark = pytest.mark.django_db

START = datetime.fromisoformat("2026-03-01T12:00:00+00:00")


def _owned_account(**kwargs):
    account = AccountFactory(name="Acme", **kwargs)
    MembershipFactory(
        account=account, role=Membership.Role.OWNER, user=UserFactory(email="olga@acme.test")
    )
    return account


def _issue_at(account, amount, expires_at):
    return ledger.issue_credit(
        account_id=account.pk,
        unit=usd(),
        redeemable_value=amount,
        expires_at=expires_at,
        actor="test",
    )


def test_expiry_at_the_exact_boundary_books_once_and_notifies(drain):
    # given: a lot expiring at a precise instant
    with time_machine.travel(START, tick=False):
        account = _owned_account()
        expires_at = START + timedelta(days=10)
        lot = _issue_at(account, 5000, expires_at)
    # when: one microsecond before, the sweep leaves it alone
    with time_machine.travel(expires_at - timedelta(microseconds=1), tick=False):
        assert expire_credits(actor="test") == 0
    assert not NotificationEvent.objects.filter(kind=events.CREDIT_EXPIRED).exists()
    # when: at the instant itself (expiry is exclusive), it expires; a second run does nothing
    with time_machine.travel(expires_at, tick=False):
        assert expire_credits(actor="test") == 1
        assert expire_credits(actor="test") == 0
        drain()
    # then
    lot.refresh_from_db()
    assert lot.remaining == 0
    assert Transfer.objects.filter(kind=Transfer.Kind.EXPIRE).count() == 1
    event = NotificationEvent.objects.get(kind=events.CREDIT_EXPIRED)
    assert event.data == {
        "account_name": "Acme",
        "lot_id": str(lot.pk),
        "unit": "USD",
        "amount": "50.00",
        "expires_at": expires_at.isoformat(),
    }
    (message,) = mail.outbox
    assert "$50.00" in message.body and message.to == ["olga@acme.test"]


@pytest.mark.django_db(transaction=True)
def test_expiry_notification_rolls_back_with_its_batch(monkeypatch):
    # given
    with time_machine.travel(START, tick=False):
        account = _owned_account()
        lot = _issue_at(account, 5000, START + timedelta(days=1))

    def broken(*args, **kwargs):
        raise RuntimeError("notification store down")

    monkeypatch.setattr(events, "record_many", broken)
    # when
    with time_machine.travel(START + timedelta(days=2), tick=False), pytest.raises(RuntimeError):
        expire_credits(actor="test")
    # then: neither the expiry nor the event happened
    lot.refresh_from_db()
    assert lot.remaining == 5000
    assert not Transfer.objects.filter(kind=Transfer.Kind.EXPIRE).exists()


def test_expiring_soon_reminders_at_30_and_7_days_never_repeat(drain):
    # given
    with time_machine.travel(START, tick=False):
        account = _owned_account()
        lot = _issue_at(account, 10000, START + timedelta(days=40))
    # when: runs every day until expiry
    counts = []
    for day in range(0, 40):
        with time_machine.travel(START + timedelta(days=day, hours=1), tick=False):
            counts.append(send_expiry_reminders(actor="test"))
    # then: exactly two reminders, 30 days and 7 days before
    assert sum(counts) == 2
    assert counts[10] == 1 and counts[33] == 1
    reminders = NotificationEvent.objects.filter(kind=events.CREDIT_EXPIRING_SOON).order_by("pk")
    assert [e.data["days"] for e in reminders] == [30, 7]
    assert all(e.data["lot_id"] == str(lot.pk) for e in reminders)
    drain()
    assert len(mail.outbox) == 2


def test_no_reminder_when_other_lots_cover_the_expiring_value():
    with time_machine.travel(START, tick=False):
        account = _owned_account()
        _issue_at(account, 10000, START + timedelta(days=20))
        _issue_at(account, 10000, START + timedelta(days=400))
        send_expiry_reminders(actor="test")
    assert not NotificationEvent.objects.exists()


def test_a_lot_first_seen_inside_7_days_gets_one_reminder():
    with time_machine.travel(START, tick=False):
        account = _owned_account()
        _issue_at(account, 10000, START + timedelta(days=5))
        assert send_expiry_reminders(actor="test") == 1
        assert send_expiry_reminders(actor="test") == 0
    assert NotificationEvent.objects.get().data["days"] == 7


def test_reminder_thresholds_are_configurable(settings):
    settings.TUITION = {**settings.TUITION, "EXPIRY_REMINDER_DAYS": [3]}
    with time_machine.travel(START, tick=False):
        account = _owned_account()
        _issue_at(account, 10000, START + timedelta(days=5))
        assert send_expiry_reminders(actor="test") == 0
    with time_machine.travel(START + timedelta(days=2, hours=1), tick=False):
        assert send_expiry_reminders(actor="test") == 1


def test_low_balance_alerts_once_per_crossing(drain):
    # given: an account with a 100.00 USD threshold and 150.00 USD
    account = _owned_account(low_balance_threshold={"USD": "100.00"})
    lot = issue(account, 15000)
    assert check_low_balances(actor="test") == 0
    # when: spending takes it below the threshold, twice over
    ledger.debit(account_id=account.pk, unit=lot.unit, amount=6000, actor="test")
    assert check_low_balances(actor="test") == 1
    ledger.debit(account_id=account.pk, unit=lot.unit, amount=1000, actor="test")
    assert check_low_balances(actor="test") == 0
    # then: a refill ends the crossing, the next drop alerts again
    issue(account, 10000)
    assert check_low_balances(actor="test") == 0
    ledger.debit(account_id=account.pk, unit=lot.unit, amount=15000, actor="test")
    assert check_low_balances(actor="test") == 1
    alerts = NotificationEvent.objects.filter(kind=events.BALANCE_LOW).order_by("pk")
    assert [(a.data["available"], a.data["threshold"]) for a in alerts] == [
        ("90.00", "100.00"),
        ("30.00", "100.00"),
    ]
    drain()
    assert len(mail.outbox) == 2


def test_periodic_runner_enqueues_each_job_once_per_slot():
    # given a moment well inside an hour (a minute later is still the same hour's slot)
    at = clock.now().replace(minute=10, second=5, microsecond=0)
    # when: two runners tick in the same slot
    first = periodic.tick(at=at)
    second = periodic.tick(at=at)
    # then
    assert sorted(first) == sorted(periodic.DEFAULT_INTERVALS)
    assert second == []
    assert PeriodicRun.objects.count() == len(periodic.DEFAULT_INTERVALS)
    assert DBTaskResult.objects.count() == len(periodic.DEFAULT_INTERVALS)
    # and the next slot of the one-minute jobs runs again
    later = periodic.tick(at=at + timedelta(seconds=61))
    assert "expire_credits" in later and "send_expiry_reminders" not in later


def test_periodic_jobs_run_in_the_worker(drain):
    with time_machine.travel(START, tick=False):
        account = _owned_account()
        _issue_at(account, 5000, START + timedelta(days=1))
    with time_machine.travel(START + timedelta(days=2), tick=False):
        periodic.tick()
        drain()
    assert Transfer.objects.filter(kind=Transfer.Kind.EXPIRE).count() == 1
    assert [m.to for m in mail.outbox] == [["olga@acme.test"]]


def test_cron_commands_are_idempotent(capsys):
    with time_machine.travel(START, tick=False):
        account = _owned_account(low_balance_threshold={"USD": "100.00"})
        _issue_at(account, 5000, START + timedelta(days=1))
    with time_machine.travel(START + timedelta(hours=2), tick=False):
        for _ in range(2):
            call_command("send_expiry_reminders")
            call_command("check_low_balances")
    with time_machine.travel(START + timedelta(days=2), tick=False):
        for _ in range(2):
            call_command("expire_credits")
        call_command("run_periodic", "--once")
    kinds = sorted(NotificationEvent.objects.values_list("kind", flat=True))
    assert kinds == [events.BALANCE_LOW, events.CREDIT_EXPIRED, events.CREDIT_EXPIRING_SOON]
