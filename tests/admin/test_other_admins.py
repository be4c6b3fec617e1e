from datetime import timedelta

import pytest
from django.urls import reverse

from tests.factories import TokenUnitFactory, make_activity, make_credit, make_session
from tuition.catalog.models import Activity, Session, TokenPrice
from tuition.checkout.models import Registration
from tuition.checkout.services import PaymentChoice, checkout
from tuition.codes.models import Coupon
from tuition.codes.selectors import find_code
from tuition.core import clock
from tuition.ledger.models import Transfer, Unit

pytestmark = pytest.mark.django_db


def test_a_coupon_is_created_and_edited_through_the_services(as_manager):
    # when
    created = as_manager.post(
        reverse("admin:codes_coupon_add"),
        {
            "name": "Spring",
            "status": "active",
            "percent_off": "10",
            "amount_off": "",
            "scope_kind": "any",
            "scope_all": "on",
            "code": "SPRING-26",
            "max_uses": "5",
        },
        follow=True,
    )
    # then
    coupon = Coupon.objects.get()
    assert coupon.percent_off_bp == 1000 and coupon.max_uses == 5
    assert find_code("spring26").coupon_id == coupon.pk
    assert "Its code is SPRING-26" in created.content.decode()
    # when
    as_manager.post(
        reverse("admin:codes_coupon_change", args=[coupon.pk]),
        {"name": "Spring sale", "status": "inactive", "max_uses": "5", "scope_all": "on"},
    )
    # then
    coupon.refresh_from_db()
    assert (coupon.name, coupon.status) == ("Spring sale", "inactive")
    assert find_code("spring26").status == "inactive"
    assert coupon.history.count() >= 2


def test_a_coupon_with_two_discounts_is_refused_on_the_form(as_manager):
    page = as_manager.post(
        reverse("admin:codes_coupon_add"),
        {
            "name": "Both",
            "status": "active",
            "percent_off": "10",
            "amount_off": "5.00",
            "scope_kind": "any",
            "scope_all": "on",
        },
    )
    assert page.status_code == 200 and "either a percentage or an amount" in page.content.decode()
    assert Coupon.objects.count() == 0


def test_staff_cancel_a_registration_with_a_refund(as_superuser, account):
    # given
    issued = make_credit(account, 50000)
    activity = make_activity(price=30000)
    result = checkout(
        learner_email="ana@acme.test",
        activity_id=activity.pk,
        actor="test",
        payment=PaymentChoice(method="code", code=issued.code_text),
    )
    registration = result.registration
    # when
    as_superuser.post(
        reverse("admin:checkout_registration_changelist"),
        {"action": "cancel_with_refund", "_selected_action": [registration.pk]},
    )
    # then
    registration.refresh_from_db()
    issued.lot.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    assert issued.lot.remaining == 50000
    assert Transfer.objects.filter(kind="reverse").count() == 1


def test_staff_cancel_without_refund_keeps_the_money_spent(as_superuser, account):
    issued = make_credit(account, 50000)
    activity = make_activity(price=30000)
    registration = checkout(
        learner_email="ana@acme.test",
        activity_id=activity.pk,
        actor="t",
        payment=PaymentChoice(method="code", code=issued.code_text),
    ).registration
    as_superuser.post(
        reverse("admin:checkout_registration_changelist"),
        {"action": "cancel_without_refund", "_selected_action": [registration.pk]},
    )
    registration.refresh_from_db()
    issued.lot.refresh_from_db()
    assert registration.status == "cancelled" and issued.lot.remaining == 20000
    assert not Transfer.objects.filter(kind="reverse").exists()


def test_a_viewer_cannot_cancel_registrations(as_viewer, account):
    issued = make_credit(account, 50000)
    activity = make_activity(price=30000)
    registration = checkout(
        learner_email="ana@acme.test",
        activity_id=activity.pk,
        actor="t",
        payment=PaymentChoice(method="code", code=issued.code_text),
    ).registration
    as_viewer.post(
        reverse("admin:checkout_registration_changelist"),
        {"action": "cancel_with_refund", "_selected_action": [registration.pk]},
    )
    registration.refresh_from_db()
    assert registration.status == "active"


def test_activities_with_token_prices_and_sessions_with_seats_left(as_superuser):
    # given
    tokens = TokenUnitFactory()
    # when
    as_superuser.post(
        reverse("admin:catalog_activity_add"),
        {
            "title": "Cloud Fundamentals",
            "kind": "course",
            "price": "300.00",
            "token_prices": "TT=3",
            "learner_can_cancel": "on",
            "is_published": "on",
        },
    )
    activity = Activity.objects.get()
    starts = (clock.now() + timedelta(days=30)).astimezone()
    as_superuser.post(
        reverse("admin:catalog_session_add"),
        {
            "activity": activity.pk,
            "starts_at_0": starts.strftime("%Y-%m-%d"),
            "starts_at_1": "09:00:00",
            "ends_at_0": starts.strftime("%Y-%m-%d"),
            "ends_at_1": "17:00:00",
            "timezone": "Europe/Berlin",
            "capacity": "12",
            "location": "Online",
        },
    )
    # then
    assert activity.price == 30000
    assert TokenPrice.objects.get(activity=activity, unit=tokens).amount == 3
    session = Session.objects.get()
    activity.refresh_from_db()
    assert session.capacity == 12 and activity.is_dated
    page = as_superuser.get(reverse("admin:catalog_session_changelist")).content.decode()
    assert "seats left" in page.lower()


def test_a_session_capacity_cannot_go_below_bookings(as_superuser):
    session = make_session(make_activity(), capacity=5)
    Session.objects.filter(pk=session.pk).update(booked=3)
    page = as_superuser.post(
        reverse("admin:catalog_session_change", args=[session.pk]),
        {
            "starts_at_0": session.starts_at.astimezone().strftime("%Y-%m-%d"),
            "starts_at_1": session.starts_at.astimezone().strftime("%H:%M:%S"),
            "ends_at_0": session.ends_at.astimezone().strftime("%Y-%m-%d"),
            "ends_at_1": session.ends_at.astimezone().strftime("%H:%M:%S"),
            "timezone": "UTC",
            "capacity": "2",
            "location": "",
        },
    )
    session.refresh_from_db()
    assert page.status_code == 200 and "below the seats already booked" in page.content.decode()
    assert session.capacity == 5


def test_token_types_usd_is_read_only(as_superuser):
    usd_unit = Unit.objects.get(code="USD")
    as_superuser.post(
        reverse("admin:ledger_unit_add"),
        {
            "code": "lab",
            "name": "Lab Token",
            "decimals": "1",
            "expiry_days": "180",
            "is_active": "on",
        },
    )
    lab = Unit.objects.get(code="LAB")
    as_superuser.post(
        reverse("admin:ledger_unit_change", args=[lab.pk]),
        {"name": "Lab Token v2", "expiry_days": "", "is_active": "on"},
    )
    lab.refresh_from_db()
    assert (lab.name, lab.decimals, lab.expiry_days) == ("Lab Token v2", 1, None)
    page = as_superuser.get(reverse("admin:ledger_unit_change", args=[usd_unit.pk]))
    assert 'name="_save"' not in page.content.decode()
    refused = as_superuser.post(
        reverse("admin:ledger_unit_change", args=[usd_unit.pk]), {"name": "Dollars"}
    )
    usd_unit.refresh_from_db()
    assert refused.status_code == 403 and usd_unit.name != "Dollars"


def test_accounts_are_created_and_edited_through_the_services(as_superuser):
    from tuition.accounts.models import Membership, TrainingAccount

    as_superuser.post(
        reverse("admin:accounts_trainingaccount_add"),
        {
            "name": "Initech",
            "external_id": "crm-1",
            "redeemer_policy": "members",
            "owner_emails": "bill@initech.test",
        },
    )
    account = TrainingAccount.objects.get(name="Initech")
    assert Membership.objects.get(account=account).role == "owner"
    as_superuser.post(
        reverse("admin:accounts_trainingaccount_change", args=[account.pk]),
        {
            "name": "Initech Ltd",
            "external_id": "crm-1",
            "redeemer_policy": "anyone",
            "add_email": "milton@initech.test",
            "add_role": "member",
        },
    )
    account.refresh_from_db()
    assert (account.name, account.redeemer_policy) == ("Initech Ltd", "anyone")
    assert account.memberships.count() == 2
