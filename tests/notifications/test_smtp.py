from datetime import timedelta

import pytest
import time_machine

from tests.factories import AccountFactory, MembershipFactory, UserFactory
from tuition.accounts.models import Membership
from tuition.core import clock
from tuition.notifications import events
from tuition.notifications.models import DeliveryStatus, EmailDelivery

pytestmark = pytest.mark.django_db


def _account():
    account = AccountFactory(name="Acme")
    MembershipFactory(
        account=account, role=Membership.Role.OWNER, user=UserFactory(email="olga@acme.test")
    )
    MembershipFactory(account=account, notify=True, user=UserFactory(email="ana@acme.test"))
    return account


def _expired(account):
    events.record(
        events.CREDIT_EXPIRED,
        account_id=account.pk,
        data={
            "account_name": "Acme",
            "unit": "USD",
            "amount": "20.00",
            "lot_id": "3",
            "expires_at": "2026-05-01T00:00:00+00:00",
        },
    )


def test_a_real_smtp_server_receives_text_and_html(smtp_receiver, drain):
    # given
    account = _account()
    # when
    _expired(account)
    drain()
    # then
    received = {m["To"]: m for m in smtp_receiver.messages}
    assert sorted(received) == ["ana@acme.test", "olga@acme.test"]
    message = received["olga@acme.test"]
    assert "credit expired" in message["Subject"]
    delivery = EmailDelivery.objects.get(email="olga@acme.test")
    assert message["Message-ID"] == delivery.message_id
    assert message.get_body(("plain",)).get_content().count("$20.00") == 1
    assert "<strong>$20.00</strong>" in message.get_body(("html",)).get_content()
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_smtp_failure_is_retried_with_backoff_then_succeeds(smtp_receiver, drain):
    # given: the server refuses the first two attempts
    account = AccountFactory(name="Acme")
    MembershipFactory(
        account=account, role=Membership.Role.OWNER, user=UserFactory(email="olga@acme.test")
    )
    smtp_receiver.refuse_next = 2
    start = clock.now()
    with time_machine.travel(start, tick=False):
        _expired(account)
        drain()
    delivery = EmailDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "451" in delivery.last_error
    assert timedelta(seconds=30) <= delivery.next_attempt_at - start <= timedelta(seconds=36)
    first_retry = delivery.next_attempt_at
    with time_machine.travel(first_retry + timedelta(seconds=1), tick=False):
        drain()
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.next_attempt_at - first_retry >= timedelta(seconds=60)
    # when
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1), tick=False):
        drain()
    # then: delivered once, on the third attempt
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 3
    assert smtp_receiver.refused == 2
    assert [m["To"] for m in smtp_receiver.messages] == ["olga@acme.test"]


def test_an_unreachable_smtp_server_is_retried(settings, drain):
    from tests.notifications.conftest import free_port

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    _expired(_account())
    drain()
    deliveries = EmailDelivery.objects.all()
    assert {d.status for d in deliveries} == {DeliveryStatus.PENDING}
    assert all("Connection" in d.last_error or "refused" in d.last_error for d in deliveries)
