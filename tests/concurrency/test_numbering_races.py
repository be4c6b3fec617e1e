"""Receipts and invoices stay gap-free per year (SPEC 17) when checkouts number them at the same
moment, and when the sweep numbers a checkout's order before the checkout does."""

import threading
import time
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


@pytest.mark.skipif(
    connections["default"].vendor == "sqlite",
    reason="SQLite's one writer: no sweep runs while a numbering's transaction is open",
)
def test_a_sweep_that_waited_for_the_checkouts_numbering_skips_the_order(monkeypatch):
    # given a checkout that committed and stopped before its numbering (a crash)
    usd()
    course = make_activity(price=1000)
    credit = make_credit(AccountFactory(), 100000)
    real_number_documents = checkout._number_documents
    monkeypatch.setattr(checkout, "_number_documents", lambda result, once, **kw: result)
    result = checkout.checkout(
        learner_email="ana@race.test",
        activity_id=course.pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="test",
    )
    assert not Invoice.objects.exists()

    # and its numbering after all, which has written its documents but not yet committed
    written, commit_now = threading.Event(), threading.Event()
    real_number_new_checkout = checkout.number_new_checkout

    def number_and_hold(order):
        documents_ = real_number_new_checkout(order)
        written.set()
        commit_now.wait(10)
        return documents_

    monkeypatch.setattr(checkout, "number_new_checkout", number_and_hold)
    outcomes: dict[str, object] = {}

    def in_thread(name, work):
        def run() -> None:
            try:
                outcomes[name] = work()
            except Exception as exc:  # the assertions below show it
                outcomes[name] = exc
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    numbering = in_thread(
        "checkout", lambda: real_number_documents(result, None, just_committed=True)
    )
    assert written.wait(10)

    # when the sweep reads the order meanwhile (it sees no invoice yet, and waits for the
    # counters the numbering holds), and then the numbering commits
    sweep = in_thread("sweep", lambda: documents.number_missing_documents(before=clock.now()))
    _wait_until_a_lock_is_awaited()
    commit_now.set()
    numbering.join(10)
    sweep.join(10)

    # then the sweep's invoice met the checkout's, and the sweep skipped the order; the
    # checkout's documents stand, and the numbers the sweep took went back
    assert outcomes["sweep"] == 1
    year = result.order.created_at.year
    numbered = outcomes["checkout"]
    assert (numbered.invoice.number, numbered.receipt.number) == (
        f"INV-{year}-000001",
        f"R-{year}-000001",
    )
    assert Invoice.objects.get().pk == numbered.invoice.pk
    assert Receipt.objects.get().pk == numbered.receipt.pk
    assert dict(DocumentCounter.objects.values_list("kind", "last")) == {
        "invoice": 1,
        "receipt": 1,
    }
    assert documents.orders_without_documents(before=clock.now()) == []


def _wait_until_a_lock_is_awaited() -> None:
    with connections["default"].cursor() as cursor:
        for _ in range(200):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the sweep never waited for the numbering's counters")
