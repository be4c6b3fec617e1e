import contextlib
from datetime import timedelta

import pytest
from django.db import transaction

from tests.factories import AccountFactory, TokenUnitFactory, UserFactory, make_credit, usd
from tuition.accounts import services as accounts
from tuition.codes import services as codes
from tuition.codes.errors import CodeTakenError
from tuition.codes.models import Coupon, RedemptionCode
from tuition.codes.selectors import find_code
from tuition.core import clock
from tuition.core.errors import NotFoundError, ScopeKindImmutableError, ValidationError
from tuition.core.round_trips import one_round_trip
from tuition.ledger.errors import InsufficientBalanceError
from tuition.ledger.models import Lot, Transfer
from tuition.notifications.models import NotificationEvent

pytestmark = pytest.mark.django_db


def test_create_credit_issues_a_lot_with_a_generated_code_and_records_the_event():
    # given
    account = AccountFactory()
    # when
    issued = codes.create_credit(
        account_id=account.pk,
        unit=usd(),
        redeemable_value=50000,
        purchase_price=45000,
        actor="staff@x.test",
        scope=codes.ScopeInput(kind="activity", all=False, items=[7]),
    )
    # then
    assert issued.lot.remaining == 50000 and issued.lot.scope_item_ids() == [7]
    assert issued.code.kind == RedemptionCode.Kind.LOT and issued.code.lot_id == issued.lot.pk
    assert len(issued.code_text) == 19 and not issued.code.is_custom
    assert Transfer.objects.filter(kind="issue").count() == 1
    assert NotificationEvent.objects.filter(kind="credit.issued", account_id=account.pk).exists()


def test_create_credit_for_an_owner_email_makes_a_personal_account():
    issued = codes.create_credit(
        owner_email="pat@solo.test", unit=usd(), redeemable_value=100, actor="staff"
    )
    assert issued.lot.account.is_personal
    assert issued.lot.account.memberships.get().user.email == "pat@solo.test"


def test_custom_codes_share_one_space_with_coupons():
    # given: a coupon SPRING10
    codes.create_coupon(name="Spring", percent_off_bp=1000, code="SPRING10", actor="staff")
    account = AccountFactory()
    # when / then: the same code (any case, I for 1) cannot be a credit code too
    with pytest.raises(CodeTakenError):
        make_credit(account, 100, code="spr1ng10")
    assert Lot.objects.count() == 0  # refused before anything was issued
    with pytest.raises(CodeTakenError):
        codes.create_pool_code(account_id=account.pk, unit=usd(), code="Spring-10", actor="s")


def test_custom_codes_need_six_to_32_symbols():
    account = AccountFactory()
    with pytest.raises(ValidationError):
        make_credit(account, 100, code="ABC")
    issued = make_credit(account, 100, code="acme-gold-2026")
    assert issued.code.is_custom and issued.code_text == "ACME-GOLD-2026"
    assert find_code("ACMEG0LD2026").pk == issued.code.pk


def test_update_credit_changes_status_expiry_scope_list_and_notes_with_history():
    # given
    account = AccountFactory()
    issued = make_credit(account, 1000, scope=codes.ScopeInput("activity", False, [1]))
    new_expiry = clock.now() + timedelta(days=10)
    # when
    lot = codes.update_credit(
        lot_id=issued.lot.pk,
        actor="staff",
        status="inactive",
        expires_at=new_expiry,
        notes="moved",
        scope=codes.ScopeInput("activity", False, [1, 2]),
    )
    # then
    lot.refresh_from_db()
    assert lot.status == "inactive" and lot.expires_at == new_expiry and lot.notes == "moved"
    assert sorted(lot.scope_item_ids()) == [1, 2]
    assert lot.history.count() >= 3
    assert NotificationEvent.objects.filter(kind="credit.expiry_changed").count() == 1


def test_the_scope_kind_of_a_credit_never_changes():
    account = AccountFactory()
    issued = make_credit(account, 1000)
    with pytest.raises(ScopeKindImmutableError) as exc:
        codes.update_credit(
            lot_id=issued.lot.pk, actor="staff", scope=codes.ScopeInput(kind="group")
        )
    assert exc.value.code == "scope_kind_immutable"
    assert Lot.objects.get(pk=issued.lot.pk).scope_kind == "activity"


def test_bulk_actions_deactivate_activate_and_delete_many_credits():
    account = AccountFactory()
    lots = [make_credit(account, 1000).lot.pk for _ in range(3)]
    assert codes.bulk_credit_action(action="deactivate", lot_ids=lots, actor="s") == 3
    assert set(Lot.objects.filter(pk__in=lots).values_list("status", flat=True)) == {"inactive"}
    codes.bulk_credit_action(action="activate", lot_ids=lots[:1], actor="s")
    assert Lot.objects.get(pk=lots[0]).status == "active"
    codes.bulk_credit_action(action="delete", lot_ids=lots, actor="s")
    assert Lot.objects.filter(pk__in=lots, deleted_at__isnull=False).count() == 3
    assert Transfer.objects.filter(kind="void").count() == 3
    assert not RedemptionCode.objects.filter(lot_id__in=lots, deleted_at__isnull=True).exists()


def test_bulk_action_with_an_unknown_id_changes_nothing():
    account = AccountFactory()
    lot = make_credit(account, 1000).lot
    with pytest.raises(NotFoundError):
        codes.bulk_credit_action(action="deactivate", lot_ids=[lot.pk, lot.pk + 999], actor="s")
    assert Lot.objects.get(pk=lot.pk).status == "active"


def test_rotate_code_retires_the_old_text():
    account = AccountFactory()
    issued = make_credit(account, 1000)
    new = codes.rotate_code(code_id=issued.code.pk, actor="owner")
    assert find_code(issued.code_text) is None
    assert find_code(new.code_text).pk == issued.code.pk


def test_member_codes_need_a_member_and_a_positive_cap():
    account = AccountFactory()
    outsider = UserFactory()
    with pytest.raises(ValidationError):
        codes.create_member_code(
            account_id=account.pk, unit=usd(), member_email=outsider.email, actor="owner"
        )
    accounts.add_member(account=account, email="m@x.test", actor="owner")
    with pytest.raises(ValidationError):
        codes.create_member_code(
            account_id=account.pk, unit=usd(), member_email="m@x.test", cap=0, actor="owner"
        )
    new = codes.create_member_code(
        account_id=account.pk,
        unit=TokenUnitFactory(),
        member_email="m@x.test",
        cap=5,
        actor="owner",
    )
    assert new.code.kind == "member" and new.code.cap == 5 and new.code.member.email == "m@x.test"


def test_coupon_needs_exactly_one_discount_and_a_sane_window():
    with pytest.raises(ValidationError):
        codes.create_coupon(name="x", actor="s")
    with pytest.raises(ValidationError):
        codes.create_coupon(name="x", percent_off_bp=10001, actor="s")
    with pytest.raises(ValidationError):
        codes.create_coupon(name="x", amount_off=100, percent_off_bp=100, actor="s")
    now = clock.now()
    with pytest.raises(ValidationError):
        codes.create_coupon(name="x", amount_off=100, valid_from=now, valid_until=now, actor="s")
    assert Coupon.objects.count() == 0


def test_deleting_a_coupon_retires_its_code():
    new = codes.create_coupon(name="Spring", percent_off_bp=1000, code="SPRING10", actor="s")
    codes.delete_coupon(coupon_id=new.coupon.pk, actor="s")
    code = find_code("SPRING10")
    assert code.is_deleted and code.status == "inactive"


def test_a_member_codes_cap_guards_its_spending_alone_or_in_a_batch():
    account = AccountFactory()
    accounts.add_member(account=account, email="m@x.test", actor="owner")
    issued = codes.create_member_code(
        account_id=account.pk, unit=usd(), member_email="m@x.test", cap=500, actor="owner"
    )
    code_id = issued.code.pk

    with transaction.atomic():
        codes.spend_within_cap(code_id=code_id, amount=300)
    # past the cap: refused at once, or (PostgreSQL) when the batch is back; nothing counted
    for batched in (False, True):
        with (
            pytest.raises(InsufficientBalanceError),
            transaction.atomic(),
            one_round_trip() if batched else contextlib.nullcontext(),
        ):
            codes.spend_within_cap(code_id=code_id, amount=201)
        assert RedemptionCode.objects.get(pk=code_id).spent == 300
    with transaction.atomic(), one_round_trip():
        codes.spend_within_cap(code_id=code_id, amount=200)  # exactly up to the cap
    assert RedemptionCode.objects.get(pk=code_id).spent == 500
