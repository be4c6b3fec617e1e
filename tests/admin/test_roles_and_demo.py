import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tuition.accounts.admin_roles import COMMERCE_MANAGER, VIEWER, ensure_staff_roles

pytestmark = pytest.mark.django_db


def test_roles_exist_after_migrate_and_have_the_right_permissions():
    # post_migrate made them; running again changes nothing
    ensure_staff_roles()
    manager = set(
        Group.objects.get(name=COMMERCE_MANAGER).permissions.values_list(
            "content_type__app_label", "codename"
        )
    )
    viewer = set(
        Group.objects.get(name=VIEWER).permissions.values_list(
            "content_type__app_label", "codename"
        )
    )
    assert {
        ("ledger", "change_lot"),
        ("codes", "add_coupon"),
        ("codes", "delete_coupon"),
        ("codes", "change_redemptioncode"),
        ("checkout", "view_order"),
    } <= manager
    assert ("ledger", "view_lot") in viewer
    assert all(codename.startswith("view_") for _, codename in viewer)


def test_demo_has_a_commerce_manager_and_a_viewer_who_can_log_in(client):
    from tuition.portal.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo

    assert load_demo()
    emails = [e for e, _ in DEMO_LOGINS]
    assert {"admin@northwind.test", "cora@northwind.test", "vic@northwind.test"} <= set(emails)
    for email, status in [("cora@northwind.test", 200), ("vic@northwind.test", 200)]:
        assert client.login(username=email, password=DEMO_PASSWORD)
        assert client.get(reverse("admin:ledger_lot_changelist")).status_code == status
    # the viewer may not add
    assert client.get(reverse("admin:ledger_lot_add")).status_code == 403
