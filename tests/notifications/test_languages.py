"""Emails speak their recipient's language, carry the receipt and invoice as PDF, and show
times in the recipient's own time zone."""

import io
from datetime import UTC, datetime

import pytest
from django.core import mail
from pypdf import PdfReader

from tests.factories import AccountFactory, MembershipFactory, UserFactory, make_activity, usd
from tuition.accounts.models import Membership, User
from tuition.catalog import services as catalog
from tuition.checkout import services as checkout
from tuition.checkout.services import PaymentChoice
from tuition.notifications import events

SUCCESS_CARD = "4242424242424242"


@pytest.fixture
def course(db):
    usd()
    activity = make_activity(title="Cloud Fundamentals", price=30000, is_dated=True)
    catalog.create_session(
        activity_id=activity.pk,
        starts_at=datetime(2027, 1, 10, 8, 0, tzinfo=UTC),
        ends_at=datetime(2027, 1, 10, 16, 0, tzinfo=UTC),
        timezone="Europe/Berlin",
        capacity=10,
        location="Berlin, Room 4",
        actor="test",
    )
    return activity


def _pdf_text(content: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def _buy(course, email: str):  # type: ignore[no-untyped-def]
    return checkout.checkout(
        learner_email=email,
        activity_id=course.pk,
        session_id=course.sessions.get().pk,
        actor="test",
        payment=PaymentChoice(method="card", card_number=SUCCESS_CARD),
    )


def test_the_confirmation_carries_the_receipt_and_invoice_as_pdf(course, drain):
    # when an English-speaking learner pays by card
    result = _buy(course, "lena@learner.test")
    drain()

    # then the email has both documents attached, and they say Paid
    (message,) = mail.outbox
    files = {name: content for name, content, mimetype in message.attachments}
    order = result.order
    assert set(files) == {f"{order.receipt.number}.pdf", f"{order.invoice.number}.pdf"}
    invoice = _pdf_text(files[f"{order.invoice.number}.pdf"])
    assert order.invoice.number in invoice and "$300.00" in invoice and "PAID" in invoice
    assert "attached as PDF" in message.body


def test_a_german_learner_reads_the_email_and_its_documents_in_german(course, drain):
    # given a learner who chose German on their profile
    User.objects.create_user(email="jonas@learner.test", password=None, language="de")

    # when they enroll
    result = _buy(course, "jonas@learner.test")
    drain()

    # then subject, body, dates and amounts are German, and so are the attached documents
    (message,) = mail.outbox
    assert message.subject.endswith("Sie sind angemeldet: Cloud Fundamentals")
    assert "Guten Tag," in message.body
    assert "Sie sind für „Cloud Fundamentals“ angemeldet." in message.body
    assert "Sonntag, 10. Januar 2027, 09:00\u201317:00 CET (Europe/Berlin)" in message.body
    assert "300,00\xa0$" in message.body
    assert message.extra_headers["Content-Language"] == "de"
    html = message.alternatives[0].content
    assert '<html lang="de">' in html and "<strong>Cloud Fundamentals</strong>" in html
    receipt = _pdf_text(
        dict((n, c) for n, c, _ in message.attachments)[f"{result.order.receipt.number}.pdf"]
    )
    assert f"Quittung {result.order.receipt.number}" in receipt and "BEZAHLT" in receipt


def test_the_expiry_reminder_is_readable_in_the_owners_zone_and_language(db, drain):
    # given an owner in Madrid who reads Spanish
    account = AccountFactory(name="Acme")
    owner = UserFactory(email="olga@acme.test", language="es", timezone="Europe/Madrid")
    MembershipFactory(account=account, user=owner, role=Membership.Role.OWNER)
    expires_at = datetime(2026, 12, 7, 13, 2, 52, 990647, tzinfo=UTC)

    # when the expiring-soon notice goes out
    events.record(
        events.CREDIT_EXPIRING_SOON,
        account_id=account.pk,
        data={
            "account_name": "Acme",
            "unit": "USD",
            "lot_id": "1",
            "amount": "1250.50",
            "expires_at": expires_at.isoformat(),
            "days": 30,
        },
    )
    drain()

    # then no ISO timestamp: the date and time in Madrid, named, and the amount in Spanish
    (message,) = mail.outbox
    assert "2026-12-07T13:02" not in message.body
    assert "7 dic 2026, 14:02 CET (Europe/Madrid)" in message.body
    assert "1250,50\xa0US$" in message.body or "1.250,50\xa0US$" in message.body
    assert "caduca en 30 días o menos" in message.body


def test_an_unknown_language_on_a_profile_falls_back_to_english(course, drain):
    User.objects.create_user(email="x@learner.test", password=None, language="xx")
    _buy(course, "x@learner.test")
    drain()
    assert "Hello," in mail.outbox[0].body
