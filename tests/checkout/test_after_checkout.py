from datetime import timedelta

import pytest
import time_machine

from tests.factories import (
    AccountFactory,
    TokenUnitFactory,
    make_activity,
    make_credit,
    make_session,
    usd,
)
from tuition.accounts import services as accounts
from tuition.catalog import services as catalog
from tuition.catalog.models import RefillPrice, Session
from tuition.checkout import services as checkout
from tuition.checkout.models import Booking, Order, Receipt
from tuition.checkout.payments import SUCCESS_CARD
from tuition.checkout.services import PaymentChoice
from tuition.codes import services as codes
from tuition.core import clock
from tuition.core.errors import DomainError
from tuition.ledger.models import Lot, Transfer
from tuition.notifications.models import NotificationEvent

pytestmark = pytest.mark.django_db


def refused(code, fn, **kwargs):
    with pytest.raises(DomainError) as exc:
        fn(**kwargs)
    assert exc.value.code == code, exc.value
    return exc.value


@pytest.fixture
def dated(course):
    first = make_session(course, capacity=2, days=10)
    second = make_session(course, capacity=1, days=20)
    course.refresh_from_db()
    return first, second


def booked(course, credit, session, email="ana@acme.test"):
    return checkout.checkout(
        learner_email=email,
        activity_id=course.pk,
        session_id=session.pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="test",
    )


def seats(*sessions):
    return [Session.objects.get(pk=s.pk).booked for s in sessions]


def test_find_another_time_moves_the_seat_without_money(course, credit, dated):
    first, second = dated
    result = booked(course, credit, first)
    # when
    moved = checkout.reschedule_booking(
        registration_id=result.registration.pk, session_id=second.pk, actor="ana"
    )
    # then
    assert moved.session_id == second.pk and seats(first, second) == [0, 1]
    assert Booking.objects.get(pk=result.booking.pk).status == "moved"
    assert Transfer.objects.filter(kind="redeem").count() == 1
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 20000
    # a full target session refuses
    other = booked(course, make_credit(credit.lot.account, 30000), first, email="ben@acme.test")
    refused(
        "session_full",
        checkout.reschedule_booking,
        registration_id=other.registration.pk,
        session_id=second.pk,
        actor="ben",
    )


def test_unenroll_keeps_the_registration_and_rebooking_is_free(course, credit, dated):
    first, second = dated
    result = booked(course, credit, first)
    checkout.unenroll_from_session(registration_id=result.registration.pk, actor="ana")
    result.registration.refresh_from_db()
    assert result.registration.status == "active" and seats(first) == [0]
    again = checkout.book_session(
        registration_id=result.registration.pk, session_id=second.pk, actor="ana"
    )
    assert again.status == "active" and seats(second) == [1]
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 20000


def test_another_learners_registration_is_not_found(course, credit, dated):
    first, _ = dated
    result = booked(course, credit, first)
    stranger = accounts.get_or_create_user(email="eve@x.test")
    refused(
        "not_found",
        checkout.unenroll_from_session,
        registration_id=result.registration.pk,
        actor="eve",
        learner=stranger,
    )


def test_cancel_within_the_refund_window_reverses_into_the_same_lot(course, credit, dated):
    first, _ = dated
    result = booked(course, credit, first)
    registration = checkout.cancel_registration(registration_id=result.registration.pk, actor="ana")
    assert registration.status == "cancelled" and registration.refunded
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 50000
    reversal = Transfer.objects.get(kind="reverse")
    assert reversal.reverses_id == result.order.transfer_id
    assert Order.objects.get(pk=result.order.pk).status == "refunded"
    assert seats(first) == [0]


def test_after_the_window_a_learner_cannot_refund_but_staff_can(course, credit):
    result = checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=course.pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="test",
    )
    with time_machine.travel(clock.now() + timedelta(days=15), tick=False):
        refused(
            "refund_not_allowed",
            checkout.cancel_registration,
            registration_id=result.registration.pk,
            actor="ana",
            refund=True,
        )
        checkout.cancel_registration(
            registration_id=result.registration.pk, actor="staff", refund=True, by_staff=True
        )
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 50000


def test_cancel_without_refund_keeps_the_money_spent_and_a_new_checkout_pays_again(course, credit):
    pay = PaymentChoice(method="code", code=credit.code_text)
    result = checkout.checkout(
        learner_email="ana@acme.test", activity_id=course.pk, payment=pay, actor="test"
    )
    checkout.cancel_registration(registration_id=result.registration.pk, actor="ana", refund=False)
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 20000
    refused(
        "already_cancelled",
        checkout.cancel_registration,
        registration_id=result.registration.pk,
        actor="ana",
    )
    refused(
        "already_cancelled",
        checkout.book_session,
        registration_id=result.registration.pk,
        session_id=0,
        actor="ana",
    )
    refused(
        "insufficient_balance",
        checkout.checkout,
        learner_email="ana@acme.test",
        activity_id=course.pk,
        payment=pay,
        actor="test",
    )


def test_learners_cannot_cancel_items_that_forbid_it(credit):
    locked = make_activity(title="No cancel", price=100, learner_can_cancel=False)
    result = checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=locked.pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="test",
    )
    refused(
        "not_cancellable",
        checkout.cancel_registration,
        registration_id=result.registration.pk,
        actor="ana",
    )


def test_refill_by_sandbox_card_issues_a_lot_at_once_expiring_by_policy(acme):
    order = checkout.purchase_refill(
        account_id=acme.pk,
        unit=usd(),
        amount=25000,
        buyer_email="olga@acme.test",
        actor="olga@acme.test",
        card_number=SUCCESS_CARD,
    )
    assert order.status == "paid" and order.charged == 25000 and order.method == "card"
    lot = order.refill_lot
    assert lot.source == "purchase" and lot.remaining == 25000 and lot.purchase_price == 25000
    assert abs((lot.expires_at - clock.now()) - timedelta(days=365)) < timedelta(minutes=1)
    assert NotificationEvent.objects.filter(kind="refill.purchased").count() == 1
    assert Receipt.objects.filter(order=order).exists()
    # one email to the account's people: the refill's; the lot's credit.issued is for
    # webhooks only
    issued = NotificationEvent.objects.get(kind="credit.issued", data__lot_id=str(lot.pk))
    assert issued.recipient_ids == []
    assert NotificationEvent.objects.get(kind="refill.purchased").recipient_ids is None


def test_refill_by_invoice_issues_the_lot_when_marked_paid(acme):
    tokens = TokenUnitFactory()
    catalog.set_refill_price(unit=tokens, unit_price=9900, actor="staff")
    order = checkout.purchase_refill(
        account_id=acme.pk,
        unit=tokens,
        amount=10,
        buyer_email="olga@acme.test",
        actor="olga",
        provider="invoice",
    )
    assert order.status == "pending_payment" and order.charged == 99000
    assert order.method == "invoice"
    assert not Lot.objects.filter(account=acme).exists()
    checkout.mark_order_paid(order_id=order.pk, actor="staff")
    order.refresh_from_db()
    assert order.refill_lot.remaining == 10 and order.refill_lot.unit == tokens
    assert RefillPrice.objects.count() == 1


def test_token_without_refill_price_cannot_be_bought():
    account = AccountFactory()
    refused(
        "not_priced_in_unit",
        checkout.purchase_refill,
        account_id=account.pk,
        unit=TokenUnitFactory(),
        amount=5,
        buyer_email="o@x.test",
        actor="o",
    )


def test_member_code_refund_gives_back_the_cap(course, acme):
    codes.create_credit(account_id=acme.pk, unit=usd(), redeemable_value=100000, actor="s")
    accounts.add_member(account=acme, email="ana@acme.test", actor="owner")
    member = codes.create_member_code(
        account_id=acme.pk, unit=usd(), member_email="ana@acme.test", cap=30000, actor="owner"
    )
    result = checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=course.pk,
        payment=PaymentChoice(method="code", code=member.code_text),
        actor="t",
    )
    checkout.cancel_registration(registration_id=result.registration.pk, actor="ana")
    member.code.refresh_from_db()
    assert member.code.spent == 0


def test_verify_checks_hold_after_checkouts_and_catch_drift(course, credit, dated):
    from tuition.checkout.verify import CHECKS

    first, second = dated
    result = booked(course, credit, first)
    checkout.reschedule_booking(
        registration_id=result.registration.pk, session_id=second.pk, actor="ana"
    )
    assert [p for check in CHECKS for p in check()] == []
    # drift: a seat counter that disagrees with the bookings
    Session.objects.filter(pk=first.pk).update(booked=2)
    assert any("session" in p for check in CHECKS for p in check())
