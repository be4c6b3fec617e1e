"""SPEC §2 Catalog: buying a group registers the learner for each of its activities, which then
live and end with it; its dated activities are booked afterwards."""

import pytest

from tests.factories import AccountFactory, make_activity, make_credit, make_session
from tuition.catalog import services as catalog
from tuition.checkout import services as checkout
from tuition.checkout.models import Booking, Registration
from tuition.checkout.services import PaymentChoice
from tuition.codes import services as codes
from tuition.core.errors import DomainError
from tuition.ledger.models import Lot, Transfer
from tuition.portal.selectors import learning_of

pytestmark = pytest.mark.django_db


def refused(code, fn, **kwargs):
    with pytest.raises(DomainError) as exc:
        fn(**kwargs)
    assert exc.value.code == code, exc.value
    return exc.value


@pytest.fixture
def path():
    """A 500.00 group of an undated course and a dated lab with one session, and a credit
    that pays for anything."""
    course = make_activity(title="Cloud Basics", price=30000)
    lab = make_activity(title="Cloud Lab", price=30000, is_dated=True)
    session = make_session(lab, capacity=3)
    group = catalog.create_group(
        title="Cloud Path", price=50000, activity_ids=[course.pk, lab.pk], actor="staff"
    )
    credit = make_credit(AccountFactory(), 200000, scope=codes.ScopeInput("activity"))
    group_credit = make_credit(AccountFactory(), 100000, scope=codes.ScopeInput("group"))
    return {
        "course": course,
        "lab": lab,
        "session": session,
        "group": group,
        "credit": credit,
        "group_credit": group_credit,
    }


def _buy_group(path, email="ana@acme.test"):
    return checkout.checkout(
        learner_email=email,
        group_id=path["group"].pk,
        payment=PaymentChoice(method="code", code=path["group_credit"].code_text),
        actor="test",
    )


def test_a_group_registers_its_activities_and_buying_one_again_is_refused(path):
    # when the learner buys the group
    result = _buy_group(path)
    # then they hold the group's registration and one for each of its activities
    parts = Registration.objects.filter(part_of=result.registration)
    assert sorted(parts.values_list("activity__title", "status")) == [
        ("Cloud Basics", "active"),
        ("Cloud Lab", "active"),
    ]
    # and buying one of those activities again is already_registered, with nothing charged
    error = refused(
        "already_registered",
        checkout.checkout,
        learner_email="ana@acme.test",
        activity_id=path["course"].pk,
        payment=PaymentChoice(method="code", code=path["credit"].code_text),
        actor="test",
    )
    assert "Cloud Path" in error.message
    assert Lot.objects.get(pk=path["credit"].lot.pk).remaining == 200000
    # and My learning shows the group with what it includes
    (row,) = learning_of(result.registration.learner)
    assert row.registration.pk == result.registration.pk
    assert [a.title for a in row.included] == ["Cloud Basics", "Cloud Lab"]
    assert [p.activity.title for p in row.dated] == ["Cloud Lab"]


def test_a_group_holding_an_activity_already_bought_is_refused(path):
    checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=path["course"].pk,
        payment=PaymentChoice(method="code", code=path["credit"].code_text),
        actor="test",
    )
    error = refused(
        "already_registered",
        checkout.checkout,
        learner_email="ana@acme.test",
        group_id=path["group"].pk,
        payment=PaymentChoice(method="code", code=path["group_credit"].code_text),
        actor="test",
    )
    assert "Cloud Basics" in error.message
    assert Lot.objects.get(pk=path["group_credit"].lot.pk).remaining == 100000


def test_cancelling_the_group_cancels_its_activities_with_one_refund(path):
    result = _buy_group(path)
    part = Registration.objects.get(part_of=result.registration, activity=path["lab"])
    # the lab's date is booked afterwards, through the lab's own registration
    checkout.book_session(registration_id=part.pk, session_id=path["session"].pk, actor="ana")
    assert Booking.objects.get(status="active").registration_id == result.registration.pk
    # an activity that came with the group cannot be cancelled alone
    refused("not_cancellable", checkout.cancel_registration, registration_id=part.pk, actor="ana")
    # when staff cancel the group with a refund
    checkout.cancel_registration(
        registration_id=result.registration.pk, actor="staff", refund=True, by_staff=True
    )
    # then every part ends with it, the seat is freed, and one reversal refunds the order
    assert set(Registration.objects.values_list("status", flat=True)) == {"cancelled"}
    assert not Booking.objects.filter(status="active").exists()
    path["session"].refresh_from_db()
    assert path["session"].booked == 0
    assert Transfer.objects.filter(kind="reverse").count() == 1
    assert Lot.objects.get(pk=path["group_credit"].lot.pk).remaining == 100000
    # and the activities can be bought on their own again
    checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=path["course"].pk,
        payment=PaymentChoice(method="code", code=path["credit"].code_text),
        actor="test",
    )


def test_an_invoice_group_order_activates_its_activities_when_paid(path):
    result = checkout.checkout(
        learner_email="ana@acme.test",
        group_id=path["group"].pk,
        payment=PaymentChoice(method="card", provider="invoice"),
        actor="test",
    )
    assert set(Registration.objects.values_list("status", flat=True)) == {"pending"}
    checkout.mark_order_paid(order_id=result.order.pk, actor="staff")
    assert set(Registration.objects.values_list("status", flat=True)) == {"active"}


def test_the_api_lists_a_group_registration_with_its_activities(path, api):
    # when an integrating system buys the group for a learner
    response = api.post(
        "checkout",
        {
            "learner": {"email": "ana@acme.test"},
            "item": {"group": str(path["group"].pk)},
            "payment": {"method": "code", "code": path["group_credit"].code_text},
        },
    )
    assert response.status_code == 201, response.json()
    # then the learner's registrations are the group's, listing its activities
    (listed,) = api.get("registrations?learner=ana@acme.test").json()["results"]
    assert listed["group"] == str(path["group"].pk)
    assert sorted(listed["activities"]) == sorted([str(path["course"].pk), str(path["lab"].pk)])
    # and the lab is booked through it, free of charge
    booked = api.post(
        f"registrations/{listed['id']}/book",
        {"session": str(path["session"].pk), "activity": str(path["lab"].pk)},
    )
    assert booked.status_code == 200, booked.json()
    assert [b["session"] for b in booked.json()["bookings"]] == [str(path["session"].pk)]
    assert Transfer.objects.filter(kind="redeem").count() == 1
