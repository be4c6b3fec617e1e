"""Partial refunds: part of a paid redemption goes back into the same lots, up to the charge."""

from datetime import timedelta

import pytest
import time_machine

from tests.factories import make_credit, usd
from tuition.checkout import services as checkout
from tuition.checkout.document_content import available_kinds, document_for
from tuition.checkout.models import CreditNote, Order, Registration
from tuition.checkout.payments import SUCCESS_CARD
from tuition.checkout.refunds import refund_part
from tuition.checkout.services import PaymentChoice
from tuition.codes import services as codes
from tuition.core import clock
from tuition.core.errors import DomainError
from tuition.ledger.models import Lot, Transfer
from tuition.ledger.verify import CHECKS
from tuition.notifications.models import NotificationEvent

pytestmark = pytest.mark.django_db


def buy(course, code_text, email="ana@acme.test"):
    return checkout.checkout(
        learner_email=email,
        activity_id=course.pk,
        payment=PaymentChoice(method="code", code=code_text),
        actor="test",
    )


def refused(code, **kwargs):
    with pytest.raises(DomainError) as exc:
        refund_part(**kwargs)
    assert exc.value.code == code, exc.value
    return exc.value


def test_partial_refunds_up_to_the_charge_and_not_a_cent_more(course, credit):
    # given a 300.00 order paid from a 500.00 credit
    order = buy(course, credit.code_text).order
    # when three partial refunds add up to the charge
    for cents in (10000, 15000, 5000):
        refund_part(order_id=order.pk, amount=cents, reason="price dropped", actor="staff:cora")
    # then the credit holds its full value again, the registration is untouched
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 50000
    order.refresh_from_db()
    assert (order.refunded_amount, order.status) == (30000, Order.Status.PAID)
    assert Registration.objects.get(order=order).status == Registration.Status.ACTIVE
    notes = list(CreditNote.objects.filter(order=order).order_by("sequence"))
    assert [n.amount for n in notes] == [10000, 15000, 5000]
    assert [n.number.rsplit("-", 1)[1] for n in notes] == ["1", "2", "3"]
    assert Transfer.objects.filter(kind="reverse", reverses=order.transfer).count() == 3
    # and one more cent is refused with nothing written
    error = refused(
        "validation_error", order_id=order.pk, amount=1, reason="again", actor="staff:cora"
    )
    assert "left to refund" in error.message
    assert CreditNote.objects.count() == 3
    assert Transfer.objects.filter(kind="reverse").count() == 3
    assert Order.objects.get(pk=order.pk).refunded_amount == 30000
    assert [p for check in CHECKS for p in check()] == []


def test_over_refund_in_one_step_is_refused_and_nothing_is_written(course, credit):
    order = buy(course, credit.code_text).order
    refund_part(order_id=order.pk, amount=20000, reason="price dropped", actor="staff")
    # when
    error = refused("validation_error", order_id=order.pk, amount=10001, reason="x", actor="s")
    # then
    assert error.details["refundable"] == "100.00"
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 40000
    assert Order.objects.get(pk=order.pk).refunded_amount == 20000
    assert CreditNote.objects.count() == 1


@pytest.mark.parametrize("amount", [0, -5, 10**16])
def test_amounts_out_of_range_are_refused(course, credit, amount):
    order = buy(course, credit.code_text).order
    refused("validation_error", order_id=order.pk, amount=amount, reason="x", actor="s")
    assert CreditNote.objects.count() == 0


def test_a_refund_needs_a_reason(course, credit):
    order = buy(course, credit.code_text).order
    refused("validation_error", order_id=order.pk, amount=100, reason="  ", actor="s")
    assert Order.objects.get(pk=order.pk).refunded_amount == 0


def test_refund_returns_to_the_same_lots_latest_expiring_first_keeping_expiry(course, acme):
    # given a pooled payment of 300.00: 200.00 from the soon lot, 100.00 from the late one
    soon = make_credit(acme, 20000, days=20).lot
    late = make_credit(acme, 20000, days=200).lot
    pool = codes.create_pool_code(account_id=acme.pk, unit=usd(), actor="owner")
    order = buy(course, pool.code_text).order
    expiries = {lot.pk: lot.expires_at for lot in Lot.objects.filter(pk__in=[soon.pk, late.pk])}
    # when 150.00 is refunded
    note = refund_part(order_id=order.pk, amount=15000, reason="price dropped", actor="s")
    # then the late lot gets its 100.00 back first, the soon one the other 50.00
    assert Lot.objects.get(pk=late.pk).remaining == 20000
    assert Lot.objects.get(pk=soon.pk).remaining == 5000
    entries = sorted(
        note.transfer.entries.filter(lot__isnull=False).values_list("lot_id", "amount")
    )
    assert entries == sorted([(late.pk, 10000), (soon.pk, 5000)])
    assert {lot.pk: lot.expires_at for lot in Lot.objects.filter(pk__in=expiries)} == expiries
    # and cancelling with a refund afterwards returns only the rest
    checkout.cancel_registration(
        registration_id=Registration.objects.get(order=order).pk,
        actor="staff",
        refund=True,
        by_staff=True,
    )
    assert Lot.objects.get(pk=soon.pk).remaining == 20000
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (Order.Status.REFUNDED, 30000)
    refused("already_reversed", order_id=order.pk, amount=1, reason="x", actor="s")
    final = document_for(Order.objects.get(pk=order.pk), "credit-note", language="en")
    assert final is not None
    assert [(r.label, r.value) for r in final.amounts] == [
        ("Originally charged", "$300.00"),
        ("Amount credited", "$150.00"),
    ]


def test_value_refunded_into_an_expired_lot_expires_again(course, acme):
    credit = make_credit(acme, 30000, days=5)
    order = buy(course, credit.code_text).order
    with time_machine.travel(clock.now() + timedelta(days=6), tick=False):
        refund_part(order_id=order.pk, amount=10000, reason="late", actor="s")
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 0
    assert Transfer.objects.filter(kind="expire", entries__lot=credit.lot).count() == 1


def test_a_card_order_is_not_refunded_in_part(course):
    order = checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=course.pk,
        payment=PaymentChoice(method="card", card_number=SUCCESS_CARD),
        actor="test",
    ).order
    refused("refund_not_allowed", order_id=order.pk, amount=100, reason="x", actor="s")
    refused("not_found", order_id=order.pk + 999, amount=100, reason="x", actor="s")


def test_each_refund_notifies_and_has_a_credit_note(course, credit):
    order = buy(course, credit.code_text).order
    # when
    note = refund_part(order_id=order.pk, amount=4550, reason="Session price dropped", actor="s")
    # then
    event = NotificationEvent.objects.get(kind="order.refunded")
    assert event.data["amount"] == "45.50" and event.data["credit_note_number"] == note.number
    assert event.data["refunded_total"] == "45.50" and event.data["charged"] == "300.00"
    order = Order.objects.get(pk=order.pk)
    kind = f"credit-note-{note.sequence}"
    assert kind in available_kinds(order)
    doc = document_for(order, kind, language="en")
    assert doc is not None and doc.number == note.number
    from tuition.checkout.pdf import render_pdf

    pdf = render_pdf(doc)
    text = _pdf_text(pdf)
    assert note.number in text and "45.50" in text and "Session price dropped" in text
    assert "invoice" in text.lower()


def _pdf_text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader  # type: ignore[import-not-found]

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
