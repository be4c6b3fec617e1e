"""What one successful code checkout costs the database: its own transaction (one commit, a
bounded number of statements, the Idempotency-Key's record included), then the short
transaction that numbers its receipt and invoice, which touches no row of the account. The
bounds are today's figures; they may only fall."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AccountFactory, issue, make_activity, make_session, usd
from tuition.checkout import services as checkout
from tuition.checkout.models import Invoice, Receipt
from tuition.codes import services as codes
from tuition.core import idempotency

CHECKOUT_STATEMENTS_AT_MOST = {"postgresql": 15, "sqlite": 15}
# the two numbers, invoice, receipt, the key's answer; and (as here) 2 more for the first of a year
NUMBERING_STATEMENTS_AT_MOST = 6
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _once() -> idempotency.Once:
    def render(result: checkout.CheckoutResult) -> idempotency.Answer:
        return idempotency.Answer(201, str(result.as_dict()).encode())

    return idempotency.Once(
        scope="key:test", key="K-1", fingerprint="f", render=render, refusal=lambda e: None
    )


@pytest.mark.django_db(transaction=True)
def test_a_code_checkout_is_one_short_transaction_and_its_documents_one_more():
    # given a known learner, a pool code and a dated course
    account = AccountFactory()
    issue(account, 10**6)
    code = codes.create_pool_code(account_id=account.pk, unit=usd(), actor="t").code_text
    course = make_activity(price=1000, is_dated=True)
    session = make_session(course, capacity=100)
    checkout.learner_for("ana@acme.test")
    once = _once()
    ends: list[int] = []

    # when they check out with an Idempotency-Key
    with CaptureQueriesContext(connection) as ctx:
        real_commit = connection.commit

        def commit() -> None:
            ends.append(len(ctx.captured_queries))
            real_commit()

        with (
            mock.patch.object(connection, "commit", side_effect=commit),
            idempotency.answering(once),
        ):
            result = checkout.checkout(
                learner_email="ana@acme.test",
                activity_id=course.pk,
                session_id=session.pk,
                payment=checkout.PaymentChoice(method="code", code=code),
                actor="t",
                ip="10.0.0.1",
            )

    # then two commits: the checkout with its key's record, then the numbering
    assert result.order.charged == 1000
    assert result.receipt == Receipt.objects.get() and result.invoice == Invoice.objects.get()
    assert b"R-" in once.answer.body  # the stored answer names the numbers
    assert len(ends) == 2
    queries = [q["sql"] for q in ctx.captured_queries]
    in_checkout = [q for q in queries[: ends[0]] if not q.startswith(_CONTROL)]
    in_numbering = [q for q in queries[ends[0] : ends[1]] if not q.startswith(_CONTROL)]
    print(f"\ncheckout: {len(in_checkout)} statements, numbering: {len(in_numbering)}")
    assert len(in_checkout) <= CHECKOUT_STATEMENTS_AT_MOST[connection.vendor], "\n".join(
        in_checkout
    )
    assert any("core_idempotencyrecord" in q for q in in_checkout)
    assert not any("documentcounter" in q for q in in_checkout)
    assert len(in_numbering) <= NUMBERING_STATEMENTS_AT_MOST, "\n".join(
        q[:150] for q in in_numbering
    )
    assert not any("ledger_wallet" in q or "ledger_lot" in q for q in in_numbering)
