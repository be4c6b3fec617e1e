"""Receipts, invoices and credit notes: what a finance department reads on them, as a page and
as PDF, in English and in another language."""

import io

import pytest
from django.test import override_settings
from django.urls import reverse
from pypdf import PdfReader

from tests.factories import AccountFactory, UserFactory, make_activity, make_credit, usd
from tuition.checkout import document_content as documents
from tuition.checkout import services as checkout
from tuition.checkout.pdf import render_pdf
from tuition.checkout.services import PaymentChoice
from tuition.codes import services as codes

LEGAL = {
    "NAME": "Northwind Training GmbH",
    "ADDRESS": "Hauptstraße 5; 10115 Berlin; Germany",
    "TAX_ID": "DE123456789",
    "LOGO": "",
    "FOOTER": "Registered in Berlin, HRB 12345",
    "PDF_FONT": "",
}


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def paid_by_code(db):
    """A 200.00 course paid in full with Acme's training-credit code."""
    unit = usd()
    account = AccountFactory(name="Acme")
    make_credit(account, 50000)
    codes.create_pool_code(account_id=account.pk, unit=unit, code="ACME-POOL-PW3C", actor="t")
    course = make_activity(title="Cloud Fundamentals", price=20000)
    return checkout.checkout(
        learner_email="ana@acme.test",
        learner_name="Ana Müller",
        payment=PaymentChoice(method="code", code="acme pool pw3c"),
        actor="test",
        activity_id=course.pk,
    ).order


@pytest.fixture
def pending_invoice(db):
    usd()
    course = make_activity(title="Data Basics", price=45050)
    return checkout.checkout(
        learner_email="lena@learner.test",
        payment=PaymentChoice(method="card", provider="invoice"),
        actor="test",
        activity_id=course.pk,
    ).order


@override_settings(TUITION_LEGAL=LEGAL)
def test_an_invoice_paid_with_credits_says_paid_with_the_code_never_amount_due(paid_by_code):
    # when the invoice of an order paid with a credit code is rendered to PDF
    doc = documents.document_for(paid_by_code, "invoice", language="en")
    text = pdf_text(render_pdf(doc))

    # then it carries the provider's legal details, its number, the amount, and Paid with the
    # method and the code's last symbols; nothing is due
    assert "Northwind Training GmbH" in text and "Hauptstraße 5" in text
    assert "DE123456789" in text and "HRB 12345" in text
    assert paid_by_code.invoice.number in text
    assert "$200.00" in text
    assert "PAID" in text and "Training credit, code ending PW3C" in text
    assert "due" not in text.lower()


@override_settings(TUITION_LEGAL=LEGAL)
def test_the_receipt_in_german_shows_german_words_and_amounts(paid_by_code):
    doc = documents.document_for(paid_by_code, "receipt", language="de")
    text = pdf_text(render_pdf(doc))
    assert f"Quittung {paid_by_code.receipt.number}" in text
    assert "200,00\xa0$" in text or "200,00 $" in text
    assert "BEZAHLT" in text and "Rechnungsempfänger" in text
    assert "Steuernummer: DE123456789" in text


@override_settings(TUITION_LEGAL=LEGAL)
def test_an_unpaid_invoice_shows_the_amount_due_in_two_languages(pending_invoice):
    english = pdf_text(
        render_pdf(documents.document_for(pending_invoice, "invoice", language="en"))
    )
    spanish = pdf_text(
        render_pdf(documents.document_for(pending_invoice, "invoice", language="es"))
    )
    assert "Amount due" in english and "$450.50" in english and "PAID" not in english
    assert "Importe pendiente" in spanish and "450,50" in spanish and "PENDIENTE" in spanish
    # an unpaid order has no receipt yet
    assert documents.document_for(pending_invoice, "receipt") is None


@override_settings(TUITION_LEGAL=LEGAL)
def test_a_refunded_order_has_a_credit_note_for_its_invoice(paid_by_code):
    # given the registration is cancelled with a refund
    checkout.cancel_registration(
        registration_id=paid_by_code.registration.pk, actor="staff", refund=True, by_staff=True
    )
    paid_by_code.refresh_from_db()

    # then a credit note credits the invoice, and the invoice points to it
    note = documents.document_for(paid_by_code, "credit-note", language="en")
    text = pdf_text(render_pdf(note))
    number = "CN-" + paid_by_code.invoice.number.removeprefix("INV-")
    assert f"Credit note {number}" in text and paid_by_code.invoice.number in text
    assert "Amount credited" in text and "$200.00" in text and "CREDITED" in text
    invoice_text = pdf_text(render_pdf(documents.document_for(paid_by_code, "invoice")))
    assert number in invoice_text
    german = pdf_text(
        render_pdf(documents.document_for(paid_by_code, "credit-note", language="de"))
    )
    assert f"Gutschrift {number}" in german and "Gutgeschriebener Betrag" in german


def test_the_learner_the_owner_and_staff_download_the_pdf_a_stranger_cannot(paid_by_code, client):
    url = reverse("portal:document_pdf", args=[paid_by_code.number, "invoice"])
    from tuition.accounts.models import Membership

    owner = UserFactory(email="olga@acme.test")
    Membership.objects.create(account=paid_by_code.account, user=owner, role="owner")
    for person, status in (
        (paid_by_code.learner, 200),
        (owner, 200),
        (UserFactory(email="staff@provider.test", is_staff=True), 200),
        (UserFactory(email="lena@learner.test"), 404),
    ):
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == status, person.email
        if status == 200:
            assert response["Content-Type"] == "application/pdf"
            assert paid_by_code.invoice.number in pdf_text(response.content)


@override_settings(TUITION_LEGAL=LEGAL)
def test_the_html_view_matches_the_pdf(paid_by_code, client):
    client.force_login(paid_by_code.learner)
    page = client.get(reverse("portal:document", args=[paid_by_code.number, "invoice"]))
    html = page.content.decode()
    assert "Northwind Training GmbH" in html and "DE123456789" in html
    assert "Paid" in html and "code ending PW3C" in html and "$200.00" in html
    assert "Amount due" not in html
