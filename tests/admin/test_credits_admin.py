from datetime import timedelta

import pytest
from django.urls import reverse

from tests.factories import make_activity, make_credit, usd
from tuition.codes.models import RedemptionCode
from tuition.core import clock
from tuition.ledger.models import Lot, Transfer

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:ledger_lot_changelist")
ADD = reverse("admin:ledger_lot_add")


def _add_payload(account, **overrides):  # type: ignore[no-untyped-def]
    data = {
        "account": account.pk,
        "owner_email": "",
        "unit": usd().pk,
        "redeemable_value": "150.00",
        "purchase_price": "120.00",
        "external_id": "pi_1",
        "expires_at_0": "",
        "expires_at_1": "",
        "status": "active",
        "notes": "Q4 deal",
        "scope_kind": "activity",
        "scope_all": "on",
        "code": "",
    }
    data.update(overrides)
    return data


def test_a_credit_created_with_a_blank_code_gets_a_generated_code(as_manager, account):
    # when
    response = as_manager.post(ADD, _add_payload(account), follow=True)
    # then
    assert response.status_code == 200
    lot = Lot.objects.get()
    assert (lot.redeemable_value, lot.remaining, lot.purchase_price) == (15000, 15000, 12000)
    assert (lot.external_id, lot.notes, lot.source) == ("pi_1", "Q4 deal", "admin")
    assert lot.expires_at is None
    assert Transfer.objects.filter(kind="issue", account=account).count() == 1
    code = RedemptionCode.objects.get(lot=lot)
    from tuition.codes.selectors import reveal_code

    text = reveal_code(code)
    assert text and len(text) == 19
    assert f"Its redemption code is {text}" in response.content.decode()


def test_a_credit_for_an_owner_email_goes_to_a_personal_account(as_manager, account):
    # given
    payload = _add_payload(
        account, owner_email="pat@solo.test", code="WELCOME-PAT", scope_kind="group"
    )
    payload["account"] = ""
    from tuition.catalog import services as catalog

    group = catalog.create_group(title="Cloud Path", price=80000, actor="test")
    payload["scope_groups"] = [group.pk]
    payload.pop("scope_all")
    # when
    response = as_manager.post(ADD, payload)
    # then
    assert response.status_code == 302, response.content.decode()[:3000]
    lot = Lot.objects.get()
    assert lot.account.is_personal and "pat@solo.test" in lot.account.name
    assert (lot.scope_kind, lot.scope_all, lot.scope_item_ids()) == ("group", False, [group.pk])
    from tuition.codes.selectors import find_code

    assert find_code("welcome pat").lot_id == lot.pk


def test_a_bad_value_and_a_taken_code_are_shown_on_the_form(as_manager, account):
    # given
    taken = make_credit(account, 1000)
    # when
    bad_value = as_manager.post(ADD, _add_payload(account, redeemable_value="1.234"))
    taken_code = as_manager.post(ADD, _add_payload(account, code=taken.code_text))
    # then
    assert bad_value.status_code == 200 and "errorlist" in bad_value.content.decode()
    assert taken_code.status_code == 200 and "errorlist" in taken_code.content.decode()
    assert Lot.objects.count() == 1


def test_editing_a_credit_goes_through_the_service_and_shows_its_history(as_manager, account):
    # given
    lot = make_credit(account, 5000).lot
    url = reverse("admin:ledger_lot_change", args=[lot.pk])
    new_expiry = (clock.now() + timedelta(days=90)).astimezone()
    # when
    response = as_manager.post(
        url,
        {
            "status": "inactive",
            "expires_at_0": new_expiry.strftime("%Y-%m-%d"),
            "expires_at_1": new_expiry.strftime("%H:%M:%S"),
            "external_id": "crm-9",
            "notes": "changed",
            "purchase_price": "",
            "scope_all": "on",
        },
    )
    # then
    assert response.status_code == 302
    lot.refresh_from_db()
    assert (lot.status, lot.external_id, lot.notes) == ("inactive", "crm-9", "changed")
    page = as_manager.get(url).content.decode()
    assert "Status: active → inactive" in page  # the field by its name, never "status"
    assert "External ID: " in page or "External id: " in page
    assert "manager@northwind.test" in page


def test_the_scope_kind_is_read_only_after_creation(as_manager, account):
    lot = make_credit(account, 5000).lot
    page = as_manager.get(reverse("admin:ledger_lot_change", args=[lot.pk])).content.decode()
    assert 'name="scope_kind"' not in page
    assert 'name="scope_all"' in page


def test_bulk_deactivate_then_filter_then_activate(as_manager, account):
    # given
    a, b, c = (make_credit(account, 1000 * n).lot for n in (1, 2, 3))
    # when
    as_manager.post(CHANGELIST, {"action": "deactivate_credits", "_selected_action": [a.pk, b.pk]})
    inactive = as_manager.get(CHANGELIST, {"state": "inactive"})
    as_manager.post(CHANGELIST, {"action": "activate_credits", "_selected_action": [a.pk]})
    # then
    assert [x.pk for x in inactive.context["cl"].result_list] == sorted([a.pk, b.pk], reverse=True)
    assert dict(Lot.objects.values_list("pk", "status")) == {
        a.pk: "active",
        b.pk: "inactive",
        c.pk: "active",
    }
    assert a.history.filter(status="inactive").exists()


def test_bulk_delete_asks_first_then_voids(as_manager, account):
    # given
    a, b = make_credit(account, 1000), make_credit(account, 2000)
    select = {"action": "delete_selected", "_selected_action": [a.lot.pk]}
    # when
    confirm = as_manager.post(CHANGELIST, select)
    # then nothing happened yet
    assert confirm.status_code == 200 and "will be voided" in confirm.content.decode()
    assert Lot.objects.filter(deleted_at__isnull=True).count() == 2
    # when confirmed
    as_manager.post(CHANGELIST, {**select, "post": "yes"})
    # then
    a.lot.refresh_from_db()
    assert a.lot.deleted_at is not None and a.lot.remaining == 0
    assert Transfer.objects.filter(kind="void", amount=1000).count() == 1
    listed = as_manager.get(CHANGELIST).context["cl"].result_list
    assert [x.pk for x in listed] == [b.lot.pk]


def test_filters_by_expiry(as_manager, account):
    soon = make_credit(account, 1000, days=10).lot
    later = make_credit(account, 1000, days=100).lot
    never = make_credit(account, 1000, days=None).lot

    def ids(value):  # type: ignore[no-untyped-def]
        page = as_manager.get(CHANGELIST, {"expiry": value})
        return {x.pk for x in page.context["cl"].result_list}

    assert (ids("soon"), ids("later"), ids("never"), ids("expired")) == (
        {soon.pk},
        {later.pk},
        {never.pk},
        set(),
    )


def test_search_by_code_external_id_and_owner_email(as_manager, account):
    from tuition.accounts import services as accounts

    accounts.add_member(account=account, email="olga@acme.test", role="owner", actor="test")
    one = make_credit(account, 1000, external_id="pi_777")
    other = make_credit(accounts.create_account(name="Globex", actor="test"), 1000)

    def ids(q):  # type: ignore[no-untyped-def]
        return {x.pk for x in as_manager.get(CHANGELIST, {"q": q}).context["cl"].result_list}

    messy = one.code_text.lower().replace("-", " ")
    assert ids(messy) == {one.lot.pk}
    assert ids("pi_777") == {one.lot.pk}
    assert ids("olga@acme") == {one.lot.pk}
    assert ids(other.code_text) == {other.lot.pk}


def test_adjust_with_a_reason(as_manager, account):
    lot = make_credit(account, 5000).lot
    url = reverse("admin:ledger_lot_adjust", args=[lot.pk])
    assert as_manager.get(url).status_code == 200
    too_much = as_manager.post(url, {"amount": "-60.00", "reason": "correction"})
    ok = as_manager.post(url, {"amount": "-10.50", "reason": "correction"})
    lot.refresh_from_db()
    assert too_much.status_code == 200 and "below zero" in too_much.content.decode()
    assert ok.status_code == 302 and lot.remaining == 3950
    assert Transfer.objects.get(kind="adjust").reason == "correction"


def test_codes_are_masked_for_viewers_and_shown_to_managers(client, manager, viewer, account):
    issued = make_credit(account, 1000)
    text = issued.code_text
    client.force_login(viewer)
    as_viewer = client.get(CHANGELIST).content.decode()
    client.force_login(manager)
    as_manager = client.get(CHANGELIST).content.decode()
    assert text not in as_viewer
    assert f"{text[:4]}-••••-••••-{text[-4:]}" in as_viewer
    assert text in as_manager


def test_a_viewer_cannot_change_anything(as_viewer, account):
    lot = make_credit(account, 1000).lot
    assert as_viewer.get(CHANGELIST).status_code == 200
    assert as_viewer.get(ADD).status_code == 403
    assert as_viewer.post(ADD, _add_payload(account)).status_code == 403
    as_viewer.post(CHANGELIST, {"action": "deactivate_credits", "_selected_action": [lot.pk]})
    as_viewer.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [lot.pk], "post": "yes"}
    )
    change = as_viewer.post(
        reverse("admin:ledger_lot_change", args=[lot.pk]), {"status": "inactive"}
    )
    adjust = as_viewer.post(
        reverse("admin:ledger_lot_adjust", args=[lot.pk]), {"amount": "5", "reason": "x"}
    )
    lot.refresh_from_db()
    assert change.status_code == 403 and adjust.status_code == 403
    assert (lot.status, lot.deleted_at, lot.remaining) == ("active", None, 1000)
    assert Lot.objects.count() == 1


def test_ledger_rows_are_read_only(as_superuser, account):
    make_credit(account, 1000)
    transfer = Transfer.objects.get()
    assert as_superuser.get(reverse("admin:ledger_transfer_changelist")).status_code == 200
    assert as_superuser.get(reverse("admin:ledger_transfer_add")).status_code == 403
    page = as_superuser.get(reverse("admin:ledger_transfer_change", args=[transfer.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    delete = as_superuser.post(
        reverse("admin:ledger_transfer_delete", args=[transfer.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403 and Transfer.objects.count() == 1


def test_commerce_switch_hides_the_discounts_area(as_superuser, account, settings):
    # given
    settings.TUITION = {**settings.TUITION, "COMMERCE_ENABLED": False}
    # when
    index = as_superuser.get(reverse("admin:index")).content.decode()
    catalog = as_superuser.get(reverse("admin:section", args=["catalog"])).content.decode()
    # then
    assert "/admin/section/discounts/" not in index and ">Discounts<" not in index
    assert "/admin/ledger/lot/" not in index
    assert "/admin/catalog/activity/" in catalog
    assert as_superuser.get(reverse("admin:section", args=["discounts"])).status_code == 404
    assert as_superuser.get(CHANGELIST).status_code == 403
    assert as_superuser.get(reverse("admin:codes_coupon_changelist")).status_code == 403
    # and back on
    settings.TUITION = {**settings.TUITION, "COMMERCE_ENABLED": True}
    discounts = as_superuser.get(reverse("admin:section", args=["discounts"])).content.decode()
    assert "/admin/ledger/lot/" in discounts and "Training credits" in discounts


def test_the_changelist_shows_value_scope_owner_remaining_expiry_status(as_manager, account):
    activity = make_activity()
    make_credit(
        account,
        15000,
        scope=__import__("tuition.codes.services", fromlist=["x"]).ScopeInput(
            kind="activity", all=False, items=[activity.pk]
        ),
    )
    page = as_manager.get(CHANGELIST).content.decode()
    for text in ("$150.00", "1 chosen activity", "Acme Corp", "Active"):
        assert text in page
