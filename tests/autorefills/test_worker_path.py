"""After a checkout, the worker that sends its notifications checks the account's threshold
rule: the refill is bought and the owners are told, in their language, without waiting for the
periodic job."""

import pytest
from django.core import mail

from tests.autorefills.test_rules import CARD_THRESHOLD
from tests.factories import make_activity, make_credit, usd
from tests.notifications.conftest import run_queued_tasks
from tuition.autorefills import services as autorefills
from tuition.autorefills.models import RefillFiring
from tuition.checkout import services as checkout
from tuition.checkout.payments import DECLINED_CARD
from tuition.checkout.services import PaymentChoice
from tuition.notifications.models import EmailDelivery, NotificationEvent, WebhookDelivery
from tuition.notifications.services import create_subscription

pytestmark = pytest.mark.django_db


def test_the_worker_buys_the_refill_after_the_checkout_it_notified(acme, owner):
    # given: 150.00 and "below 100.00 buy 500.00"; the owner reads German
    owner.language = "de"
    owner.save()
    credit = make_credit(acme, 15000)
    autorefills.set_rule(
        account_id=acme.pk, unit=usd(), rule=CARD_THRESHOLD, buyer=owner, actor="user:1"
    )
    course = make_activity(price=10000)
    run_queued_tasks()
    mail.outbox.clear()

    # when: a 100.00 checkout leaves 50.00, and the worker runs what is queued
    checkout.checkout(
        learner_email="ben@acme.test",
        activity_id=course.pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="user:ben@acme.test",
    )
    assert not RefillFiring.objects.exists()  # nothing inside the checkout
    run_queued_tasks()

    # then: one refill, one automatic-refill email in German
    firing = RefillFiring.objects.get()
    assert firing.outcome == "paid" and firing.balance_before == 5000
    subjects = [m.subject for m in mail.outbox if m.to == [owner.email]]
    automatic = [s for s in subjects if "automatische Aufladung" in s]
    assert automatic == ["[Northwind Training] Acme: automatische Aufladung in USD"], subjects
    body = next(m.body for m in mail.outbox if m.subject == automatic[0])
    assert "unter 100,00" in body and "500,00" in body, body
    assert firing.order.number in body


def test_a_declined_card_emails_the_owner_that_the_rule_is_paused(acme, owner):
    autorefills.set_rule(
        account_id=acme.pk,
        unit=usd(),
        rule=autorefills.RuleInput(
            kind="allowance", amount=20000, provider="sandbox", card_number=DECLINED_CARD
        ),
        buyer=owner,
        actor="user:1",
    )
    from tuition.autorefills.models import RefillRule

    RefillRule.objects.update(created_at=autorefills.month_start(autorefills.clock.now()))
    mail.outbox.clear()

    assert autorefills.run_automatic_refills() == 0
    run_queued_tasks()

    event = NotificationEvent.objects.get(kind="refill.automatic_paused")
    assert event.data["reason"] == "card_declined"
    (message,) = [m for m in mail.outbox if "paused" in m.subject]
    assert message.subject.endswith("Acme: automatic refill paused")
    assert "was paused: the card was declined" in message.body
    assert "resume the automatic refill" in message.body


def test_an_automatic_refill_is_one_email_to_the_owner_and_three_webhook_events(acme, owner):
    # given a threshold rule, a webhook endpoint for every event, and a checkout that crosses
    create_subscription(url="https://hooks.example.test/all", actor="t")
    credit = make_credit(acme, 15000)
    autorefills.set_rule(
        account_id=acme.pk, unit=usd(), rule=CARD_THRESHOLD, buyer=owner, actor="user:1"
    )
    course = make_activity(price=10000)
    run_queued_tasks()
    before = set(NotificationEvent.objects.values_list("pk", flat=True))

    # when the refill is bought after the checkout
    checkout.checkout(
        learner_email="ben@acme.test",
        activity_id=course.pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="user:ben@acme.test",
    )
    run_queued_tasks()

    # then the refill's three events all reach the endpoint, and the owner reads one email
    # about it: the automatic refill's, with its price and order
    refill_kinds = {"credit.issued", "refill.purchased", "refill.automatic"}
    new = NotificationEvent.objects.exclude(pk__in=before).filter(kind__in=refill_kinds)
    assert sorted(new.values_list("kind", flat=True)) == sorted(refill_kinds)
    hooked = WebhookDelivery.objects.filter(event__in=new).values_list("event__kind", flat=True)
    assert sorted(hooked) == sorted(refill_kinds)
    emailed = EmailDelivery.objects.filter(event__in=new)
    assert list(emailed.values_list("event__kind", "email")) == [("refill.automatic", owner.email)]
