"""Many simultaneous debits against one account: never overdrawn, never double-spent."""

from collections import Counter

import pytest

from tests.concurrency.parallel import run_in_parallel
from tests.factories import AccountFactory, issue, usd
from tuition.ledger import services as ledger
from tuition.ledger.models import Lot, Transfer
from tuition.ledger.verify import CHECKS

pytestmark = pytest.mark.django_db(transaction=True)


def test_64_simultaneous_debits_of_10_against_300_over_3_lots():
    # given: 300.00 across three lots with different expiries
    account = AccountFactory()
    lots = [issue(account, 10000, days=d) for d in (10, 20, None)]
    unit = usd()

    # when: 64 debits of 10.00 race
    outcomes = run_in_parallel(
        lambda i: ledger.debit(account_id=account.pk, unit=unit, amount=1000, actor=f"w{i}"),
        64,
    )

    # then: exactly 30 succeed, the rest are refused, nothing is negative, the ledger holds
    assert Counter(outcomes) == {"ok": 30, "insufficient_balance": 34}, outcomes
    assert Transfer.objects.filter(kind="redeem").count() == 30
    assert [Lot.objects.get(pk=lot.pk).remaining for lot in lots] == [0, 0, 0]
    assert [p for check in CHECKS for p in check()] == []


def test_debits_racing_an_expiry_sweep_and_a_deactivation_never_overdraw():
    account = AccountFactory()
    spendable = issue(account, 5000, days=None)
    switched = issue(account, 5000, days=None)
    unit = usd()

    def work(i: int) -> object:
        if i == 0:
            return ledger.set_lot_status(lot_id=switched.pk, status="inactive", actor="staff")
        if i == 1:
            return ledger.expire_lots()
        return ledger.debit(account_id=account.pk, unit=unit, amount=1000, actor=f"w{i}")

    outcomes = run_in_parallel(work, 16)

    debits = outcomes[2:]
    succeeded = debits.count("ok")
    assert set(debits) <= {"ok", "insufficient_balance"}, outcomes
    assert 5 <= succeeded <= 10
    remaining = sum(
        Lot.objects.filter(pk__in=[spendable.pk, switched.pk]).values_list("remaining", flat=True)
    )
    assert remaining == 10000 - succeeded * 1000
    assert Lot.objects.get(pk=switched.pk).status == "inactive"
    assert [p for check in CHECKS for p in check()] == []


def test_a_transfer_reversed_by_many_at_once_is_reversed_once():
    account = AccountFactory()
    lot = issue(account, 1000)
    spend = ledger.debit(account_id=account.pk, unit=usd(), amount=400, actor="t")

    outcomes = run_in_parallel(
        lambda i: ledger.reverse_transfer(transfer_id=spend.pk, actor=f"w{i}"), 12
    )

    assert Counter(outcomes) == {"ok": 1, "already_reversed": 11}, outcomes
    assert Lot.objects.get(pk=lot.pk).remaining == 1000
    assert [p for check in CHECKS for p in check()] == []
