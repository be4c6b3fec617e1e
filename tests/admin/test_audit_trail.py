"""Changes made in the staff admin name the staff member, and the audit page finds them."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from tests.factories import UserFactory
from tuition.codes.models import Coupon
from tuition.core.actors import Actor
from tuition.core.audit import record_change
from tuition.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _add_coupon(client):  # type: ignore[no-untyped-def]
    return client.post(
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
    )


def test_a_change_in_the_admin_names_the_staff_member_in_history_and_audit(as_manager, manager):
    # when
    _add_coupon(as_manager)
    # then: the history row names the person, the audit row holds the reference
    coupon = Coupon.objects.get()
    row = coupon.history.get()
    assert row.history_user_id == manager.pk
    assert row.history_change_reason == f"created by user:{manager.pk}@admin"
    event = AuditEvent.objects.get(object_type="codes.coupon")
    assert (event.actor_kind, event.actor_id, event.interface, event.object_id) == (
        "user",
        str(manager.pk),
        "admin",
        str(coupon.pk),
    )
    # and the object's history page reads it as a person
    page = as_manager.get(reverse("admin:codes_coupon_history", args=[coupon.pk]))
    assert f"{manager.name} (staff) via admin" in page.content.decode()
    # when the coupon is edited
    as_manager.post(
        reverse("admin:codes_coupon_change", args=[coupon.pk]),
        {"name": "Spring sale", "status": "active", "max_uses": "5", "scope_all": "on"},
    )
    # then the trail names the fields that changed, never their values
    edit = AuditEvent.objects.filter(object_type="codes.coupon").order_by("-id").first()
    assert (edit.verb, edit.summary, edit.actor) == ("edited", "name", f"user:{manager.pk}@admin")


def _events():  # type: ignore[no-untyped-def]
    cora = UserFactory(name="Cora Diaz", is_staff=True)
    olga = UserFactory(name="Olga Ortiz")
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=UTC), tick=False):
        record_change(
            actor=Actor.for_user(cora, via="admin"),
            verb="changed",
            object_type="codes.coupon",
            object_id=7,
        )
    with time_machine.travel(datetime(2026, 3, 5, 10, tzinfo=UTC), tick=False):
        record_change(
            actor=Actor.for_user(olga, via="pages"),
            verb="booked",
            object_type="checkout.booking",
            object_id=3,
        )
        record_change(
            actor=Actor.for_api_key("AbCd1234"),
            verb="changed",
            object_type="codes.coupon",
            object_id=8,
        )
    with time_machine.travel(datetime(2026, 3, 9, 10, tzinfo=UTC), tick=False):
        record_change(
            actor=Actor.for_job("remove_old_exports"),
            verb="export removed",
            object_type="reports.reportexport",
            object_id=4,
        )
    return cora, olga


def _listed(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{r.verb}:{r.object_label}" for r in page.context["rows"]]


def test_the_audit_page_lists_newest_first_and_filters(as_superuser):
    # given
    cora, olga = _events()
    url = reverse("admin:audit")
    # when / then: everything, newest first
    everything = as_superuser.get(url)
    assert everything.status_code == 200
    assert _listed(everything) == [
        "Export removed:Report export #4",
        "Changed:Coupon #8",
        "Booked:Booking #3",
        "Changed:Coupon #7",
    ]
    # by person
    assert _listed(as_superuser.get(url, {"who": f"user:{cora.pk}"})) == ["Changed:Coupon #7"]
    # by API key
    assert _listed(as_superuser.get(url, {"who": "api-key:AbCd1234"})) == ["Changed:Coupon #8"]
    # by object type and id
    assert _listed(as_superuser.get(url, {"object_type": "codes.coupon", "object_id": "7"})) == [
        "Changed:Coupon #7"
    ]
    # by kind of change
    assert _listed(as_superuser.get(url, {"verb": "booked"})) == ["Booked:Booking #3"]
    # by date range
    march_5 = as_superuser.get(url, {"since": "2026-03-04", "until": "2026-03-06"})
    assert sorted(_listed(march_5)) == ["Booked:Booking #3", "Changed:Coupon #8"]
    # rows link to the object's staff page, and name people as people
    page = as_superuser.get(url, {"who": f"user:{olga.pk}"}).content.decode()
    assert reverse("admin:checkout_booking_change", args=["3"]) in page
    assert "Olga Ortiz (learner)" in page
    # a bad filter value shows nothing rather than everything
    assert _listed(as_superuser.get(url, {"since": "not-a-date"})) == []


def test_the_audit_page_pages_and_is_for_staff_who_may_read_it(as_viewer, client):
    # given
    for n in range(55):
        record_change(
            actor=Actor.for_job("load_demo_data", via="command"),
            verb="created",
            object_type="ledger.lot",
            object_id=n + 1,
        )
    # then: a viewer may read it, 50 a page
    first = as_viewer.get(reverse("admin:audit"))
    assert first.status_code == 200 and len(first.context["rows"]) == 50
    second = as_viewer.get(reverse("admin:audit"), {"page": 2})
    assert len(second.context["rows"]) == 5
    section = as_viewer.get(reverse("admin:section", args=["audit"])).content.decode()
    assert f'href="{reverse("admin:audit")}"' in section
    # and a staff member without the permission may not
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:audit")).status_code == 403
