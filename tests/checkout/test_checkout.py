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
from tuition.checkout import services as checkout
from tuition.checkout.models import Booking, Invoice, Order, Receipt, Registration
from tuition.checkout.payments import SUCCESS_CARD
from tuition.checkout.services import PaymentChoice
from tuition.codes import services as codes
from tuition.codes.models import AttemptCounter
from tuition.core import clock
from tuition.core.errors import DomainError
from tuition.ledger.models import Lot, Transfer
from tuition.notifications.models import NotificationEvent

pytestmark = pytest.mark.django_db


def pay(code: str) -> PaymentChoice:
    return PaymentChoice(method="code", code=code)


def buy(item, payment, email="ana@acme.test", **kwargs):
    return checkout.checkout(
        learner_email=email, activity_id=item.pk, payment=payment, actor="test", **kwargs
    )


def refused(code: str, fn, *args, **kwargs):
    with pytest.raises(DomainError) as exc:
        fn(*args, **kwargs)
    assert exc.value.code == code, exc.value
    return exc.value


def nothing_written():
    assert Order.objects.count() == 0 and Registration.objects.count() == 0
    assert Booking.objects.count() == 0 and Invoice.objects.count() == 0
    assert not Transfer.objects.filter(kind="redeem").exists()


def test_checkout_with_a_credit_code_debits_and_writes_everything(course, credit):
    # when
    result = buy(course, pay(credit.code_text.lower()))
    # then
    order = result.order
    assert (order.method, order.charged, order.list_price, order.status) == (
        "training_credit",
        30000,
        30000,
        "paid",
    )
    assert order.transfer.kind == "redeem" and order.transfer.amount == 30000
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 20000
    assert result.registration.status == "active" and result.booking is None
    assert result.invoice.number.endswith("-000001") and result.receipt.number.startswith("R-")
    assert NotificationEvent.objects.filter(kind="credit.redeemed").count() == 1
    body = result.as_dict()
    assert body["order"]["charged"] == {"amount": "300.00", "unit": "USD"}
    assert body["registration"]["status"] == "active"


def test_quote_shows_the_price_and_writes_nothing(course, credit):
    quote = checkout.quote(
        learner_email="ana@acme.test",
        activity_id=course.pk,
        payment=pay(credit.code_text),
        actor="test",
    )
    assert (quote.price, quote.payable, quote.method) == (30000, 30000, "training_credit")
    assert quote.as_dict()["payable"] == {"amount": "300.00", "unit": "USD"}
    nothing_written()


def test_tokens_pay_the_token_price(course, acme):
    tokens = TokenUnitFactory()
    issued = make_credit(acme, 5, unit=tokens)
    result = buy(course, pay(issued.code_text))
    assert (result.order.method, result.order.charged, result.order.unit.code) == (
        "tokens",
        3,
        "TT",
    )
    assert Lot.objects.get(pk=issued.lot.pk).remaining == 2


def test_an_item_without_a_price_in_the_code_unit_is_refused(acme):
    tokens = TokenUnitFactory()
    issued = make_credit(acme, 5, unit=tokens)
    plain = make_activity(title="USD only", price=1000)
    refused("not_priced_in_unit", buy, plain, pay(issued.code_text))
    nothing_written()


def test_insufficient_balance_writes_nothing_and_does_not_reveal_the_balance(course, acme):
    issued = make_credit(acme, 29999)
    error = refused("insufficient_balance", buy, course, pay(issued.code_text))
    assert "299" not in error.message and error.details == {}
    nothing_written()
    assert Lot.objects.get(pk=issued.lot.pk).remaining == 29999


def test_pool_code_spends_the_soonest_expiring_lot_first_across_lots(course, acme):
    late = make_credit(acme, 20000, days=200).lot
    soon = make_credit(acme, 20000, days=20).lot
    pool = codes.create_pool_code(account_id=acme.pk, unit=usd(), actor="owner")
    buy(course, pay(pool.code_text))
    assert Lot.objects.get(pk=soon.pk).remaining == 0
    assert Lot.objects.get(pk=late.pk).remaining == 10000


def test_code_errors_unknown_inactive_deleted_expired(course, acme):
    refused("code_not_found", buy, course, pay("ZZZZ-ZZZZ-ZZZZ-ZZZZ"))
    inactive = make_credit(acme, 50000, status="inactive")
    refused("code_inactive", buy, course, pay(inactive.code_text))
    deleted = make_credit(acme, 50000)
    codes.delete_credit(lot_id=deleted.lot.pk, actor="staff")
    refused("code_inactive", buy, course, pay(deleted.code_text))
    expiring = make_credit(acme, 50000, days=1)
    with time_machine.travel(clock.now() + timedelta(days=1), tick=False):
        refused("code_expired", buy, course, pay(expiring.code_text))
    nothing_written()


def test_a_credit_for_other_items_is_not_in_scope(course, acme):
    other = make_activity(title="Other")
    scoped = make_credit(acme, 50000, scope=codes.ScopeInput("activity", False, [other.pk]))
    group_credit = make_credit(acme, 50000, scope=codes.ScopeInput("group"))
    refused("not_in_scope", buy, course, pay(scoped.code_text))
    refused("not_in_scope", buy, course, pay(group_credit.code_text))
    assert buy(other, pay(scoped.code_text)).order.charged == 30000


def test_members_only_accounts_refuse_outsiders(course):
    globex = AccountFactory(redeemer_policy="members")
    issued = make_credit(globex, 50000)
    refused("not_eligible", buy, course, pay(issued.code_text), email="stranger@x.test")
    accounts.add_member(account=globex, email="ben@globex.test", actor="owner")
    assert buy(course, pay(issued.code_text), email="ben@globex.test").order.status == "paid"


def test_member_codes_only_work_for_their_member_and_within_the_cap(course, acme):
    make_credit(acme, 100000)
    accounts.add_member(account=acme, email="ana@acme.test", actor="owner")
    accounts.add_member(account=acme, email="ben@acme.test", actor="owner")
    member = codes.create_member_code(
        account_id=acme.pk, unit=usd(), member_email="ana@acme.test", cap=50000, actor="owner"
    )
    refused("not_eligible", buy, course, pay(member.code_text), email="ben@acme.test")
    buy(course, pay(member.code_text))
    second = make_activity(title="Second")
    refused("insufficient_balance", buy, second, pay(member.code_text))  # 300 + 300 > cap 500
    member.code.refresh_from_db()
    assert member.code.spent == 30000


def test_one_code_only(course, credit):
    refused(
        "one_code_only",
        buy,
        course,
        PaymentChoice(method="code", code=credit.code_text, coupon="SPRING10"),
    )
    refused(
        "one_code_only",
        buy,
        course,
        PaymentChoice(method="code", code=credit.code_text, extra_codes=("OTHER-CODE",)),
    )
    refused("one_code_only", buy, course, PaymentChoice(method="card", coupon=credit.code_text))
    nothing_written()


def test_dated_activity_needs_an_upcoming_session_with_a_free_seat(course, credit):
    session = make_session(course, capacity=1)
    course.refresh_from_db()
    refused("session_required", buy, course, pay(credit.code_text))
    result = buy(course, pay(credit.code_text), session_id=session.pk)
    assert result.booking.session_id == session.pk
    session.refresh_from_db()
    assert session.booked == 1
    # a full session takes no money
    refused(
        "session_full",
        buy,
        course,
        pay(credit.code_text),
        email="ben@acme.test",
        session_id=session.pk,
    )
    # (its seat's update went out with the checkout's writes: all of them rolled back)
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 20000
    assert Order.objects.count() == Registration.objects.count() == Booking.objects.count() == 1
    assert Transfer.objects.filter(kind="redeem").count() == 1
    session.refresh_from_db()
    assert session.booked == 1
    with time_machine.travel(session.starts_at, tick=False):
        refused(
            "session_started",
            buy,
            course,
            pay(credit.code_text),
            email="cy@acme.test",
            session_id=session.pk,
        )


def test_already_registered_is_not_charged_again(course, credit):
    buy(course, pay(credit.code_text))
    refused("already_registered", buy, course, pay(credit.code_text))
    assert Transfer.objects.filter(kind="redeem").count() == 1
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 20000


def test_group_checkout_registers_for_the_group(acme):
    a = make_activity(title="A")
    b = make_activity(title="B")
    group = catalog.create_group(
        title="Path", price=50000, activity_ids=[a.pk, b.pk], actor="staff"
    )
    issued = make_credit(acme, 50000, scope=codes.ScopeInput("group"))
    result = checkout.checkout(
        learner_email="ana@acme.test",
        group_id=group.pk,
        payment=pay(issued.code_text),
        actor="test",
    )
    assert result.registration.group_id == group.pk and result.order.charged == 50000


def test_card_with_a_coupon_discounts_and_a_free_coupon_enrolls(course):
    codes.create_coupon(name="Spring", percent_off_bp=1000, code="SPRING10", actor="staff")
    codes.create_coupon(
        name="Free", percent_off_bp=10000, code="FREE-2026", actor="staff", once_per_learner=True
    )
    result = buy(course, PaymentChoice(method="card", coupon="spring10", card_number=SUCCESS_CARD))
    assert (result.order.discount, result.order.charged, result.order.method) == (
        3000,
        27000,
        "card",
    )
    other = make_activity(title="Other")
    free = buy(other, PaymentChoice(method="code", code="free-2026"))
    assert (free.order.charged, free.order.method, free.receipt is not None) == (0, "coupon", True)
    third = make_activity(title="Third")
    refused("not_eligible", buy, third, PaymentChoice(method="card", coupon="FREE-2026"))


def test_a_card_payment_without_a_card_is_declined_and_writes_nothing(course):
    # the sandbox once took a blank card number for its test card
    error = refused("payment_declined", buy, course, PaymentChoice(method="card"))
    assert "card number" in error.message
    nothing_written()


def test_a_coupon_entered_as_a_credit_leaves_the_rest_to_a_card(course):
    # given the learner picked "Training credit" and typed a 10 % coupon in the code field
    codes.create_coupon(name="Spring", percent_off_bp=1000, code="SPRING10", actor="staff")
    # when they pay without a card, then nothing is charged to a card that was never entered
    error = refused("payment_declined", buy, course, pay("SPRING10"))
    assert error.message == "The coupon leaves $270.00 to pay by card: enter a card number."
    assert error.details["field"] == "payment.card_number"
    nothing_written()
    # and the quote already tells the page that the rest goes to the card
    quoted = checkout.quote(
        learner_email="ana@acme.test", activity_id=course.pk, payment=pay("SPRING10"), actor="test"
    )
    assert (quoted.method, quoted.payable) == ("card", 27000)
    # when they enter the card, then the card pays the rest and the order says so
    paid = buy(course, PaymentChoice(method="code", code="SPRING10", card_number=SUCCESS_CARD))
    order = paid.order
    assert (order.method, order.charged, order.discount, order.provider) == (
        "card",
        27000,
        3000,
        "sandbox",
    )
    assert order.coupon is not None and order.transfer is None and paid.receipt is not None


def test_a_full_coupon_needs_no_card_whichever_method_was_picked(course):
    codes.create_coupon(name="Free", percent_off_bp=10000, code="FREE-100", actor="staff")
    result = buy(course, pay("FREE-100"))
    assert (result.order.method, result.order.charged, result.order.provider) == ("coupon", 0, "")


def test_an_invoice_order_records_the_invoice_not_a_card(course):
    result = buy(course, PaymentChoice(method="card", provider="invoice"))
    assert (result.order.method, result.order.status) == ("invoice", "pending_payment")


def test_coupon_window_and_max_uses(course):
    now = clock.now()
    codes.create_coupon(
        name="Later", amount_off=1000, code="LATER-1", actor="s", valid_from=now + timedelta(days=1)
    )
    codes.create_coupon(name="Once", amount_off=1000, code="ONCE-ONLY", actor="s", max_uses=1)
    refused("code_inactive", buy, course, PaymentChoice(method="card", coupon="LATER-1"))
    buy(course, PaymentChoice(method="card", coupon="ONCE-ONLY", card_number=SUCCESS_CARD))
    other = make_activity(title="Other")
    refused(
        "code_inactive",
        buy,
        other,
        PaymentChoice(method="card", coupon="ONCE-ONLY", card_number=SUCCESS_CARD),
        email="ben@acme.test",
    )


def test_card_declined_writes_nothing(course):
    refused(
        "payment_declined",
        buy,
        course,
        PaymentChoice(method="card", card_number="4000 0000 0000 0002"),
    )
    nothing_written()


def test_invoice_orders_wait_until_marked_paid(course):
    result = buy(course, PaymentChoice(method="card", provider="invoice"))
    assert result.order.status == "pending_payment" and result.receipt is None
    assert result.registration.status == "pending"
    refused(
        "already_registered", buy, course, PaymentChoice(method="card", card_number=SUCCESS_CARD)
    )
    checkout.mark_order_paid(order_id=result.order.pk, actor="staff")
    result.registration.refresh_from_db()
    assert result.registration.status == "active"
    assert Receipt.objects.filter(order=result.order).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_registration_that_clashes_under_the_lock_refuses_the_whole_checkout(credit, monkeypatch):
    # given a first purchase, and a second that the early check misses (as a simultaneous
    # checkout of the same learner and item would)
    course = make_activity(title="Short course", price=1000)
    first = buy(course, pay(credit.code_text))
    monkeypatch.setattr("tuition.checkout.pricing._ensure_not_registered", lambda *a: None)
    events_before = NotificationEvent.objects.count()

    # then the registration's unique key refuses the second, and all of it rolls back
    refused("already_registered", buy, course, pay(credit.code_text))
    assert list(Order.objects.values_list("pk", flat=True)) == [first.order.pk]
    assert Registration.objects.count() == 1 and Invoice.objects.count() == 1
    assert Transfer.objects.filter(kind="redeem").count() == 1
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 50000 - course.price
    assert NotificationEvent.objects.count() == events_before


def test_receipt_and_invoice_numbers_are_gap_free_per_year(course, credit, acme):
    buy(course, pay(credit.code_text))
    refused("already_registered", buy, course, pay(credit.code_text))  # rolled back: no number
    other = make_activity(title="Other", price=100)
    buy(other, pay(credit.code_text))
    assert sorted(Receipt.objects.values_list("sequence", flat=True)) == [1, 2]
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == [1, 2]


def test_failed_code_entries_lock_the_learner_out_even_for_a_valid_code(course, credit):
    for _ in range(10):
        refused("code_not_found", buy, course, pay("WRONG-CODE-0000"), ip="10.1.1.1")
    assert AttemptCounter.objects.filter(scope="learner").exists()
    error = refused("too_many_attempts", buy, course, pay(credit.code_text), ip="10.1.1.1")
    assert error.retry_after > 0
    nothing_written()
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 50000


@pytest.mark.django_db(transaction=True)
def test_a_successful_code_checkout_writes_nothing_to_the_limiter(course, credit):
    # a valid code costs the limiter one read: no counter row, no transaction of its own
    buy(course, pay(credit.code_text), ip="10.1.2.3")
    assert not AttemptCounter.objects.exists()
