import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from tests.factories import AccountFactory, MembershipFactory, UserFactory, fan_out_recorded
from tuition.accounts.models import Membership
from tuition.core import clock
from tuition.notifications import events
from tuition.notifications.fan_out import fan_out, fan_out_pending
from tuition.notifications.models import (
    DeliveryStatus,
    EmailDelivery,
    NotificationEvent,
    WebhookDelivery,
)
from tuition.notifications.services import create_subscription

pytestmark = pytest.mark.django_db


def _account_with_people():
    account = AccountFactory(name="Acme")
    owner = MembershipFactory(
        account=account, user=UserFactory(email="olga@acme.test"), role=Membership.Role.OWNER
    )
    follower = MembershipFactory(
        account=account,
        user=UserFactory(email="ana@acme.test"),
        notify=True,
        can_view_balance=False,
    )
    MembershipFactory(account=account, user=UserFactory(email="quiet@acme.test"), notify=False)
    return account, owner, follower


def test_record_writes_the_event_and_its_fan_out_task_and_the_worker_writes_deliveries_once():
    # given
    account, _owner, _follower = _account_with_people()
    create_subscription(
        url="http://127.0.0.1:9/hook", actor="test", event_kinds=[events.CREDIT_ISSUED]
    )
    create_subscription(
        url="http://127.0.0.1:9/other", actor="test", event_kinds=[events.BALANCE_LOW]
    )
    # when
    with transaction.atomic():
        events.record(
            events.CREDIT_ISSUED,
            account_id=account.pk,
            data={
                "account_name": "Acme",
                "unit": "USD",
                "amount": "50.00",
                "lot_id": "7",
                "expires_at": None,
            },
        )
    # then the caller's transaction holds the event and one task, and no delivery yet
    event = NotificationEvent.objects.get()
    assert event.kind == events.CREDIT_ISSUED and event.data["amount"] == "50.00"
    assert event.fanned_out_at is None and not EmailDelivery.objects.exists()
    assert DBTaskResult.objects.filter(task_path__endswith="fan_out_events").count() == 1

    # when the worker fans it out, twice (a retried task)
    assert fan_out_recorded() == 1
    assert fan_out(event_ids=[event.pk]) == 0

    # then each person and subscription got one delivery, handed to the sender
    assert sorted(EmailDelivery.objects.values_list("email", flat=True)) == [
        "ana@acme.test",
        "olga@acme.test",
    ]
    assert WebhookDelivery.objects.get().subscription.url == "http://127.0.0.1:9/hook"
    assert DBTaskResult.objects.filter(task_path__endswith="send_deliveries").count() == 2
    event.refresh_from_db()
    assert event.fanned_out_at is not None


def test_record_rolls_back_with_the_caller():
    account, _, _ = _account_with_people()
    with pytest.raises(RuntimeError), transaction.atomic():
        events.record(events.CREDIT_ISSUED, account_id=account.pk, data={"account_name": "Acme"})
        raise RuntimeError("the change failed")
    assert not NotificationEvent.objects.exists()
    assert not EmailDelivery.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_record_with_the_same_dedupe_key_is_a_no_op():
    account, _, _ = _account_with_people()
    for _ in range(3):
        events.record(
            events.CREDIT_EXPIRING_SOON,
            account_id=account.pk,
            data={"account_name": "Acme"},
            dedupe_key="soon:1:30",
        )
    fan_out_recorded()
    assert NotificationEvent.objects.count() == 1
    assert EmailDelivery.objects.count() == 2


def test_record_refuses_unknown_kinds():
    account = AccountFactory()
    with pytest.raises(ValueError):
        events.record("credit.stolen", account_id=account.pk, data={})


def test_low_balance_is_not_sent_to_members_who_may_not_see_the_balance():
    account, _, _ = _account_with_people()
    events.record(
        events.BALANCE_LOW,
        account_id=account.pk,
        data={"account_name": "Acme", "unit": "USD", "available": "10.00", "threshold": "100.00"},
    )
    fan_out_recorded()
    assert list(EmailDelivery.objects.values_list("email", flat=True)) == ["olga@acme.test"]


_HOLD = {
    "hold_id": "7",
    "order_number": "2026-HOLD",
    "amount": "600.00",
    "item_title": "Data Analytics",
    "learner_email": "ben@acme.test",
    "expires_at": "2026-12-05T08:00:00+00:00",
}


@pytest.mark.parametrize(
    "kind, data, expected",
    [
        (
            events.CREDIT_ISSUED,
            {"amount": "50.00", "expires_at": "2027-01-01T00:00:00+00:00", "code": "ABCD-EFGH"},
            "ABCD-EFGH",
        ),
        (
            events.CREDIT_REDEEMED,
            {
                "amount": "30.00",
                "learner_email": "ana@acme.test",
                "item_title": "Cloud Fundamentals",
            },
            "Cloud Fundamentals",
        ),
        (
            events.CREDIT_EXPIRED,
            {"amount": "20.00", "expires_at": "2026-05-01T00:00:00+00:00"},
            "can no longer be used",
        ),
        (
            events.CREDIT_EXPIRY_CHANGED,
            {"old_expires_at": "2026-05-01", "new_expires_at": None},
            "to never",
        ),
        (
            events.CREDIT_EXPIRING_SOON,
            {"amount": "20.00", "days": 7, "expires_at": "2026-05-01"},
            "7 days",
        ),
        (events.BALANCE_LOW, {"available": "10.00", "threshold": "100.00"}, "below the alert"),
        (
            events.REFILL_PURCHASED,
            {"amount": "500.00", "price": "450.00", "order_number": "O-1"},
            "O-1",
        ),
        (
            events.REFILL_AUTOMATIC,
            {"amount": "200.00", "trigger": "allowance", "status": "paid", "price": "200.00"},
            "Paid by card",
        ),
        (
            events.REFILL_AUTOMATIC_PAUSED,
            {"amount": "200.00", "trigger": "threshold", "reason": "card_declined"},
            "the card was declined",
        ),
        (events.HOLD_PLACED, _HOLD, "is held until you approve or decline"),
        (events.HOLD_APPROVED, _HOLD, "was approved"),
        (events.HOLD_DECLINED, _HOLD, "was declined"),
        (events.HOLD_EXPIRED, _HOLD, "was not decided in time"),
        (events.CREDIT_ISSUED, {}, "A new credit"),  # fields missing: the template copes
    ],
)
def test_every_kind_renders_a_text_and_html_email_with_branding(
    kind, data, expected, drain, settings
):
    # given
    settings.TUITION = {**settings.TUITION, "PROVIDER_NAME": "Northwind Training"}
    account = AccountFactory(name="Acme")
    MembershipFactory(
        account=account, role=Membership.Role.OWNER, user=UserFactory(email="olga@acme.test")
    )
    # when
    events.record(kind, account_id=account.pk, data={"account_name": "Acme", "unit": "USD", **data})
    drain()
    # then
    (message,) = mail.outbox
    assert message.to == ["olga@acme.test"]
    assert message.subject.startswith("[Northwind Training]")
    assert expected in message.body
    html = message.alternatives[0].content
    assert "Northwind Training" in html and "<html" in html
    # the HTML part (what mail clients show) says the same, not a generic line
    assert expected in re.sub(r"<[^>]+>", "", html)
    assert "There is news" not in html and "There is news" not in message.body
    if kind == events.HOLD_PLACED:  # the owner is taken to the decision
        link = f"http://localhost:8000/manage/{account.pk}/approvals/"
        assert f"Approve or decline: {link}" in message.body and f'href="{link}"' in html
    delivery = EmailDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    assert message.extra_headers["Message-ID"] == delivery.message_id
    assert f".{delivery.pk}@" in delivery.message_id


def test_a_name_ending_in_a_period_ends_a_sentence_with_one(drain):
    account = AccountFactory(name="Acme & Sons Inc.")
    MembershipFactory(
        account=account, role=Membership.Role.OWNER, user=UserFactory(email="olga@acme.test")
    )
    events.record(
        events.CREDIT_ISSUED,
        account_id=account.pk,
        data={"account_name": account.name, "unit": "USD", "amount": "500.00"},
    )
    drain()
    (message,) = mail.outbox
    html = message.alternatives[0].content
    assert "was added to Acme & Sons Inc.\n" in message.body + "\n"
    assert "Inc.." not in message.body
    assert "Acme &amp; Sons Inc.</strong></p>" in html and "Inc.." not in html
    assert "Inc.</strong>." not in html


def test_a_sent_delivery_is_never_sent_again(drain):
    account, _, _ = _account_with_people()
    events.record(events.CREDIT_ISSUED, account_id=account.pk, data={"account_name": "Acme"})
    drain()
    # when: the same deliveries are handed to the worker again (a duplicate task)
    from tuition.notifications.delivery import enqueue_sending

    enqueue_sending(email_ids=list(EmailDelivery.objects.values_list("pk", flat=True)))
    drain()
    # then
    assert len(mail.outbox) == 2
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_a_delivery_whose_worker_died_is_resent_with_the_same_message_id(drain):
    # given: a worker claimed the delivery, then died before recording "sent"
    account, _, _ = _account_with_people()
    events.record(events.CREDIT_ISSUED, account_id=account.pk, data={"account_name": "Acme"})
    fan_out_recorded()
    DBTaskResult.objects.all().delete()
    EmailDelivery.objects.update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=clock.now() - timedelta(seconds=1)
    )
    # when
    from tuition.notifications.services import retry_stuck_deliveries

    assert retry_stuck_deliveries(actor="test") == 2
    drain()
    # then
    assert len(mail.outbox) == 2
    for delivery in EmailDelivery.objects.all():
        assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    ids = {m.extra_headers["Message-ID"] for m in mail.outbox}
    assert ids == set(EmailDelivery.objects.values_list("message_id", flat=True))


def test_a_delivery_claimed_by_a_live_worker_is_left_alone(drain):
    account, _, _ = _account_with_people()
    events.record(events.CREDIT_ISSUED, account_id=account.pk, data={"account_name": "Acme"})
    fan_out_recorded()
    EmailDelivery.objects.update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=clock.now() + timedelta(minutes=5)
    )
    drain()
    assert mail.outbox == []
    assert set(EmailDelivery.objects.values_list("attempts", flat=True)) == {1}


def test_an_event_whose_fan_out_task_was_lost_is_fanned_out_by_the_stuck_sweep(drain):
    # given an event whose fan-out task vanished, recorded long ago
    account, _, _ = _account_with_people()
    events.record(events.CREDIT_ISSUED, account_id=account.pk, data={"account_name": "Acme"})
    DBTaskResult.objects.all().delete()
    NotificationEvent.objects.update(created_at=clock.now() - timedelta(hours=1))
    # when the sweep runs and the worker drains its queue
    from tuition.notifications.services import retry_stuck_deliveries

    assert retry_stuck_deliveries(actor="test") == 1
    drain()
    # then the people got their emails, once each
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@acme.test", "olga@acme.test"]
    assert not NotificationEvent.objects.filter(fanned_out_at__isnull=True).exists()


def test_a_worker_woken_before_the_events_fans_out_every_pending_event_once():
    # given two transactions that wake the worker first and record afterwards (checkout does,
    # before its wallet lock), and an event of a third that wakes nobody yet
    account, _owner, _follower = _account_with_people()
    for amount in ("10.00", "20.00"):
        with transaction.atomic():
            events.wake_worker()
            events.record(
                events.CREDIT_ISSUED,
                account_id=account.pk,
                data={"account_name": "Acme", "amount": amount},
                worker_woken=True,
            )
    # then each transaction wrote one task, which names no event, and none of the others
    assert DBTaskResult.objects.filter(task_path__endswith="fan_out_pending_events").count() == 2
    assert not DBTaskResult.objects.filter(task_path__endswith="fan_out_events").exists()

    # when both tasks run
    assert fan_out_pending() == 2
    assert fan_out_pending() == 0

    # then each event went to each recipient once
    assert EmailDelivery.objects.count() == 4
    assert not NotificationEvent.objects.filter(fanned_out_at__isnull=True).exists()


def test_a_woken_worker_whose_transaction_rolled_back_finds_nothing():
    account, _, _ = _account_with_people()
    with pytest.raises(RuntimeError), transaction.atomic():
        events.wake_worker()
        events.record(
            events.CREDIT_ISSUED,
            account_id=account.pk,
            data={"account_name": "Acme"},
            worker_woken=True,
        )
        raise RuntimeError("the checkout was refused under its lock")
    assert not DBTaskResult.objects.exists()
    assert not NotificationEvent.objects.exists()
    assert fan_out_pending() == 0
