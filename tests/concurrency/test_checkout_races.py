"""Simultaneous checkouts: never more seats than capacity, never more redemptions than value,
never two registrations for one double-submitting learner. Same on SQLite and PostgreSQL."""

from collections import Counter

import pytest

from tests.concurrency.parallel import run_in_parallel
from tests.factories import AccountFactory, make_activity, make_credit, make_session, usd
from tuition.checkout import services as checkout
from tuition.checkout.models import Booking, Order, Registration
from tuition.checkout.payments import SUCCESS_CARD
from tuition.checkout.services import PaymentChoice
from tuition.checkout.verify import CHECKS as CHECKOUT_CHECKS
from tuition.codes import services as codes
from tuition.ledger.models import Lot, Transfer
from tuition.ledger.verify import CHECKS as LEDGER_CHECKS

pytestmark = pytest.mark.django_db(transaction=True)


def problems() -> list[str]:
    return [p for check in [*LEDGER_CHECKS, *CHECKOUT_CHECKS] for p in check()]


def test_20_learners_race_for_5_seats_exactly_5_book_and_pay():
    # given: a dated course with 5 seats, and a pool code worth far more than 20 seats
    usd()
    course = make_activity(price=10000)
    session = make_session(course, capacity=5)
    account = AccountFactory()
    lot = make_credit(account, 10000 * 40).lot
    pool = codes.create_pool_code(account_id=account.pk, unit=usd(), actor="owner")

    # when
    outcomes = run_in_parallel(
        lambda i: checkout.checkout(
            learner_email=f"learner{i}@race.test",
            activity_id=course.pk,
            session_id=session.pk,
            payment=PaymentChoice(method="code", code=pool.code_text),
            actor=f"w{i}",
        ),
        20,
    )

    # then
    assert Counter(outcomes) == {"ok": 5, "session_full": 15}, outcomes
    assert Booking.objects.filter(session=session, status="active").count() == 5
    assert Transfer.objects.filter(kind="redeem").count() == 5
    assert Lot.objects.get(pk=lot.pk).remaining == 10000 * 35
    session.refresh_from_db()
    assert session.booked == 5
    assert problems() == []


def test_50_learners_race_on_a_code_worth_10_redemptions():
    usd()
    course = make_activity(price=5000)
    account = AccountFactory()
    issued = make_credit(account, 5000 * 10)

    outcomes = run_in_parallel(
        lambda i: checkout.checkout(
            learner_email=f"learner{i}@race.test",
            activity_id=course.pk,
            payment=PaymentChoice(method="code", code=issued.code_text),
            actor=f"w{i}",
        ),
        50,
    )

    assert Counter(outcomes) == {"ok": 10, "insufficient_balance": 40}, outcomes
    assert Order.objects.count() == 10 and Registration.objects.count() == 10
    assert Transfer.objects.filter(kind="redeem").count() == 10
    assert Lot.objects.get(pk=issued.lot.pk).remaining == 0
    assert problems() == []


def test_one_learner_double_submitting_registers_and_pays_once():
    usd()
    course = make_activity(price=5000)
    session = make_session(course, capacity=10)
    account = AccountFactory()
    issued = make_credit(account, 5000 * 10)

    outcomes = run_in_parallel(
        lambda i: checkout.checkout(
            learner_email="ana@race.test",
            activity_id=course.pk,
            session_id=session.pk,
            payment=PaymentChoice(method="code", code=issued.code_text),
            actor=f"w{i}",
        ),
        8,
    )

    assert Counter(outcomes) == {"ok": 1, "already_registered": 7}, outcomes
    assert Registration.objects.count() == 1 and Booking.objects.count() == 1
    assert Transfer.objects.filter(kind="redeem").count() == 1
    assert Lot.objects.get(pk=issued.lot.pk).remaining == 5000 * 9
    assert problems() == []


def test_one_learner_double_submitting_by_card_registers_once():
    usd()
    course = make_activity(price=5000)

    outcomes = run_in_parallel(
        lambda i: checkout.checkout(
            learner_email="ben@race.test",
            activity_id=course.pk,
            payment=PaymentChoice(method="card", card_number=SUCCESS_CARD),
            actor=f"w{i}",
        ),
        8,
    )

    assert Counter(outcomes) == {"ok": 1, "already_registered": 7}, outcomes
    assert Registration.objects.count() == 1 and Order.objects.count() == 1
