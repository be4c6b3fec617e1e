"""Receipts and invoices stay gap-free per year (SPEC 17) when checkouts number them at the same
moment, and when the sweep numbers a checkout's order before the checkout does."""

import threading
from collections import Counter

import pytest
from django.db import connections

from tests.concurrency.parallel import run_in_parallel
from tests.factories import AccountFactory, make_activity, make_credit, usd
from tuition.checkout import documents
from tuition.checkout import services as checkout
from tuition.checkout.models import DocumentCounter, Invoice, Order, Receipt
from tuition.checkout.services import PaymentChoice
from tuition.core import clock

pytestmark = pytest.mark.django_db(transaction=True)


def test_twelve_checkouts_at_once_number_their_documents_one_to_twelve():
    # given one account's credit and twelve learners buying one course at the same moment
    usd()
    course = make_activity(price=1000)
    credit = make_credit(AccountFactory(), 100000)

    outcomes = run_in_parallel(
        lambda i: checkout.checkout(
            learner_email=f"learner{i}@race.test",
            activity_id=course.pk,
            payment=PaymentChoice(method="code", code=credit.code_text),
            actor="test",
        ),
        12,
    )

    # then every checkout has its invoice and receipt, numbered 1 to 12 without gaps
    assert Counter(outcomes) == {"ok": 12}, outcomes
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(range(1, 13))
    assert sorted(Receipt.objects.values_list("sequence", flat=True)) == list(range(1, 13))
    assert set(Invoice.objects.values_list("order_id", flat=True)) == set(
        Order.objects.values_list("pk", flat=True)
    )
    assert dict(DocumentCounter.objects.values_list("kind", "last")) == {
        "invoice": 12,
        "receipt": 12,
    }


def test_when_the_sweep_numbers_the_order_first_the_checkout_shows_the_sweeps_numbers(
    monkeypatch,
):
    # given a checkout whose numbering the sweep overtakes, right after the checkout committed
    usd()
    course = make_activity(price=1000)
    credit = make_credit(AccountFactory(), 100000)
    real_number_documents = checkout._number_documents
    overtaken = []

    def sweep_first(result, once, *, just_committed):
        if not overtaken:

            def sweep():
                try:
                    overtaken.append(documents.number_missing_documents(before=clock.now()))
                finally:
                    connections.close_all()

            thread = threading.Thread(target=sweep)
            thread.start()
            thread.join()
        return real_number_documents(result, once, just_committed=just_committed)

    monkeypatch.setattr(checkout, "_number_documents", sweep_first)

    result = checkout.checkout(
        learner_email="ana@race.test",
        activity_id=course.pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="test",
    )

    # then the sweep numbered one order, and the checkout answers with those documents
    assert overtaken == [1]
    year = result.order.created_at.year
    assert (result.invoice.number, result.receipt.number) == (
        f"INV-{year}-000001",
        f"R-{year}-000001",
    )
    assert Invoice.objects.get().pk == result.invoice.pk
    assert Receipt.objects.get().pk == result.receipt.pk
    # and the numbers the checkout took before it found the sweep's went back: no gap
    assert dict(DocumentCounter.objects.values_list("kind", "last")) == {
        "invoice": 1,
        "receipt": 1,
    }
