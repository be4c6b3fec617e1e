"""Creating or changing a webhook subscription resolves its host name (the SSRF check): that
network call must happen before the transaction opens, never inside it."""

import pytest
from django.db import connection

from tuition.notifications import services
from tuition.notifications.models import WebhookSubscription

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seen_in_transaction(monkeypatch):
    seen: list[bool] = []

    def check(url: str) -> None:
        seen.append(connection.in_atomic_block)

    monkeypatch.setattr(services, "check_webhook_url", check)
    return seen


def test_create_and_update_check_the_url_outside_any_transaction(seen_in_transaction):
    # when
    created = services.create_subscription(url="https://hooks.example.test/a", actor="t")
    services.update_subscription(
        subscription_id=created.pk, url="https://hooks.example.test/b", actor="t"
    )
    # then
    assert seen_in_transaction == [False, False]
    assert WebhookSubscription.objects.get().url == "https://hooks.example.test/b"
