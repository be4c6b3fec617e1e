"""Automatic refills: owners set them; the periodic job and the worker fire them.

Each firing is one durable transaction that locks the rule's row, decides (threshold: the
guarded `armed` flip; allowance: no firing for this month yet), writes the firing with its key
(unique per rule) and buys through `purchase_refill` exactly as an owner's manual refill does:
the order, its invoice (and receipt when paid), the lot when paid, `refill.purchased`, plus
`refill.automatic`. A crash anywhere before the commit leaves nothing, so the next run fires
once; after the commit the key and the flag stop any second firing. The evaluation never runs
inside a checkout's wallet lock: it runs after the value has left (see `tasks.py`).

See docs/decisions/0017-automatic-refills.md.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from tuition.accounts.models import Membership, TrainingAccount, User
from tuition.checkout.errors import PaymentDeclinedError
from tuition.checkout.models import Order
from tuition.checkout.refills import purchase_refill, refill_price
from tuition.core import clock
from tuition.core.actors import Actor
from tuition.core.amounts import MAX_MINOR, amount_error
from tuition.core.errors import NotFoundError, ValidationError
from tuition.core.faults import fault_point
from tuition.core.times import zone_named
from tuition.core.transactions import use_case
from tuition.ledger.models import Unit
from tuition.ledger.selectors import available_balance
from tuition.notifications import events

from .cards import card_for_charge, store_card
from .models import RefillFiring, RefillRule

JOB_ACTOR = Actor.for_job("automatic_refills")


# Setting rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleInput:
    """What an owner sets for one unit. Amounts in the unit's minor units."""

    kind: str
    amount: int
    provider: str
    threshold: int | None = None
    # A new card to store (its token); None keeps the stored card of a card rule.
    card_number: str | None = None


def _check_input(rule: RuleInput, unit: Unit) -> None:
    if rule.kind not in RefillRule.Kind.values:
        raise ValidationError(
            f"kind must be one of: {', '.join(RefillRule.Kind.values)}.", details={"field": "kind"}
        )
    if rule.provider not in RefillRule.Provider.values:
        raise ValidationError("method must be card or invoice.", details={"field": "method"})
    if not (isinstance(rule.amount, int) and 0 < rule.amount <= MAX_MINOR):
        raise amount_error("amount", "not_positive")
    if rule.kind == RefillRule.Kind.THRESHOLD:
        if not (isinstance(rule.threshold, int) and 0 < rule.threshold <= MAX_MINOR):
            raise amount_error("threshold", "not_positive")
    elif rule.threshold is not None:
        raise ValidationError(
            "A monthly allowance has no threshold.", details={"field": "threshold"}
        )
    refill_price(unit, rule.amount)  # NotPricedInUnitError for a token type nobody sells


@use_case
def set_rule(
    *, account_id: int, unit: Unit, rule: RuleInput, buyer: User | None, actor: Actor
) -> RefillRule:
    """Set (create or replace) the automatic refill of an account in one unit. Setting the same
    rule again changes nothing but the time it was last set; the pause state and the firing
    history stay.

    Raises:
        ValidationError: a bad kind, method, amount or threshold; a card rule without a card.
        NotFoundError: no such account.
        NotPricedInUnitError: the token type has no refill price.
    """
    _check_input(rule, unit)
    card = store_card(rule.card_number) if rule.card_number else None
    if not TrainingAccount.objects.filter(pk=account_id).exists():
        raise NotFoundError("No such account.")
    at = clock.now()
    current = (
        RefillRule.objects.select_for_update()
        .filter(account_id=account_id, unit=unit, deleted_at__isnull=True)
        .first()
    )
    if current is None:
        current = RefillRule(account_id=account_id, unit=unit, created_at=at, armed=True)
    if rule.provider == RefillRule.Provider.CARD and card is None and not current.card_reference:
        raise ValidationError(
            "Enter a card number to pay automatic refills by card.",
            details={"field": "card_number"},
        )
    current.kind = rule.kind
    current.amount = rule.amount
    current.threshold = rule.threshold
    current.provider = rule.provider
    if card is not None:
        current.card_reference, current.card_last4 = card.reference, card.last4
    if rule.provider == RefillRule.Provider.INVOICE:
        current.card_reference, current.card_last4 = "", ""
    current.buyer = buyer
    current.updated_at = at
    current.actor = actor[:200]
    current.save()
    return current


def _rule_for_update(rule_id: int, account_id: int | None = None) -> RefillRule:
    rules = RefillRule.objects.select_for_update().filter(pk=rule_id, deleted_at__isnull=True)
    if account_id is not None:
        rules = rules.filter(account_id=account_id)
    rule = rules.first()
    if rule is None:
        raise NotFoundError("No such automatic refill.")
    return rule


@use_case
def pause_rule(*, rule_id: int, actor: Actor, account_id: int | None = None) -> RefillRule:
    """Pause an automatic refill: a paused rule never fires. Pausing twice is a no-op.

    Raises:
        NotFoundError: no such rule (in that account).
    """
    rule = _rule_for_update(rule_id, account_id)
    if not rule.is_paused:
        rule.pause_reason, rule.paused_at = RefillRule.PauseReason.OWNER, clock.now()
        rule.updated_at, rule.actor = rule.paused_at, actor[:200]
        rule.save(update_fields=["pause_reason", "paused_at", "updated_at", "actor"])
    return rule


@use_case
def resume_rule(*, rule_id: int, actor: Actor, account_id: int | None = None) -> RefillRule:
    """Resume a paused automatic refill (also one the card provider paused). A threshold rule
    fires at the next check if the balance is still below it. Resuming twice is a no-op.

    Raises:
        NotFoundError: no such rule (in that account).
    """
    rule = _rule_for_update(rule_id, account_id)
    if rule.is_paused:
        rule.pause_reason, rule.paused_at = RefillRule.PauseReason.NONE, None
        rule.updated_at, rule.actor = clock.now(), actor[:200]
        rule.save(update_fields=["pause_reason", "paused_at", "updated_at", "actor"])
    return rule


@use_case
def delete_rule(*, rule_id: int, actor: Actor, account_id: int | None = None) -> None:
    """Stop an automatic refill for good. Its firings stay on record (orders point at them).

    Raises:
        NotFoundError: no such rule (in that account), or already deleted.
    """
    rule = _rule_for_update(rule_id, account_id)
    rule.deleted_at = rule.updated_at = clock.now()
    rule.actor = actor[:200]
    rule.save(update_fields=["deleted_at", "updated_at", "actor"])


# Firing ----------------------------------------------------------------------------------------


def month_key(at: datetime) -> str:
    """The allowance period of a moment: its month in the provider's time zone ("2026-12")."""
    return at.astimezone(zone_named(settings.TIME_ZONE)).strftime("%Y-%m")


def month_start(at: datetime) -> datetime:
    """Midnight on the first of the month of `at`, in the provider's time zone."""
    local = at.astimezone(zone_named(settings.TIME_ZONE))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(at: datetime) -> datetime:
    start = month_start(at)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(year=year, month=month)


def allowance_due(rule: RefillRule, at: datetime) -> bool:
    """An allowance is due for the month of `at` when it was set by the first of that month
    (a rule set on the 15th first buys on the next first)."""
    return month_start(at) >= rule.created_at


def _buyer_email(rule: RefillRule) -> str:
    if rule.buyer_id is not None and rule.buyer is not None:
        return rule.buyer.email
    owner = (
        Membership.objects.filter(account_id=rule.account_id, role=Membership.Role.OWNER)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if owner is None:
        raise ValidationError("The account has no owner to buy for it.")
    return owner.user.email


def _buy(
    rule: RefillRule, *, key: str, at: datetime, actor: Actor, balance_before: int | None
) -> RefillFiring:
    """Inside the firing's transaction: the firing (its unique key first), then the refill."""
    firing = RefillFiring.objects.create(
        rule=rule,
        account_id=rule.account_id,
        unit_id=rule.unit_id,
        key=key,
        outcome=RefillFiring.Outcome.INVOICED,
        amount=rule.amount,
        balance_before=balance_before,
        fired_at=at,
        actor=actor[:200],
    )
    fault_point("automatic_refill_before_purchase")
    order = purchase_refill.joining(
        account_id=rule.account_id,
        unit=rule.unit,
        amount=rule.amount,
        buyer_email=_buyer_email(rule),
        actor=actor,
        provider=rule.provider,
        card_number=card_for_charge(rule.card_reference) if rule.card_reference else None,
        emailed=False,  # `refill.automatic` below is the owners' one email about it
    )
    firing.order = order
    if order.status == Order.Status.PAID:
        firing.outcome = RefillFiring.Outcome.PAID
    firing.save(update_fields=["order", "outcome"])
    events.record(
        events.REFILL_AUTOMATIC,
        account_id=rule.account_id,
        data=_event_data(rule, order=order, firing=firing),
        dedupe_key=f"{events.REFILL_AUTOMATIC}:{rule.pk}:{key}",
    )
    fault_point("automatic_refill_before_commit")
    return firing


def _event_data(rule: RefillRule, **more: Any) -> dict[str, Any]:
    unit = rule.unit
    data: dict[str, Any] = {
        "rule_id": str(rule.pk),
        "trigger": rule.kind,
        "account_name": rule.account.name,
        "unit": unit.code,
        "amount": unit.format(rule.amount),
        "method": "card" if rule.provider == RefillRule.Provider.CARD else "invoice",
    }
    if rule.threshold is not None:
        data["threshold"] = unit.format(rule.threshold)
    order: Order | None = more.get("order")
    if order is not None:
        data["order_number"] = order.number
        data["price"] = order.unit.format(order.charged)
        data["status"] = more["firing"].outcome
        data["period"] = more["firing"].key.split(":", 1)[1]
    return data


@dataclass(frozen=True)
class Fired:
    rule_id: int
    outcome: str  # paid, invoiced, declined
    key: str | None


@use_case
def _fire_threshold(*, rule_id: int, at: datetime, actor: Actor) -> Fired | None:
    rule = (
        # Only the rule's row: locking the joined account and unit would hold every
        # checkout's foreign-key check on them at commit, while this waits for their wallet.
        RefillRule.objects.select_for_update(of=("self",))
        .select_related("unit", "account")
        .filter(pk=rule_id, deleted_at__isnull=True, kind=RefillRule.Kind.THRESHOLD)
        .first()
    )
    if rule is None or rule.threshold is None:
        return None
    # Read under the rule's lock: a stale reading from before another worker's refill cannot
    # re-arm the rule or fire it a second time.
    available = available_balance(account_id=rule.account_id, unit_id=rule.unit_id, at=at)
    if available >= rule.threshold:
        RefillRule.objects.filter(pk=rule.pk, armed=False).update(armed=True)
        return None
    if rule.is_paused:
        return None
    # The guarded update is the decision: of any number of workers, one flips the flag.
    flipped = RefillRule.objects.filter(pk=rule.pk, armed=True, pause_reason="").update(
        armed=False, firings=F("firings") + 1
    )
    if not flipped:
        return None
    number = RefillRule.objects.values_list("firings", flat=True).get(pk=rule.pk)
    firing = _buy(rule, key=f"threshold:{number}", at=at, actor=actor, balance_before=available)
    return Fired(rule.pk, firing.outcome, firing.key)


@use_case
def _fire_allowance(*, rule_id: int, at: datetime, actor: Actor) -> Fired | None:
    rule = (
        # Only the rule's row: locking the joined account and unit would hold every
        # checkout's foreign-key check on them at commit, while this waits for their wallet.
        RefillRule.objects.select_for_update(of=("self",))
        .select_related("unit", "account")
        .filter(pk=rule_id, deleted_at__isnull=True, kind=RefillRule.Kind.ALLOWANCE)
        .first()
    )
    if rule is None or rule.is_paused or not allowance_due(rule, at):
        return None
    key = f"allowance:{month_key(at)}"
    if RefillFiring.objects.filter(rule=rule, key=key).exists():
        return None
    firing = _buy(rule, key=key, at=at, actor=actor, balance_before=None)
    return Fired(rule.pk, firing.outcome, firing.key)


@use_case
def _pause_after_decline(*, rule_id: int, at: datetime, actor: Actor, message: str) -> bool:
    """The card was declined: pause the rule (once), keep the attempt, tell the owners."""
    paused = RefillRule.objects.filter(pk=rule_id, pause_reason="", deleted_at__isnull=True).update(
        pause_reason=RefillRule.PauseReason.CARD_DECLINED, paused_at=at, updated_at=at
    )
    if not paused:
        return False
    rule = RefillRule.objects.select_related("unit", "account").get(pk=rule_id)
    RefillFiring.objects.create(
        rule=rule,
        account_id=rule.account_id,
        unit_id=rule.unit_id,
        key=None,
        outcome=RefillFiring.Outcome.DECLINED,
        amount=rule.amount,
        fired_at=at,
        actor=actor[:200],
    )
    events.record(
        events.REFILL_AUTOMATIC_PAUSED,
        account_id=rule.account_id,
        data={**_event_data(rule), "reason": "card_declined", "message": message},
        dedupe_key=f"{events.REFILL_AUTOMATIC_PAUSED}:{rule.pk}:{at.isoformat()}",
    )
    return True


def _on_its_own(use_case: Any, **kwargs: Any) -> Any:
    """Run a firing's use case in its own transaction; inside a caller's (the demo's, a
    shell's) as a savepoint of it, so a refusal undoes this firing only."""
    if connection.in_atomic_block:
        with transaction.atomic():
            return use_case.joining(**kwargs)
    return use_case(**kwargs)


def fire_rule(
    *, rule_id: int, actor: Actor = JOB_ACTOR, at: datetime | None = None
) -> Fired | None:
    """Check one rule and buy if its trigger is met and it has not bought for this trigger or
    period yet. A declined card pauses the rule and tells the owners. Returns what happened,
    or None when nothing was due.

    Raises:
        ServiceBusyError: the database stayed busy.
    """
    at = at or clock.now()
    kind = RefillRule.objects.filter(pk=rule_id).values_list("kind", flat=True).first()
    fire = _fire_threshold if kind == RefillRule.Kind.THRESHOLD else _fire_allowance
    try:
        return _on_its_own(fire, rule_id=rule_id, at=at, actor=actor)
    except PaymentDeclinedError as declined:
        _on_its_own(
            _pause_after_decline, rule_id=rule_id, at=at, actor=actor, message=str(declined.message)
        )
        return Fired(rule_id, RefillFiring.Outcome.DECLINED, None)
    except IntegrityError:
        # Another worker wrote this key between our check and our insert: it fired, we don't.
        return None


def run_automatic_refills(
    *, actor: Actor = JOB_ACTOR, at: datetime | None = None, account_ids: list[int] | None = None
) -> int:
    """Check every active rule (or those of some accounts, after value left them) and fire
    what is due. Idempotent: running it twice, or on several workers at once, buys nothing
    twice. Returns the refills bought.

    Raises:
        ServiceBusyError: the database stayed busy.
    """
    # Paused threshold rules are checked too: they re-arm when the balance is back up.
    rules = RefillRule.objects.filter(deleted_at__isnull=True)
    if account_ids is not None:
        rules = rules.filter(account_id__in=account_ids)
    bought = 0
    for rule_id in rules.order_by("pk").values_list("pk", flat=True):
        fired = fire_rule(rule_id=rule_id, actor=actor, at=at)
        if fired is not None and fired.outcome != RefillFiring.Outcome.DECLINED:
            bought += 1
    return bought
