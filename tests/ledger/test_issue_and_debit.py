from datetime import timedelta

import pytest
import time_machine

from tests.factories import AccountFactory, TokenUnitFactory, issue, usd
from tuition.core import clock
from tuition.core.errors import ValidationError
from tuition.ledger import services as ledger
from tuition.ledger.errors import InsufficientBalanceError
from tuition.ledger.models import Entry, Lot, SystemAccount, Transfer
from tuition.ledger.selectors import ItemRef, available_balance, get_balances

pytestmark = pytest.mark.django_db


def test_issue_credit_creates_a_lot_and_a_balanced_issue_transfer():
    # given
    account = AccountFactory()
    # when
    lot = issue(account, 50000, purchase_price=45000, notes="Q4 deal", external_id="pi_1")
    # then
    lot.refresh_from_db()
    assert lot.remaining == 50000 and lot.redeemable_value == 50000
    assert lot.purchase_price == 45000 and lot.status == Lot.Status.ACTIVE
    transfer = Transfer.objects.get(kind=Transfer.Kind.ISSUE)
    legs = {(e.lot_id, e.system_account): e.amount for e in transfer.entries.all()}
    assert legs == {(lot.pk, None): 50000, (None, SystemAccount.ISSUANCE): -50000}
    assert available_balance(account_id=account.pk, unit_id=usd().pk) == 50000


def test_issue_credit_by_policy_expires_one_year_after_issue():
    account = AccountFactory()
    with time_machine.travel("2026-03-01T12:00:00Z", tick=False):
        lot = ledger.issue_credit(
            account_id=account.pk,
            unit=usd(),
            redeemable_value=100,
            actor="test",
            source=Lot.Source.API,
        )
    assert lot.expires_at.isoformat() == "2027-03-01T12:00:00+00:00"


def test_issue_credit_without_expiry_never_expires():
    account = AccountFactory()
    lot = issue(account, 100, days=None)
    assert lot.expires_at is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"redeemable_value": 0},
        {"redeemable_value": -5},
        {"redeemable_value": 10**16},
        {"purchase_price": -1},
        {"status": "frozen"},
        {"scope_kind": "everything"},
        {"scope_all": False},
        {"expires_at": "past"},
    ],
)
def test_issue_credit_refuses_bad_input_and_writes_nothing(kwargs):
    account = AccountFactory()
    if kwargs.get("expires_at") == "past":
        kwargs["expires_at"] = clock.now() - timedelta(seconds=1)
    base = {"account_id": account.pk, "unit": usd(), "redeemable_value": 100, "actor": "test"}
    with pytest.raises(ValidationError):
        ledger.issue_credit(**{**base, **kwargs})
    assert Lot.objects.count() == 0 and Transfer.objects.count() == 0 and Entry.objects.count() == 0


def test_debit_spends_the_soonest_expiring_lot_first_across_lots():
    # given: three lots, the middle one expiring first, one never expiring
    account = AccountFactory()
    never = issue(account, 1000, days=None)
    late = issue(account, 1000, days=300)
    soon = issue(account, 1000, days=10)
    # when
    transfer = ledger.debit(account_id=account.pk, unit=usd(), amount=1500, actor="test")
    # then
    spent = {e.lot_id: e.amount for e in transfer.entries.filter(lot__isnull=False)}
    assert spent == {soon.pk: -1000, late.pk: -500}
    assert [Lot.objects.get(pk=p).remaining for p in (soon.pk, late.pk, never.pk)] == [0, 500, 1000]
    assert transfer.amount == 1500 and transfer.kind == Transfer.Kind.REDEEM
    assert transfer.entries.get(system_account=SystemAccount.REDEMPTIONS).amount == 1500


def test_debit_with_equal_expiry_spends_the_oldest_lot_first():
    account = AccountFactory()
    moment = clock.now() + timedelta(days=30)
    first = ledger.issue_credit(
        account_id=account.pk, unit=usd(), redeemable_value=100, expires_at=moment, actor="t"
    )
    second = ledger.issue_credit(
        account_id=account.pk, unit=usd(), redeemable_value=100, expires_at=moment, actor="t"
    )
    ledger.debit(account_id=account.pk, unit=usd(), amount=100, actor="t")
    assert Lot.objects.get(pk=first.pk).remaining == 0
    assert Lot.objects.get(pk=second.pk).remaining == 100


def test_debit_that_the_usable_lots_do_not_cover_fails_and_writes_nothing():
    # given: 100 usable, plus value that may not be used (inactive, expired, other unit)
    account = AccountFactory()
    issue(account, 100)
    inactive = issue(account, 1000)
    ledger.set_lot_status(lot_id=inactive.pk, status=Lot.Status.INACTIVE, actor="t")
    issue(account, 1000, unit=TokenUnitFactory())
    with time_machine.travel(clock.now() - timedelta(days=400)):
        issue(account, 1000, days=1)  # expired long ago
    transfers_before = Transfer.objects.count()
    # when / then
    with pytest.raises(InsufficientBalanceError) as err:
        ledger.debit(account_id=account.pk, unit=usd(), amount=101, actor="t")
    assert err.value.details == {}  # never shows the balance
    assert Transfer.objects.count() == transfers_before
    assert available_balance(account_id=account.pk, unit_id=usd().pk) == 100


def test_a_lot_is_unusable_from_its_expiry_instant_on():
    account = AccountFactory()
    lot = issue(account, 100, days=1)
    with time_machine.travel(lot.expires_at - timedelta(microseconds=1), tick=False):
        assert available_balance(account_id=account.pk, unit_id=usd().pk) == 100
    with time_machine.travel(lot.expires_at, tick=False), pytest.raises(InsufficientBalanceError):
        ledger.debit(account_id=account.pk, unit=usd(), amount=1, actor="t")
    with time_machine.travel(lot.expires_at - timedelta(microseconds=1), tick=False):
        ledger.debit(account_id=account.pk, unit=usd(), amount=100, actor="t")
    assert Lot.objects.get(pk=lot.pk).remaining == 0


def test_debit_only_uses_lots_whose_scope_covers_the_item():
    account = AccountFactory()
    for_groups = issue(account, 500, scope_kind=Lot.ScopeKind.GROUP)
    listed = issue(account, 300, scope_all=False, scope_items=[7, 8])
    other = issue(account, 300, scope_all=False, scope_items=[9])
    transfer = ledger.debit(
        account_id=account.pk, unit=usd(), amount=300, actor="t", item=ItemRef("activity", 8)
    )
    assert [e.lot_id for e in transfer.entries.filter(lot__isnull=False)] == [listed.pk]
    with pytest.raises(InsufficientBalanceError):
        ledger.debit(
            account_id=account.pk, unit=usd(), amount=1, actor="t", item=ItemRef("activity", 8)
        )
    assert Lot.objects.get(pk=for_groups.pk).remaining == 500
    assert Lot.objects.get(pk=other.pk).remaining == 300


def test_debit_narrowed_to_one_lot_does_not_touch_the_others():
    account = AccountFactory()
    issue(account, 1000, days=1)
    target = issue(account, 200, days=100)
    ledger.debit(account_id=account.pk, unit=usd(), amount=150, actor="t", lot_ids=[target.pk])
    assert Lot.objects.get(pk=target.pk).remaining == 50
    with pytest.raises(InsufficientBalanceError):
        ledger.debit(account_id=account.pk, unit=usd(), amount=51, actor="t", lot_ids=[target.pk])


def test_balances_per_unit_show_available_and_inactive_value_and_hide_deleted_lots():
    account = AccountFactory()
    tokens = TokenUnitFactory()
    issue(account, 35000)
    inactive = issue(account, 500)
    ledger.set_lot_status(lot_id=inactive.pk, status="inactive", actor="t")
    deleted = issue(account, 700)
    ledger.void_lot(lot_id=deleted.pk, actor="t")
    issue(account, 3, unit=tokens)
    balances = {b.unit.code: b for b in get_balances(account_id=account.pk)}
    assert balances["USD"].available == 35000 and balances["USD"].inactive == 500
    assert balances["USD"].available_display == "350.00"
    assert deleted.pk not in [lot.pk for lot in balances["USD"].lots]
    assert balances["TT"].available == 3
