import json
from datetime import timedelta

import pytest
import time_machine
from standardwebhooks import Webhook

from tests.factories import AccountFactory, fan_out_recorded
from tuition.core import clock
from tuition.core.errors import NotFoundError, ValidationError
from tuition.notifications import events
from tuition.notifications.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from tuition.notifications.services import (
    create_subscription,
    delete_subscription,
    retry_webhook_delivery,
    rotate_secret,
    update_subscription,
)
from tuition.notifications.ssrf import UnsafeWebhookUrlError

pytestmark = pytest.mark.django_db


def _issued(account):
    events.record(
        events.CREDIT_ISSUED,
        account_id=account.pk,
        data={
            "account_name": account.name,
            "unit": "USD",
            "amount": "50.00",
            "lot_id": "12",
            "expires_at": None,
        },
    )


def test_a_real_receiver_gets_a_delivery_whose_signature_verifies(httpserver, drain):
    # given
    httpserver.expect_request("/hook", method="POST").respond_with_data("thanks")
    account = AccountFactory(name="Acme")
    subscription = create_subscription(
        url=httpserver.url_for("/hook"), actor="test", event_kinds=[events.CREDIT_ISSUED]
    )
    assert subscription.secret.startswith("whsec_")
    # when
    _issued(account)
    drain()
    # then
    ((request, _response),) = httpserver.log
    payload = Webhook(subscription.secret).verify(request.get_data(), dict(request.headers))
    assert payload["type"] == "credit.issued"
    assert payload["data"]["account_name"] == "Acme" and payload["data"]["amount"] == "50.00"
    assert payload["data"]["account_id"] == str(account.pk)
    delivery = WebhookDelivery.objects.get()
    assert request.headers["webhook-id"] == delivery.message_id
    assert delivery.status == DeliveryStatus.SENT and delivery.response_code == 200
    assert delivery.attempts == 1 and delivery.response_body == "thanks"


def test_subscriptions_only_get_their_kinds_and_their_account():
    acme, other = AccountFactory(), AccountFactory()
    everything = create_subscription(url="https://example.com/all", actor="test")
    only_acme = create_subscription(
        url="https://example.com/acme", actor="test", account_id=acme.pk
    )
    only_low = create_subscription(
        url="https://example.com/low", actor="test", event_kinds=[events.BALANCE_LOW]
    )
    _issued(acme)
    _issued(other)
    fan_out_recorded()
    got = sorted(WebhookDelivery.objects.values_list("subscription_id", flat=True))
    assert got == sorted([everything.pk, everything.pk, only_acme.pk])
    assert not WebhookDelivery.objects.filter(subscription=only_low).exists()


def test_failed_delivery_is_retried_with_backoff_then_succeeds(httpserver, drain):
    # given: the endpoint fails twice, then works
    httpserver.expect_ordered_request("/hook").respond_with_data("down", status=503)
    httpserver.expect_ordered_request("/hook").respond_with_data("down", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok", status=204)
    account = AccountFactory()
    create_subscription(url=httpserver.url_for("/hook"), actor="test")
    start = clock.now()
    with time_machine.travel(start, tick=False):
        _issued(account)
        drain()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.response_code == 503
    first_wait = delivery.next_attempt_at - start
    assert timedelta(seconds=30) <= first_wait <= timedelta(seconds=36)
    # when: not yet due, nothing happens
    with time_machine.travel(start + timedelta(seconds=29), tick=False):
        assert drain() == 0
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1), tick=False):
        drain()
        second_start = clock.now()
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.response_code == 500
    assert delivery.next_attempt_at - second_start >= timedelta(seconds=60)
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1), tick=False):
        drain()
    # then
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 3
    assert delivery.response_code == 204
    assert len(httpserver.log) == 3
    ids = {request.headers["webhook-id"] for request, _ in httpserver.log}
    assert ids == {delivery.message_id}


def test_delivery_gives_up_after_the_last_attempt(httpserver, drain, settings):
    settings.TUITION = {**settings.TUITION, "DELIVERY_MAX_ATTEMPTS": 2}
    httpserver.expect_request("/hook").respond_with_data("nope", status=500)
    account = AccountFactory()
    create_subscription(url=httpserver.url_for("/hook"), actor="test")
    _issued(account)
    drain()
    with time_machine.travel(clock.now() + timedelta(hours=1), tick=False):
        drain()
    with time_machine.travel(clock.now() + timedelta(days=1), tick=False):
        assert drain() == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DEAD and delivery.attempts == 2
    assert len(httpserver.log) == 2
    # and staff can send it again after fixing the endpoint
    httpserver.clear_all_handlers()
    httpserver.expect_request("/hook").respond_with_data("ok")
    retry_webhook_delivery(delivery_id=delivery.pk, actor="test")
    drain()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://localhost:8000/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "ftp://example.com/",
        "not a url",
        "http://user:pw@example.com/",
    ],
)
def test_ssrf_guard_refuses_private_addresses(url, settings):
    settings.TUITION = {**settings.TUITION, "WEBHOOKS_ALLOW_PRIVATE": False}
    with pytest.raises(ValidationError):
        create_subscription(url=url, actor="test")
    assert not WebhookSubscription.objects.exists()


def test_ssrf_guard_accepts_public_addresses(settings):
    settings.TUITION = {**settings.TUITION, "WEBHOOKS_ALLOW_PRIVATE": False}
    assert create_subscription(url="https://93.184.216.34/hook", actor="test").pk


def test_ssrf_guard_also_holds_at_delivery_time(httpserver, drain, settings):
    # given: a loopback subscription made while private addresses were allowed
    httpserver.expect_request("/hook").respond_with_data("ok")
    account = AccountFactory()
    create_subscription(url=httpserver.url_for("/hook"), actor="test")
    settings.TUITION = {**settings.TUITION, "WEBHOOKS_ALLOW_PRIVATE": False}
    # when
    _issued(account)
    drain()
    # then
    assert httpserver.log == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and "private" in delivery.last_error


def test_rotated_secret_signs_with_both_during_the_grace_period(httpserver, drain):
    httpserver.expect_request("/hook").respond_with_data("ok")
    account = AccountFactory()
    subscription = create_subscription(url=httpserver.url_for("/hook"), actor="test")
    old = subscription.secret
    rotated = rotate_secret(subscription_id=subscription.pk, actor="test")
    assert rotated.secret != old and rotated.secret.startswith("whsec_")
    _issued(account)
    drain()
    ((request, _),) = httpserver.log
    for secret in (old, rotated.secret):
        Webhook(secret).verify(request.get_data(), dict(request.headers))
    assert len(request.headers["webhook-signature"].split(" ")) == 2


def test_update_and_delete_subscription(drain):
    account = AccountFactory()
    subscription = create_subscription(url="https://example.com/a", actor="test")
    updated = update_subscription(
        subscription_id=subscription.pk,
        actor="test",
        url="https://example.com/b",
        event_kinds=[events.BALANCE_LOW],
        is_active=False,
    )
    assert (updated.url, updated.event_kinds, updated.is_active) == (
        "https://example.com/b",
        ["balance.low"],
        False,
    )
    with pytest.raises(ValidationError):
        update_subscription(subscription_id=subscription.pk, actor="test", event_kinds=["nope"])
    update_subscription(
        subscription_id=subscription.pk, actor="test", is_active=True, event_kinds=[]
    )
    _issued(account)
    fan_out_recorded()  # its delivery exists, then the subscription goes
    delete_subscription(subscription_id=subscription.pk, actor="test")
    drain()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DEAD
    with pytest.raises(NotFoundError):
        delete_subscription(subscription_id=subscription.pk, actor="test")
    with pytest.raises(UnsafeWebhookUrlError):
        update_subscription(
            subscription_id=WebhookSubscription.objects.create(
                url="https://x.test", secret="whsec_AA==", created_at=clock.now()
            ).pk,
            actor="test",
            url="gopher://x",
        )


def test_payload_is_the_same_on_every_attempt():
    from tuition.notifications.delivery import webhook_payload
    from tuition.notifications.models import NotificationEvent

    account = AccountFactory(name="Acme")
    _issued(account)
    event = NotificationEvent.objects.get()
    assert webhook_payload(event) == webhook_payload(event)
    assert json.loads(webhook_payload(event))["type"] == "credit.issued"
