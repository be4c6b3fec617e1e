"""Reading automatic refills: an account's rules with their last firing and what comes next."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from tuition.core import clock

from .models import RefillFiring, RefillRule
from .services import allowance_due, month_key, month_start, next_month_start


@dataclass(frozen=True)
class RuleSummary:
    rule: RefillRule
    last_firing: RefillFiring | None
    # Allowances: when the next refill is due (None: due now, at the next run of the job).
    # Threshold rules: None, they wait for the balance to fall below the threshold.
    next_at: datetime | None
    due_now: bool


def rules_of(account_id: int) -> QuerySet[RefillRule]:
    return (
        RefillRule.objects.filter(account_id=account_id, deleted_at__isnull=True)
        .select_related("unit", "account")
        .order_by("-unit__is_builtin", "unit__code")
    )


def firings_of(*, account_id: int | None = None, rule_id: int | None = None):
    firings = RefillFiring.objects.select_related("unit", "order", "rule")
    if account_id is not None:
        firings = firings.filter(account_id=account_id)
    if rule_id is not None:
        firings = firings.filter(rule_id=rule_id)
    return firings.order_by("-fired_at", "-pk")


def summarize(rule: RefillRule, *, at: datetime | None = None) -> RuleSummary:
    at = at or clock.now()
    last = firings_of(rule_id=rule.pk).first()
    if rule.kind == RefillRule.Kind.THRESHOLD:
        return RuleSummary(rule, last, None, False)
    fired_this_month = RefillFiring.objects.filter(
        rule=rule, key=f"allowance:{month_key(at)}"
    ).exists()
    if not fired_this_month and allowance_due(rule, at):
        return RuleSummary(rule, last, None, True)
    return RuleSummary(rule, last, next_month_start(at), False)


def summaries(account_id: int, *, at: datetime | None = None) -> list[RuleSummary]:
    return [summarize(rule, at=at) for rule in rules_of(account_id)]


__all__ = ["RuleSummary", "firings_of", "month_start", "rules_of", "summaries", "summarize"]
