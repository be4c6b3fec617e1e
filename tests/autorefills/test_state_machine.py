"""The ledger state machine with an automatic threshold refill on the account: at random
issue, debit, reverse, expire, adjust, void, move time, set, pause and resume the rule, and run
the job (sometimes twice). After every step the ledger invariants hold, the ledger matches the
model, and the rule has bought exactly once per drop below its threshold while active."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule, run_state_machine_as_test

from tests.factories import MembershipFactory, UserFactory
from tests.ledger.test_state_machine import LedgerMachine, ModelLot
from tuition.accounts.models import Membership
from tuition.autorefills import services as autorefills
from tuition.autorefills.models import RefillFiring
from tuition.checkout.payments import SUCCESS_CARD
from tuition.ledger.models import Lot


class RefillMachine(LedgerMachine):
    rule_id: int | None = None

    @initialize()
    def open_account(self) -> None:
        super().open_account()
        self.owner = UserFactory(email="owner@model.test")
        MembershipFactory(account=self.account, user=self.owner, role=Membership.Role.OWNER)
        self.threshold = 0
        self.armed = True
        self.paused = False
        self.bought = 0

    def usable(self) -> int:
        now = self.now()
        return sum(lot.remaining for lot in self.lots.values() if lot.usable(now))

    @rule(threshold=st.integers(1, 600), amount=st.integers(1, 400))
    def set_rule(self, threshold: int, amount: int) -> None:
        rule = autorefills.set_rule(
            account_id=self.account.pk,
            unit=self.unit,
            rule=autorefills.RuleInput(
                kind="threshold",
                threshold=threshold,
                amount=amount,
                provider="sandbox",
                card_number=SUCCESS_CARD,
            ),
            buyer=self.owner,
            actor="model",
        )
        self.rule_id, self.threshold, self.amount = rule.pk, threshold, amount

    @precondition(lambda self: self.rule_id is not None)
    @rule(pause=st.booleans())
    def pause_or_resume(self, pause: bool) -> None:
        change = autorefills.pause_rule if pause else autorefills.resume_rule
        change(rule_id=self.rule_id, actor="model")
        self.paused = pause

    @precondition(lambda self: self.rule_id is not None)
    @rule(times=st.integers(1, 2))
    def run_job(self, times: int) -> None:
        bought = sum(autorefills.run_automatic_refills() for _ in range(times))
        available = self.usable()
        expected = 0
        if available >= self.threshold:
            self.armed = True
        elif self.armed and not self.paused:
            self.armed, expected = False, 1
        assert bought == expected, (bought, available, self.threshold)
        if expected:
            self.bought += 1
            firing = RefillFiring.objects.order_by("-pk").first()
            lot = Lot.objects.get(pk=firing.order.refill_lot_id)
            assert lot.redeemable_value == self.amount
            self.lots[lot.pk] = ModelLot(lot.pk, lot.remaining, lot.expires_at)
            if self.usable() >= self.threshold and times == 2:
                self.armed = True  # the second run saw the refill and re-armed the rule

    @rule(hours=st.integers(1, 24 * 20))
    def advance_time(self, hours: int) -> None:
        self.time.shift(timedelta(hours=hours))

    @invariant()
    def one_refill_per_drop(self) -> None:
        if not hasattr(self, "account"):
            return
        firings = RefillFiring.objects.filter(account=self.account)
        assert firings.count() == self.bought
        keys = list(firings.values_list("key", flat=True))
        assert len(keys) == len(set(keys))


@pytest.mark.django_db
def test_refill_state_machine():
    run_state_machine_as_test(
        RefillMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
