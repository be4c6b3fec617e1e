"""A hypothesis state machine that drives the ledger at random and checks every invariant after
every step against a plain-Python model of what each lot should hold."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.factories import AccountFactory, usd
from tuition.core import clock
from tuition.core.errors import DomainError, NotFoundError, ValidationError
from tuition.ledger import holds
from tuition.ledger import services as ledger
from tuition.ledger.errors import (
    AlreadyReversedError,
    HoldNotPendingError,
    InsufficientBalanceError,
)
from tuition.ledger.models import Hold, Lot, Transfer
from tuition.ledger.selectors import available_balance, held_by_unit
from tuition.ledger.verify import CHECKS

START = datetime.fromisoformat("2027-01-01T00:00:00+00:00")


@dataclass
class ModelHold:
    parts: dict[int, int]  # lot id -> amount reserved
    expires_at: datetime
    pending: bool = True


@dataclass
class ModelLot:
    pk: int
    remaining: int
    expires_at: datetime | None
    active: bool = True
    deleted: bool = False
    expired_unreversed: list[int] = field(default_factory=list)  # expire transfer ids

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def usable(self, now: datetime) -> bool:
        return self.active and not self.deleted and not self.expired(now) and self.remaining > 0

    def order(self) -> tuple:
        return (self.expires_at is None, self.expires_at or START, self.pk)


def _test_block() -> transaction.Atomic:
    """A savepoint that stands in for a test's own transaction, as Django's TestCase marks
    its blocks: a use case called inside it still runs as a top-level one."""
    block = transaction.atomic()
    block._from_testcase = True  # type: ignore[attr-defined]
    return block


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.savepoint = _test_block()
        self.savepoint.__enter__()
        self.traveller = time_machine.travel(START, tick=False)
        self.time = self.traveller.start()
        self.lots: dict[int, ModelLot] = {}
        self.redeems: dict[int, dict[int, int]] = {}  # transfer id -> {lot id: amount}
        self.holds: dict[int, ModelHold] = {}
        # transfer id -> {lot id: amount returned so far by partial reversals}
        self.returned: dict[int, dict[int, int]] = {}

    def teardown(self) -> None:
        self.traveller.stop()
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)

    @initialize()
    def open_account(self) -> None:
        self.account = AccountFactory()
        self.unit = usd()

    def now(self) -> datetime:
        return clock.now()

    def attempt(self, call):
        """Run one service call like a top-level request: all of it, or none of it."""
        try:
            with _test_block():
                return call()
        except DomainError as exc:
            return exc

    @rule(amount=st.integers(1, 500), days=st.one_of(st.none(), st.integers(1, 60)))
    def issue(self, amount: int, days: int | None) -> None:
        expires_at = None if days is None else self.now() + timedelta(days=days)
        lot = ledger.issue_credit(
            account_id=self.account.pk,
            unit=self.unit,
            redeemable_value=amount,
            expires_at=expires_at,
            actor="model",
        )
        self.lots[lot.pk] = ModelLot(lot.pk, amount, expires_at)

    @rule(amount=st.integers(1, 800))
    def debit(self, amount: int) -> None:
        now = self.now()
        usable = sorted((lot for lot in self.lots.values() if lot.usable(now)), key=ModelLot.order)
        result = self.attempt(
            lambda: ledger.debit(
                account_id=self.account.pk, unit=self.unit, amount=amount, actor="model"
            )
        )
        if sum(lot.remaining for lot in usable) < amount:
            assert isinstance(result, InsufficientBalanceError)
            return
        assert isinstance(result, Transfer), result
        expected, left = {}, amount
        for lot in usable:
            take = min(lot.remaining, left)
            if take:
                expected[lot.pk] = take
                lot.remaining -= take
                left -= take
        spent = {e.lot_id: -e.amount for e in result.entries.filter(lot__isnull=False)}
        assert spent == expected
        self.redeems[result.pk] = expected

    @precondition(lambda self: self.redeems)
    @rule(data=st.data())
    def reverse(self, data) -> None:
        transfer_id = data.draw(st.sampled_from(sorted(self.redeems)))
        result = self.attempt(
            lambda: ledger.reverse_transfer(transfer_id=transfer_id, actor="model")
        )
        if self.redeems[transfer_id] is None or transfer_id in self.returned:
            assert isinstance(result, AlreadyReversedError)
            return
        assert isinstance(result, Transfer), result
        self.refund_into_lots(result, self.redeems[transfer_id])
        self.redeems[transfer_id] = None  # type: ignore[assignment]

    @precondition(lambda self: self.redeems)
    @rule(data=st.data(), amount=st.integers(1, 400))
    def reverse_part(self, data, amount: int) -> None:
        transfer_id = data.draw(st.sampled_from(sorted(self.redeems)))
        result = self.attempt(
            lambda: ledger.reverse_part(transfer_id=transfer_id, amount=amount, actor="model")
        )
        if self.redeems[transfer_id] is None:
            assert isinstance(result, AlreadyReversedError)
            return
        returned = dict(self.returned.get(transfer_id, {}))
        spent = self.redeems[transfer_id]
        if amount > sum(spent.values()) - sum(returned.values()):
            assert isinstance(result, ValidationError), result
            return
        assert isinstance(result, Transfer), result
        expected, left = {}, amount
        for lot_id in reversed(list(spent)):  # the lot spent last gets its value back first
            give = min(spent[lot_id] - returned.get(lot_id, 0), left)
            if give > 0:
                expected[lot_id] = give
                returned[lot_id] = returned.get(lot_id, 0) + give
                left -= give
        got = {e.lot_id: e.amount for e in result.entries.filter(lot__isnull=False)}
        assert got == expected
        self.returned[transfer_id] = returned
        self.refund_into_lots(result, expected)

    def refund_into_lots(self, reversal: Transfer, amounts: dict[int, int]) -> None:
        now = self.now()
        result = reversal
        for lot_id, amount in amounts.items():
            lot = self.lots[lot_id]
            if lot.deleted:
                continue
            if lot.expired(now):
                follow_up = Transfer.objects.get(unique_key=f"expire:{lot_id}:after:{result.pk}")
                lot.expired_unreversed.append(follow_up.pk)
                continue
            lot.remaining += amount

    @rule()
    def expire(self) -> None:
        booked = ledger.expire_lots()
        now = self.now()
        expected = {
            lot.pk
            for lot in self.lots.values()
            if lot.expired(now) and not lot.deleted and lot.remaining > 0
        }
        by_lot = {t.entries.get(lot__isnull=False).lot_id: t for t in booked}
        assert set(by_lot) == expected
        for lot_id, transfer in by_lot.items():
            assert transfer.amount == self.lots[lot_id].remaining
            self.lots[lot_id].remaining = 0
            self.lots[lot_id].expired_unreversed.append(transfer.pk)

    @rule(hours=st.integers(1, 24 * 20))
    def advance_time(self, hours: int) -> None:
        self.time.shift(timedelta(hours=hours))

    @precondition(lambda self: self.lots)
    @rule(data=st.data(), delta=st.integers(-300, 300).filter(bool))
    def adjust(self, data, delta: int) -> None:
        lot = self.lots[data.draw(st.sampled_from(sorted(self.lots)))]
        result = self.attempt(
            lambda: ledger.adjust_lot(lot_id=lot.pk, delta=delta, reason="model", actor="model")
        )
        if lot.deleted:
            assert isinstance(result, NotFoundError)
        elif lot.expired(self.now()) or lot.remaining + delta < 0:
            assert isinstance(result, ValidationError)
        else:
            assert isinstance(result, Transfer), result
            lot.remaining += delta

    @precondition(lambda self: self.lots)
    @rule(data=st.data())
    def void(self, data) -> None:
        lot = self.lots[data.draw(st.sampled_from(sorted(self.lots)))]
        self.attempt(lambda: ledger.void_lot(lot_id=lot.pk, actor="model"))
        lot.deleted, lot.active, lot.remaining = True, False, 0

    @precondition(lambda self: self.lots)
    @rule(data=st.data(), active=st.booleans())
    def set_status(self, data, active: bool) -> None:
        lot = self.lots[data.draw(st.sampled_from(sorted(self.lots)))]
        status = "active" if active else "inactive"
        result = self.attempt(
            lambda: ledger.set_lot_status(lot_id=lot.pk, status=status, actor="model")
        )
        if lot.deleted:
            assert isinstance(result, NotFoundError)
        else:
            lot.active = active

    @precondition(lambda self: self.lots)
    @rule(data=st.data(), days=st.one_of(st.none(), st.integers(-5, 60)))
    def change_expiry(self, data, days: int | None) -> None:
        lot = self.lots[data.draw(st.sampled_from(sorted(self.lots)))]
        expires_at = None if days is None else self.now() + timedelta(days=days)
        result = self.attempt(
            lambda: ledger.change_expiry(lot_id=lot.pk, expires_at=expires_at, actor="model")
        )
        if lot.deleted:
            assert isinstance(result, NotFoundError)
            return
        lot.expires_at = expires_at
        if not lot.expired(self.now()):
            for expiry_id in lot.expired_unreversed:
                lot.remaining += Transfer.objects.get(pk=expiry_id).amount
            lot.expired_unreversed = []

    @rule(amount=st.integers(1, 800), hours=st.integers(1, 24 * 10))
    def place_hold(self, amount: int, hours: int) -> None:
        now = self.now()
        usable = sorted((lot for lot in self.lots.values() if lot.usable(now)), key=ModelLot.order)
        result = self.attempt(
            lambda: holds.place_hold(
                account_id=self.account.pk,
                unit=self.unit,
                amount=amount,
                expires_at=now + timedelta(hours=hours),
                actor="model",
            )
        )
        if sum(lot.remaining for lot in usable) < amount:
            assert isinstance(result, InsufficientBalanceError)
            return
        assert isinstance(result, Hold), result
        expected, left = {}, amount
        for lot in usable:
            take = min(lot.remaining, left)
            if take:
                expected[lot.pk] = take
                lot.remaining -= take
                left -= take
        assert {p.lot_id: p.amount for p in result.parts.all()} == expected
        ends = [now + timedelta(hours=hours)] + [
            self.lots[pk].expires_at for pk in expected if self.lots[pk].expires_at
        ]
        assert result.expires_at == min(ends)
        self.holds[result.pk] = ModelHold(expected, min(ends))

    def ran_out(self, hold: ModelHold) -> bool:
        now = self.now()
        return hold.expires_at <= now or any(self.lots[pk].expired(now) for pk in hold.parts)

    def give_back(self, hold: ModelHold, hold_id: int) -> None:
        now = self.now()
        for lot_id, amount in hold.parts.items():
            lot = self.lots[lot_id]
            if lot.deleted:
                continue
            if lot.expired(now):
                follow_up = Transfer.objects.get(
                    unique_key=f"expire:{lot_id}:after-release:{hold_id}"
                )
                lot.expired_unreversed.append(follow_up.pk)
                continue
            lot.remaining += amount
        hold.pending = False

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def capture(self, data) -> None:
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        hold = self.holds[hold_id]
        result = self.attempt(lambda: holds.capture_hold(hold_id=hold_id, actor="model"))
        if not hold.pending or self.ran_out(hold):
            assert isinstance(result, HoldNotPendingError), result
            return
        assert isinstance(result, Transfer) and result.kind == "redeem", result
        spent = {e.lot_id: -e.amount for e in result.entries.filter(lot__isnull=False)}
        assert spent == hold.parts
        hold.pending = False
        self.redeems[result.pk] = dict(hold.parts)

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def release(self, data) -> None:
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        hold = self.holds[hold_id]
        result = self.attempt(lambda: holds.release_hold(hold_id=hold_id, actor="model"))
        if not hold.pending:
            assert isinstance(result, HoldNotPendingError), result
            return
        assert isinstance(result, Transfer) and result.kind == "release", result
        self.give_back(hold, hold_id)

    @rule()
    def expire_holds(self) -> None:
        due = holds.due_holds()
        expected = {pk for pk, hold in self.holds.items() if hold.pending and self.ran_out(hold)}
        assert set(due) == expected
        for hold_id in due:
            result = self.attempt(
                lambda hold_id=hold_id: holds.release_hold(
                    hold_id=hold_id, actor="model", expired=True
                )
            )
            assert isinstance(result, Transfer), result
            self.give_back(self.holds[hold_id], hold_id)

    @invariant()
    def ledger_matches_the_model(self) -> None:
        if not hasattr(self, "account"):
            return
        assert [p for check in CHECKS for p in check()] == []
        held = dict(Lot.objects.filter(account=self.account).values_list("pk", "remaining"))
        assert held == {pk: lot.remaining for pk, lot in self.lots.items()}
        now = self.now()
        usable = sum(lot.remaining for lot in self.lots.values() if lot.usable(now))
        assert available_balance(account_id=self.account.pk, unit_id=self.unit.pk) == usable
        reserved = sum(sum(h.parts.values()) for h in self.holds.values() if h.pending)
        assert held_by_unit(account_id=self.account.pk).get(self.unit.pk, 0) == reserved
        pending = {pk for pk, h in self.holds.items() if h.pending}
        assert set(Hold.objects.filter(status="pending").values_list("pk", flat=True)) == pending


@pytest.mark.django_db
def test_ledger_state_machine():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
