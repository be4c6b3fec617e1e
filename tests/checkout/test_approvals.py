"""Approval rules and holds (SPEC §7): a covered checkout holds value and seat; the owner
approves (a full redemption), declines (released) or lets it expire (released by the job)."""

from datetime import timedelta

import pytest
import time_machine

from tests.factories import (
    MembershipFactory,
    UserFactory,
    fan_out_recorded,
    make_credit,
    make_session,
    usd,
)
from tuition.catalog.models import Session
from tuition.checkout import approvals
from tuition.checkout import services as checkout
from tuition.checkout.models import Booking, Invoice, Order, Receipt, Registration
from tuition.checkout.services import CheckoutResult, PaymentChoice
from tuition.checkout.verify import CHECKS as CHECKOUT_CHECKS
from tuition.core import clock
from tuition.core.errors import DomainError, ValidationError
from tuition.ledger.models import Hold, Lot, Transfer
from tuition.ledger.selectors import get_balances
from tuition.ledger.verify import CHECKS as LEDGER_CHECKS
from tuition.notifications.models import NotificationEvent

pytestmark = pytest.mark.django_db


def problems() -> list[str]:
    return [p for check in [*LEDGER_CHECKS, *CHECKOUT_CHECKS] for p in check()]


def buy(course, code_text: str, email: str = "ana@acme.test", session=None):
    return checkout.checkout(
        learner_email=email,
        activity_id=course.pk,
        session_id=session.pk if session else None,
        payment=PaymentChoice(method="code", code=code_text),
        actor="learner",
    )


def require_above(account, amount: int, hours: int = 48, items=()):
    return approvals.set_rules(
        account_id=account.pk,
        above={"USD": amount},
        items=list(items),
        hold_hours=hours,
        actor="owner",
    )


def test_a_checkout_above_the_limit_holds_the_value_and_registers_nothing(course, acme, credit):
    # given
    require_above(acme, 10000)

    # when
    result = buy(course, credit.code_text)

    # then
    assert isinstance(result, approvals.AwaitingApproval)
    assert result.order.status == Order.Status.AWAITING_APPROVAL
    assert result.as_dict()["order"]["status"] == "awaiting_approval"
    assert Registration.objects.count() == 0 and Invoice.objects.count() == 0
    hold = Hold.objects.get()
    assert (hold.status, hold.amount) == ("pending", 30000)
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 20000
    balance = get_balances(account_id=acme.pk)[0]
    assert (balance.available, balance.held) == (20000, 30000)
    assert NotificationEvent.objects.filter(kind="hold.placed").count() == 1
    assert problems() == []


def test_the_quote_says_whether_an_owner_must_approve(course, acme, credit):
    def quoted(email: str = "ana@acme.test"):
        return checkout.quote(
            learner_email=email,
            activity_id=course.pk,
            payment=PaymentChoice(method="code", code=credit.code_text),
            actor="learner",
        )

    assert quoted().needs_approval is False
    require_above(acme, 30000)
    assert quoted().needs_approval is False  # at the limit: redeemed at once
    require_above(acme, 29999)
    quote = quoted()
    assert quote.needs_approval is True and quote.as_dict()["needs_approval"] is True
    assert quote.account_name == acme.name
    MembershipFactory(account=acme, user=UserFactory(email="olga@acme.test"), role="owner")
    assert quoted("olga@acme.test").needs_approval is False  # an owner's own redemption
    # a quote holds nothing and registers nothing
    assert Hold.objects.count() == 0 and Order.objects.count() == 0
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 50000


def test_a_checkout_at_or_below_the_limit_redeems_at_once(course, acme, credit):
    require_above(acme, 30000)

    result = buy(course, credit.code_text)

    assert isinstance(result, CheckoutResult)
    assert Hold.objects.count() == 0 and result.order.status == Order.Status.PAID


def test_a_listed_item_needs_approval_whatever_its_price(course, acme, credit):
    approvals.set_rules(
        account_id=acme.pk, above={}, items=[f"activity:{course.pk}"], hold_hours=24, actor="o"
    )

    result = buy(course, credit.code_text)

    assert isinstance(result, approvals.AwaitingApproval)


def test_an_owner_redeeming_needs_no_approval(course, acme, credit):
    require_above(acme, 0)
    MembershipFactory(account=acme, user=UserFactory(email="olga@acme.test"), role="owner")

    result = buy(course, credit.code_text, email="olga@acme.test")

    assert isinstance(result, CheckoutResult)


def test_approving_creates_everything_a_checkout_creates(course, acme, credit):
    # given: a dated session whose seat is held with the value
    session = make_session(course, capacity=3)
    require_above(acme, 10000)
    waiting = buy(course, credit.code_text, session=session)
    assert Session.objects.get(pk=session.pk).booked == 1

    # when
    result = approvals.approve(hold_id=waiting.hold.pk, actor="owner:olga")

    # then
    order = Order.objects.get(pk=waiting.order.pk)
    assert order.status == Order.Status.PAID and order.transfer_id == result.order.transfer_id
    assert Registration.objects.get(order=order).status == "active"
    assert Booking.objects.get(session=session).status == "active"
    assert Session.objects.get(pk=session.pk).booked == 1
    assert (
        Receipt.objects.filter(order=order).exists()
        and Invoice.objects.filter(order=order).exists()
    )
    hold = Hold.objects.get()
    assert hold.status == "captured" and hold.capture_transfer.kind == Transfer.Kind.REDEEM
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 20000
    kinds = set(NotificationEvent.objects.values_list("kind", flat=True))
    assert {"hold.approved", "credit.redeemed", "registration.confirmed"} <= kinds
    assert get_balances(account_id=acme.pk)[0].held == 0
    assert problems() == []


def test_declining_gives_value_and_seat_back(course, acme, credit):
    session = make_session(course, capacity=3)
    require_above(acme, 10000)
    waiting = buy(course, credit.code_text, session=session)

    order = approvals.decline(hold_id=waiting.hold.pk, actor="owner:olga")

    assert order.status == Order.Status.CANCELLED
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 50000
    assert Session.objects.get(pk=session.pk).booked == 0
    assert Hold.objects.get().status == "released"
    assert Registration.objects.count() == 0
    assert NotificationEvent.objects.filter(kind="hold.declined").count() == 1
    assert problems() == []


def test_a_decided_hold_cannot_be_decided_again(course, acme, credit):
    require_above(acme, 10000)
    waiting = buy(course, credit.code_text)
    approvals.decline(hold_id=waiting.hold.pk, actor="owner")

    with pytest.raises(DomainError) as refused:
        approvals.approve(hold_id=waiting.hold.pk, actor="owner")

    assert refused.value.code == "hold_not_pending" and refused.value.status == 409
    assert Transfer.objects.filter(kind="redeem").count() == 0


def test_an_undecided_hold_expires_after_the_time_limit(course, acme, credit):
    # given
    require_above(acme, 10000, hours=2)
    waiting = buy(course, credit.code_text)
    assert approvals.expire_overdue_holds() == 0

    # when
    with time_machine.travel(clock.now() + timedelta(hours=2, seconds=1)):
        expired = approvals.expire_overdue_holds()
        with pytest.raises(DomainError) as late:
            approvals.approve(hold_id=waiting.hold.pk, actor="owner")

    # then
    assert expired == 1 and late.value.code == "hold_not_pending"
    assert Hold.objects.get().status == "expired"
    assert Order.objects.get().status == Order.Status.CANCELLED
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 50000
    assert NotificationEvent.objects.filter(kind="hold.expired").count() == 1
    assert problems() == []


def test_the_same_learner_cannot_wait_twice_for_one_item(course, acme):
    credit = make_credit(acme, 100000)
    require_above(acme, 10000)
    buy(course, credit.code_text)

    with pytest.raises(DomainError) as twice:
        buy(course, credit.code_text)

    assert twice.value.code == "already_registered"
    assert Hold.objects.count() == 1 and Lot.objects.get(pk=credit.lot.pk).remaining == 70000


def test_a_hold_the_lots_do_not_cover_is_insufficient_balance(course, acme):
    small = make_credit(acme, 20000)
    require_above(acme, 0)

    with pytest.raises(DomainError) as refused:
        buy(course, small.code_text)

    assert refused.value.code == "insufficient_balance" and Hold.objects.count() == 0


def test_rules_refuse_bad_input(acme):
    with pytest.raises(ValidationError):
        approvals.set_rules(account_id=acme.pk, above={"XX": 1}, items=[], hold_hours=2, actor="o")
    with pytest.raises(ValidationError):
        approvals.set_rules(
            account_id=acme.pk, above={}, items=["activity:999"], hold_hours=2, actor="o"
        )
    with pytest.raises(ValidationError):
        approvals.set_rules(account_id=acme.pk, above={}, items=[], hold_hours=0, actor="o")


def test_the_command_and_the_periodic_job_release_overdue_holds(course, acme, credit):
    # given
    from django.core.management import call_command

    from tuition.notifications import periodic

    require_above(acme, 10000, hours=1)
    buy(course, credit.code_text)

    # when
    with time_machine.travel(clock.now() + timedelta(hours=2)):
        call_command("expire_holds")
        names = [job.name for job in periodic.jobs()]

    # then
    assert Hold.objects.get().status == "expired" and "expire_holds" in names
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 50000


def test_the_owner_reads_the_hold_email_and_webhooks_receive_the_event(course, acme, credit):
    # given an owner of the account
    from tuition.notifications.delivery import build_email, webhook_payload
    from tuition.notifications.models import EmailDelivery

    MembershipFactory(account=acme, user=UserFactory(email="olga@acme.test"), role="owner")
    require_above(acme, 10000)

    # when
    buy(course, credit.code_text)
    fan_out_recorded()

    # then
    delivery = EmailDelivery.objects.select_related("event").get(event__kind="hold.placed")
    email = build_email(delivery, delivery.event)
    assert email.to == ["olga@acme.test"]
    assert "waits for your approval" in email.subject
    assert 'ana@acme.test asks to use $300.00 for "Cloud Fundamentals"' in email.body
    assert '"type": "hold.placed"' in webhook_payload(delivery.event).replace('":"', '": "')


def test_a_listed_group_waits_and_approving_registers_its_activities(acme):
    # given
    from tuition.catalog import services as catalog
    from tuition.codes.services import ScopeInput

    credit = make_credit(acme, 50000, scope=ScopeInput(kind="group"))
    first = catalog.create_activity(title="One", price=10000, actor="t")
    second = catalog.create_activity(title="Two", price=10000, actor="t")
    path = catalog.create_group(
        title="Path", price=15000, activity_ids=[first.pk, second.pk], actor="t"
    )
    approvals.set_rules(
        account_id=acme.pk, above={}, items=[f"group:{path.pk}"], hold_hours=24, actor="o"
    )
    waiting = checkout.checkout(
        learner_email="ana@acme.test",
        group_id=path.pk,
        payment=PaymentChoice(method="code", code=credit.code_text),
        actor="learner",
    )

    # when
    approvals.approve(hold_id=waiting.hold.pk, actor="owner")

    # then
    registrations = Registration.objects.filter(learner__email="ana@acme.test")
    assert registrations.count() == 3 and set(registrations.values_list("status", flat=True)) == {
        "active"
    }
    assert Lot.objects.get(pk=credit.lot.pk).remaining == 35000
    assert problems() == []


def test_a_declined_member_code_redemption_gives_the_cap_back(course, acme):
    # given: Ana's own code, capped at 400.00, and approval above 100.00
    from tuition.codes import services as codes
    from tuition.codes.models import RedemptionCode

    MembershipFactory(account=acme, user=UserFactory(email="ana@acme.test"))
    make_credit(acme, 100000)
    made = codes.create_member_code(
        account_id=acme.pk, unit=usd(), member_email="ana@acme.test", cap=40000, actor="o"
    )
    require_above(acme, 10000)
    waiting = buy(course, made.code_text)
    assert RedemptionCode.objects.get(pk=made.code.pk).spent == 30000

    # when
    approvals.decline(hold_id=waiting.hold.pk, actor="owner")

    # then
    assert RedemptionCode.objects.get(pk=made.code.pk).spent == 0
    assert problems() == []


def test_the_learner_hears_when_the_request_is_declined_or_not_decided_in_time(
    course, acme, credit
):
    # given approval above 100.00, an owner, and two learners, one of them reading German
    from tuition.notifications.delivery import build_email
    from tuition.notifications.models import EmailDelivery

    MembershipFactory(account=acme, user=UserFactory(email="olga@acme.test"), role="owner")
    UserFactory(email="jonas@acme.test", language="de")
    require_above(acme, 10000, hours=2)

    # when the owner declines one request and lets the next run out
    declined = buy(course, credit.code_text)
    approvals.decline(hold_id=declined.hold.pk, actor="owner:olga")
    buy(course, credit.code_text, email="jonas@acme.test")
    with time_machine.travel(clock.now() + timedelta(hours=2, seconds=1)):
        assert approvals.expire_overdue_holds() == 1
    fan_out_recorded()

    # then each learner gets one email about their own request, and the owner none of these
    sent = EmailDelivery.objects.select_related("event", "user").filter(
        event__kind="registration.not_approved"
    )
    assert sorted(d.email for d in sent) == ["ana@acme.test", "jonas@acme.test"]
    to_ana = build_email(sent.get(email="ana@acme.test"), sent.get(email="ana@acme.test").event)
    assert to_ana.subject.endswith("Not approved: Cloud Fundamentals")
    assert 'for "Cloud Fundamentals" with a code of Acme was declined' in to_ana.body
    assert "Nothing was charged, and you are not registered." in to_ana.body
    assert "was declined" in to_ana.alternatives[0].content
    jonas = sent.get(email="jonas@acme.test")
    to_jonas = build_email(jonas, jonas.event)
    assert "Nicht freigegeben: Cloud Fundamentals" in to_jonas.subject
    assert "nicht rechtzeitig entschieden" in to_jonas.body
    assert jonas.event.data["reason"] == "expired" and jonas.event.data["amount"] == "300.00"
    assert not Registration.objects.exists() and problems() == []
