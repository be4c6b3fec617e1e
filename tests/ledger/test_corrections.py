from datetime import timedelta

import pytest
import time_machine

from tests.factories import AccountFactory, issue, usd
from tuition.core import clock
from tuition.core.errors import NotFoundError, ValidationError
from tuition.ledger import holds
from tuition.ledger import services as ledger
from tuition.ledger.errors import AlreadyReversedError, InsufficientBalanceError
from tuition.ledger.models import Lot, SystemAccount, Transfer
from tuition.ledger.verify import CHECKS

pytestmark = pytest.mark.django_db


def assert_ledger_consistent():
    problems = [p for check in CHECKS for p in check()]
    assert problems == []


def test_reverse_returns_value_to_the_same_lots_keeping_their_expiry():
    account = AccountFactory()
    a = issue(account, 300, days=10)
    b = issue(account, 300, days=20)
    spend = ledger.debit(account_id=account.pk, unit=usd(), amount=500, actor="t")
    reversal = ledger.reverse_transfer(transfer_id=spend.pk, actor="staff", reason="refund")
    assert reversal.kind == Transfer.Kind.REVERSE and reversal.reverses_id == spend.pk
    assert reversal.amount == 500
    assert Lot.objects.get(pk=a.pk).remaining == 300
    assert Lot.objects.get(pk=b.pk).remaining == 300
    assert Lot.objects.get(pk=a.pk).expires_at == a.expires_at
    assert_ledger_consistent()


def test_a_transfer_is_reversed_at_most_once():
    account = AccountFactory()
    issue(account, 300)
    spend = ledger.debit(account_id=account.pk, unit=usd(), amount=100, actor="t")
    ledger.reverse_transfer(transfer_id=spend.pk, actor="t")
    with pytest.raises(AlreadyReversedError):
        ledger.reverse_transfer(transfer_id=spend.pk, actor="t")
    assert Transfer.objects.filter(kind="reverse").count() == 1
    assert Lot.objects.get().remaining == 300


def test_value_returned_to_an_expired_lot_expires_at_once():
    account = AccountFactory()
    lot = issue(account, 300, days=5)
    spend = ledger.debit(account_id=account.pk, unit=usd(), amount=100, actor="t")
    with time_machine.travel(clock.now() + timedelta(days=6)):
        ledger.expire_lots()
        ledger.reverse_transfer(transfer_id=spend.pk, actor="t")
    lot.refresh_from_db()
    assert lot.remaining == 0
    kinds = list(Transfer.objects.order_by("pk").values_list("kind", "amount"))
    assert kinds == [
        ("issue", 300),
        ("redeem", 100),
        ("expire", 200),
        ("reverse", 100),
        ("expire", 100),
    ]
    assert_ledger_consistent()


def test_value_returned_to_a_deleted_lot_is_voided_at_once():
    account = AccountFactory()
    lot = issue(account, 300)
    spend = ledger.debit(account_id=account.pk, unit=usd(), amount=100, actor="t")
    ledger.void_lot(lot_id=lot.pk, actor="t")
    ledger.reverse_transfer(transfer_id=spend.pk, actor="t")
    assert Lot.objects.get(pk=lot.pk).remaining == 0
    assert list(
        Transfer.objects.filter(kind="void").order_by("pk").values_list("amount", flat=True)
    ) == [200, 100]
    assert_ledger_consistent()


def test_issue_and_reversal_transactions_cannot_be_reversed():
    account = AccountFactory()
    issue(account, 300)
    with pytest.raises(ValidationError):
        ledger.reverse_transfer(transfer_id=Transfer.objects.get().pk, actor="t")
    with pytest.raises(NotFoundError):
        ledger.reverse_transfer(transfer_id=999999, actor="t")


def test_adjust_up_and_down_with_a_reason_never_below_zero():
    account = AccountFactory()
    lot = issue(account, 300)
    ledger.adjust_lot(lot_id=lot.pk, delta=50, reason="goodwill", actor="staff")
    ledger.adjust_lot(lot_id=lot.pk, delta=-350, reason="correction", actor="staff")
    assert Lot.objects.get(pk=lot.pk).remaining == 0
    with pytest.raises(ValidationError, match="below zero"):
        ledger.adjust_lot(lot_id=lot.pk, delta=-1, reason="x", actor="staff")
    with pytest.raises(ValidationError, match="reason"):
        ledger.adjust_lot(lot_id=lot.pk, delta=5, reason="  ", actor="staff")
    adjustments = Transfer.objects.filter(kind="adjust").order_by("pk")
    assert [t.reason for t in adjustments] == ["goodwill", "correction"]
    assert adjustments[0].entries.get(system_account=SystemAccount.ADJUSTMENTS).amount == -50
    assert_ledger_consistent()


def test_void_deletes_the_credit_voids_its_value_and_keeps_its_history():
    account = AccountFactory()
    lot = issue(account, 300)
    ledger.debit(account_id=account.pk, unit=usd(), amount=100, actor="t")
    void = ledger.void_lot(lot_id=lot.pk, actor="staff", reason="cancelled deal")
    assert void.amount == 200 and void.kind == "void"
    lot.refresh_from_db()
    assert lot.is_deleted and lot.remaining == 0
    assert Transfer.objects.filter(kind="redeem").count() == 1
    assert ledger.void_lot(lot_id=lot.pk, actor="staff") is None  # deleting twice changes nothing
    assert Transfer.objects.filter(kind="void").count() == 1
    with pytest.raises(NotFoundError):
        ledger.adjust_lot(lot_id=lot.pk, delta=5, reason="x", actor="staff")
    assert lot.history.first().history_change_reason.startswith("deleted by staff")


def test_inactive_credits_cannot_pay_until_reactivated():
    account = AccountFactory()
    lot = issue(account, 300)
    ledger.set_lot_status(lot_id=lot.pk, status="inactive", actor="t")
    with pytest.raises(InsufficientBalanceError):
        ledger.debit(account_id=account.pk, unit=usd(), amount=1, actor="t")
    ledger.set_lot_status(lot_id=lot.pk, status="active", actor="t")
    ledger.debit(account_id=account.pk, unit=usd(), amount=1, actor="t")
    assert Lot.objects.get(pk=lot.pk).remaining == 299


def test_expire_lots_books_each_expired_lot_once():
    account = AccountFactory()
    expiring = [issue(account, 100 + i, days=1) for i in range(3)]
    keeps = issue(account, 999, days=30)
    empty = issue(account, 50, days=1)
    ledger.debit(account_id=account.pk, unit=usd(), amount=50, actor="t", lot_ids=[empty.pk])
    with time_machine.travel(clock.now() + timedelta(days=2)):
        first = ledger.expire_lots(batch_size=2)
        second = ledger.expire_lots()
    assert sorted(t.amount for t in first) == [100, 101, 102] and second == []
    assert all(Lot.objects.get(pk=lot.pk).remaining == 0 for lot in expiring)
    assert Lot.objects.get(pk=keeps.pk).remaining == 999
    breakage = sum(t.entries.get(system_account="breakage").amount for t in first)
    assert breakage == 303
    assert_ledger_consistent()


def test_extending_an_expired_and_swept_credit_brings_its_value_back():
    account = AccountFactory()
    lot = issue(account, 100, days=1)
    later = clock.now() + timedelta(days=2)
    with time_machine.travel(later):
        ledger.expire_lots()
        assert Lot.objects.get(pk=lot.pk).remaining == 0
        ledger.change_expiry(lot_id=lot.pk, expires_at=later + timedelta(days=30), actor="staff")
        assert Lot.objects.get(pk=lot.pk).remaining == 100
        ledger.debit(account_id=account.pk, unit=usd(), amount=100, actor="t")
    assert_ledger_consistent()


def test_moving_expiry_into_the_past_makes_the_credit_unusable_at_once():
    account = AccountFactory()
    lot = issue(account, 100, days=10)
    ledger.change_expiry(lot_id=lot.pk, expires_at=clock.now() - timedelta(seconds=1), actor="s")
    with pytest.raises(InsufficientBalanceError):
        ledger.debit(account_id=account.pk, unit=usd(), amount=1, actor="t")
    assert [t.amount for t in ledger.expire_lots()] == [100]
    assert lot.history.first().history_change_reason == "expiry changed by s"


def test_moving_an_expiry_into_the_past_after_a_redemption_is_no_drift():
    # given a redemption from a credit while it was valid
    from tuition.ledger.verify import no_spend_after_expiry

    account = AccountFactory()
    lot = issue(account, 1000, days=30)
    with time_machine.travel(clock.now() + timedelta(days=1)):
        ledger.debit(account_id=account.pk, unit=usd(), amount=400, actor="t")
    # when staff then move its expiry to before that redemption (legal, rule 8)
    with time_machine.travel(clock.now() + timedelta(days=2)):
        ledger.change_expiry(lot_id=lot.pk, expires_at=clock.now() - timedelta(days=2), actor="s")
    # then verify judges the redemption by the expiry in force when it was booked
    assert no_spend_after_expiry() == []
    assert_ledger_consistent()


def test_a_redemption_booked_after_the_expiry_then_in_force_is_reported():
    # given a lot that expired, and a redemption forged onto it afterwards (drift to find)
    from tuition.ledger.services import _append_transfer
    from tuition.ledger.verify import no_spend_after_expiry

    account = AccountFactory()
    lot = issue(account, 1000, days=1)
    later = clock.now() + timedelta(days=2)
    forged = _append_transfer(
        kind=Transfer.Kind.REDEEM,
        account_id=account.pk,
        unit_id=lot.unit_id,
        at=later,
        actor="t",
        legs=[(lot.pk, -100)],
        system_account=SystemAccount.REDEMPTIONS,
    )
    # then verify reports it
    assert no_spend_after_expiry() == [f"transfer {forged.pk} spent lot {lot.pk} after it expired"]


def test_a_captured_hold_is_refunded_into_the_lot_it_spent_last_as_a_debit_is():
    # given a hold across two lots: the soon-expiring one (issued second) is taken first
    account = AccountFactory()
    lasting = issue(account, 300, days=None)
    soon = issue(account, 100, days=1)
    hold = holds.place_hold(
        account_id=account.pk,
        unit=usd(),
        amount=250,
        expires_at=clock.now() + timedelta(hours=1),
        actor="t",
    )
    redemption = holds.capture_hold(hold_id=hold.pk, actor="owner")
    # when part of it is refunded
    refund = ledger.reverse_part(transfer_id=redemption.pk, amount=10, actor="staff")
    # then the redemption lists its lots in spending order, and the refund goes to the lot
    # spent last (the lasting one), as for a plain debit
    spent = redemption.entries.filter(lot__isnull=False).order_by("id")
    assert [(e.lot_id, e.amount) for e in spent] == [(soon.pk, -100), (lasting.pk, -150)]
    assert {e.lot_id: e.amount for e in refund.entries.filter(lot__isnull=False)} == {
        lasting.pk: 10
    }
    assert_ledger_consistent()
