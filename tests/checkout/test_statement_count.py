"""What one successful code checkout costs the database: one transaction, and a bounded number
of statements. The bound is today's figure (the goal is 15 on PostgreSQL, with
the idempotency record, the documents numbered outside and one outbox row); it may only fall."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AccountFactory, issue, make_activity, make_session, usd
from tuition.checkout import services as checkout
from tuition.codes import services as codes

STATEMENTS_AT_MOST = {"postgresql": 31, "sqlite": 31}
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@pytest.mark.django_db(transaction=True)
def test_a_code_checkout_is_one_commit_and_a_bounded_number_of_statements():
    # given a known learner, a pool code and a dated course
    account = AccountFactory()
    issue(account, 10**6)
    code = codes.create_pool_code(account_id=account.pk, unit=usd(), actor="t").code_text
    course = make_activity(price=1000, is_dated=True)
    session = make_session(course, capacity=100)
    checkout.learner_for("ana@acme.test")
    commits = mock.patch.object(connection, "commit", wraps=connection.commit)

    # when they check out
    with CaptureQueriesContext(connection) as ctx, commits as commit:
        result = checkout.checkout(
            learner_email="ana@acme.test",
            activity_id=course.pk,
            session_id=session.pk,
            payment=checkout.PaymentChoice(method="code", code=code),
            actor="t",
            ip="10.0.0.1",
        )

    # then it committed once, and ran no more statements than the bound
    assert result.order.charged == 1000 and result.receipt is not None
    statements = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(_CONTROL)]
    assert commit.call_count == 1
    assert len(statements) <= STATEMENTS_AT_MOST[connection.vendor], "\n".join(statements)
