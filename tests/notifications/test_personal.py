"""Personal notifications: a learner hears about their own registration and bookings, a person
added to an account hears about it. Recipients are named, not the account's fan-out."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.urls import reverse
from standardwebhooks import Webhook

from tests.factories import (
    AccountFactory,
    MembershipFactory,
    UserFactory,
    fan_out_recorded,
    make_activity,
    make_credit,
    usd,
)
from tuition.accounts import services as accounts
from tuition.accounts.models import Membership
from tuition.catalog import services as catalog
from tuition.checkout import services as checkout
from tuition.checkout.payments import SUCCESS_CARD
from tuition.checkout.services import PaymentChoice
from tuition.notifications import events
from tuition.notifications.models import EmailDelivery, NotificationEvent, WebhookDelivery
from tuition.notifications.services import create_subscription

pytestmark = pytest.mark.django_db

# Well before the session, so it stays bookable; frozen so the spelled-out date is known.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def acme(db, drain):
    account = AccountFactory(name="Acme")
    MembershipFactory(
        account=account,
        user=UserFactory(email="olga@acme.test"),
        role=Membership.Role.OWNER,
        can_view_balance=True,
    )
    account.code_text = make_credit(account, 100000).code_text
    drain()
    mail.outbox.clear()  # the owner's credit.issued notice
    return account


@pytest.fixture
def course(db):
    usd()
    activity = make_activity(
        title="Cloud Fundamentals",
        price=30000,
        is_dated=True,
        learner_can_cancel=True,
        refund_window_days=14,
    )
    # 09:00-17:00 in Berlin (UTC+1 in January).
    catalog.create_session(
        activity_id=activity.pk,
        starts_at=datetime(2027, 1, 10, 8, 0, tzinfo=UTC),
        ends_at=datetime(2027, 1, 10, 16, 0, tzinfo=UTC),
        capacity=10,
        timezone="Europe/Berlin",
        location="Berlin, Room 4",
        actor="test",
    )
    catalog.create_session(
        activity_id=activity.pk,
        starts_at=datetime(2027, 2, 3, 14, 0, tzinfo=UTC),
        ends_at=datetime(2027, 2, 3, 22, 0, tzinfo=UTC),
        capacity=10,
        timezone="America/New_York",
        location="Online",
        actor="test",
    )
    return activity


def _sessions(course):
    return list(course.sessions.order_by("starts_at"))


def _code(acme):
    return acme.code_text


def _to(address):
    return [m for m in mail.outbox if m.to == [address]]


def test_a_code_checkout_emails_the_learner_once_with_the_booking(acme, course, drain):
    # given
    first, _second = _sessions(course)
    learner_code = _code(acme)
    # when
    result = checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=course.pk,
        session_id=first.pk,
        actor="test",
        payment=PaymentChoice(method="code", code=learner_code),
    )
    drain()
    # then one confirmation, to the learner only; the owner hears of the redemption as before
    event = NotificationEvent.objects.get(kind=events.REGISTRATION_CONFIRMED)
    assert event.account_id == acme.pk
    assert list(EmailDelivery.objects.filter(event=event).values_list("email", flat=True)) == [
        "ana@acme.test"
    ]
    (message,) = _to("ana@acme.test")
    assert [m.to for m in _to("olga@acme.test")] == [["olga@acme.test"]]
    assert message.subject.endswith("You are registered: Cloud Fundamentals")
    body = message.body
    assert result.order.number in body
    assert result.order.number in body and "receipt and invoice" in body
    assert "Sunday 10 January 2027, 09:00\u201317:00 CET (Europe/Berlin)" in body
    assert "Berlin, Room 4" in body
    assert "http://localhost:8000/learning/" in body
    assert "Acme's training credit" in body
    html = message.alternatives[0].content
    assert 'href="http://localhost:8000/learning/"' in html
    assert event.data["session"]["starts_at"] == "2027-01-10T09:00:00+01:00"
    assert event.data["learner_email"] == "ana@acme.test"


def test_a_card_checkout_has_no_account_and_still_reaches_the_learner(course, drain):
    # when
    first, _ = _sessions(course)
    result = checkout.checkout(
        learner_email="lena@learner.test",
        activity_id=course.pk,
        session_id=first.pk,
        actor="test",
        payment=PaymentChoice(method="card", card_number=SUCCESS_CARD),
    )
    drain()
    # then
    event = NotificationEvent.objects.get()
    assert event.kind == events.REGISTRATION_CONFIRMED and event.account_id is None
    (message,) = mail.outbox
    assert message.to == ["lena@learner.test"]
    assert result.order.number in message.body and "$300.00" in message.body


def test_an_invoice_order_confirms_when_it_is_marked_paid(course, drain):
    # given an order awaiting payment: nothing to confirm yet
    first, _ = _sessions(course)
    result = checkout.checkout(
        learner_email="lena@learner.test",
        activity_id=course.pk,
        session_id=first.pk,
        actor="test",
        payment=PaymentChoice(method="card", provider="invoice"),
    )
    drain()
    assert not mail.outbox
    # when staff mark it paid
    checkout.mark_order_paid(order_id=result.order.pk, actor="staff")
    drain()
    # then
    (message,) = mail.outbox
    assert message.to == ["lena@learner.test"] and result.order.number in message.body
    assert "Berlin, Room 4" in message.body


@pytest.mark.django_db(transaction=True)
def test_a_checkout_rolled_back_at_the_last_moment_tells_nobody(acme, course, monkeypatch):
    # given a checkout that fails after everything, the events included, was written
    def crash(name):
        raise RuntimeError(name)

    monkeypatch.setattr(checkout, "fault_point", crash)
    first, _ = _sessions(course)
    # when
    with pytest.raises(RuntimeError):
        checkout.checkout(
            learner_email="ana@acme.test",
            activity_id=course.pk,
            session_id=first.pk,
            actor="test",
            payment=PaymentChoice(method="code", code=_code(acme)),
        )
    # then no event and no email delivery survived the rollback
    assert not NotificationEvent.objects.exclude(kind=events.CREDIT_ISSUED).exists()
    assert not EmailDelivery.objects.filter(email="ana@acme.test").exists()


def test_find_another_time_unenroll_and_cancel_each_tell_the_learner(acme, course, drain):
    # given a booked learner
    first, second = _sessions(course)
    result = checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=course.pk,
        session_id=first.pk,
        actor="test",
        payment=PaymentChoice(method="code", code=_code(acme)),
    )
    drain()
    mail.outbox.clear()
    registration = result.registration.pk
    # when the learner moves, leaves, books again and cancels
    checkout.reschedule_booking(registration_id=registration, session_id=second.pk, actor="t")
    checkout.unenroll_from_session(registration_id=registration, actor="t")
    checkout.book_session(registration_id=registration, session_id=first.pk, actor="t")
    checkout.cancel_registration(registration_id=registration, actor="t")
    drain()
    # then four emails, all to the learner, in order
    assert [m.to for m in mail.outbox] == [["ana@acme.test"]] * 4
    moved, left, booked, cancelled = (m.body for m in mail.outbox)
    assert "moved to another date" in moved
    assert "Wednesday 3 February 2027, 09:00\u201317:00 EST (America/New_York)" in moved
    assert "Was: Sunday 10 January 2027, 09:00\u201317:00 CET (Europe/Berlin)" in moved
    assert "You left the session" in left and "America/New_York" in left
    assert "You are booked for" in booked and "Berlin, Room 4" in booked
    assert "was cancelled" in cancelled and "$300.00 was refunded" in cancelled
    changes = [
        e.data["change"]
        for e in NotificationEvent.objects.filter(kind=events.BOOKING_CHANGED).order_by("pk")
    ]
    assert changes == ["moved", "unenrolled", "booked"]


def test_team_booking_emails_each_member_once(acme, course, drain):
    # given two members of Acme
    from tuition.portal.services import book_for_team

    first, _ = _sessions(course)
    ana = MembershipFactory(account=acme, user=UserFactory(email="ana@acme.test"))
    ben = MembershipFactory(account=acme, user=UserFactory(email="ben@acme.test"))
    # when the owner books both
    results = book_for_team(
        account_id=acme.pk,
        activity_id=course.pk,
        session_id=first.pk,
        member_ids=[ana.pk, ben.pk],
        unit=usd(),
        actor="owner",
    )
    drain()
    # then each member gets exactly one confirmation of their own order
    assert all(r.error is None for r in results)
    for membership, result in zip([ana, ben], results, strict=True):
        (message,) = _to(membership.user.email)
        assert result.result.order.number in message.body
    assert NotificationEvent.objects.filter(kind=events.REGISTRATION_CONFIRMED).count() == 2


def test_inviting_by_email_tells_the_new_member_once(acme, client, drain):
    # given the owner signed in
    owner = Membership.objects.get(account=acme, role=Membership.Role.OWNER).user
    client.force_login(owner)
    url = reverse("portal:members", args=[acme.pk])
    # when they invite a new person
    response = client.post(url, {"email": "new@acme.test"})
    drain()
    # then the person is told, with a link to set a password
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["new@acme.test"]
    assert message.subject.endswith("You were added to Acme")
    assert "http://localhost:8000/accounts/password/reset/" in message.body
    event = NotificationEvent.objects.get(kind=events.MEMBER_INVITED)
    assert event.data["has_password"] is False and event.account_id == acme.pk
    # when the same person is invited again, or their settings change
    client.post(url, {"email": "new@acme.test"})
    accounts.add_member(account=acme, email="new@acme.test", can_view_balance=True, actor="owner")
    drain()
    # then nothing more is sent
    assert len(mail.outbox) == 1
    assert NotificationEvent.objects.filter(kind=events.MEMBER_INVITED).count() == 1


def test_a_person_with_a_password_is_asked_to_sign_in(acme, drain):
    UserFactory(email="has@acme.test", password="secret-pass-123")
    accounts.add_member(account=acme, email="has@acme.test", actor="owner")
    drain()
    (message,) = mail.outbox
    assert "http://localhost:8000/accounts/login/" in message.body
    assert "/password/reset/" not in message.body


def test_new_account_owners_are_told_but_personal_accounts_are_not(db, drain):
    accounts.create_account(name="Globex", owners=["gina@globex.test"], actor="staff")
    accounts.personal_account_for(email="solo@learner.test", actor="staff")
    drain()
    assert [m.to for m in mail.outbox] == [["gina@globex.test"]]
    assert "as an owner" in mail.outbox[0].body


def test_a_webhook_subscription_receives_registration_confirmed(acme, course, httpserver, drain):
    # given an integrating LMS listening for registrations
    httpserver.expect_request("/lms", method="POST").respond_with_data("ok")
    subscription = create_subscription(
        url=httpserver.url_for("/lms"), actor="test", event_kinds=[events.REGISTRATION_CONFIRMED]
    )
    first, _ = _sessions(course)
    # when a learner checks out (by code) and another by card
    by_code = checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=course.pk,
        session_id=first.pk,
        actor="test",
        payment=PaymentChoice(method="code", code=_code(acme)),
    )
    by_card = checkout.checkout(
        learner_email="lena@learner.test",
        activity_id=course.pk,
        session_id=first.pk,
        actor="test",
        payment=PaymentChoice(method="card", card_number=SUCCESS_CARD),
    )
    drain()
    # then both arrive, signed, with the registration's details
    payloads = [
        Webhook(subscription.secret).verify(request.get_data(), dict(request.headers))
        for request, _ in httpserver.log
    ]
    assert [p["type"] for p in payloads] == [events.REGISTRATION_CONFIRMED] * 2
    code_payload, card_payload = payloads
    assert code_payload["data"]["order_number"] == by_code.order.number
    assert code_payload["data"]["registration_id"] == str(by_code.registration.pk)
    assert code_payload["data"]["account_id"] == str(acme.pk)
    assert code_payload["data"]["session"]["timezone"] == "Europe/Berlin"
    assert card_payload["data"]["account_id"] is None
    assert card_payload["data"]["learner_email"] == "lena@learner.test"
    assert card_payload["data"]["order_id"] == str(by_card.order.pk)
    assert WebhookDelivery.objects.filter(status="sent").count() == 2


def test_an_account_scoped_subscription_hears_only_its_accounts_registrations(acme, course, drain):
    # given a subscription of another account
    other = AccountFactory(name="Globex")
    create_subscription(url="http://127.0.0.1:9/x", actor="test", account_id=other.pk)
    mine = create_subscription(url="http://127.0.0.1:9/y", actor="test", account_id=acme.pk)
    first, _ = _sessions(course)
    # when
    checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=course.pk,
        session_id=first.pk,
        actor="test",
        payment=PaymentChoice(method="code", code=_code(acme)),
    )
    # then
    fan_out_recorded()
    kinds = set(WebhookDelivery.objects.values_list("subscription_id", "event__kind"))
    assert kinds == {(mine.pk, events.REGISTRATION_CONFIRMED), (mine.pk, events.CREDIT_REDEEMED)}


def test_record_refuses_personal_kinds_without_recipients_and_account_kinds_without_account(db):
    with pytest.raises(ValueError), transaction.atomic():
        events.record(events.REGISTRATION_CONFIRMED, account_id=None, data={})
    with pytest.raises(ValueError), transaction.atomic():
        events.record(events.CREDIT_ISSUED, account_id=None, data={})
    assert not NotificationEvent.objects.exists()


def test_a_person_named_twice_gets_one_email(db):
    user = UserFactory(email="ana@acme.test")
    with transaction.atomic():
        events.record(
            events.MEMBER_INVITED,
            account_id=None,
            data={"account_name": "Acme"},
            recipients=[events.person(user), events.person(user)],
        )
    fan_out_recorded()
    assert list(EmailDelivery.objects.values_list("email", flat=True)) == ["ana@acme.test"]


def test_a_real_smtp_server_receives_the_learners_confirmation(course, smtp_receiver, drain):
    # when
    first, _ = _sessions(course)
    result = checkout.checkout(
        learner_email="lena@learner.test",
        activity_id=course.pk,
        session_id=first.pk,
        actor="test",
        payment=PaymentChoice(method="card", card_number=SUCCESS_CARD),
    )
    drain()
    # then exactly one message, to the learner, in text and HTML
    (message,) = smtp_receiver.messages
    assert message["To"] == "lena@learner.test"
    assert message["X-Tuition-Event"] == events.REGISTRATION_CONFIRMED
    text = message.get_body(("plain",)).get_content()
    assert text.count(result.order.number) == 1 and "Berlin, Room 4" in text
    html = message.get_body(("html",)).get_content()
    assert "<strong>Cloud Fundamentals</strong>" in html
    assert EmailDelivery.objects.get().status == "sent"


def test_a_partial_refund_tells_the_learner_and_the_owners_and_the_webhook(acme, drain):
    from tuition.checkout.refunds import refund_part

    # given a paid order and a subscription to refunds
    create_subscription(
        url="https://crm.example.com/hooks", actor="test", event_kinds=[events.ORDER_REFUNDED]
    )
    self_paced = make_activity(title="Security Essentials", price=45000)
    order = checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=self_paced.pk,
        actor="test",
        payment=PaymentChoice(method="code", code=acme.code_text),
    ).order
    drain()
    mail.outbox.clear()
    # when 45.50 of it is refunded
    note = refund_part(order_id=order.pk, amount=4550, reason="Price dropped", actor="staff")
    drain()
    # then the learner and the owner each get one email, and the webhook is queued
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@acme.test", "olga@acme.test"]
    body = mail.outbox[0].body
    assert mail.outbox[0].subject.endswith("Partial refund: Security Essentials")
    assert '$45.50 of your order for "Security Essentials" was refunded.' in body
    assert "Reason: Price dropped" in body and note.number in body
    assert "Refunded so far: $45.50 of $450.00" in body
    hook = WebhookDelivery.objects.get(event__kind="order.refunded")
    assert hook.event.data["amount"] == "45.50" and hook.event.data["unit"] == "USD"
