"""REST endpoints of automatic refills: one rule per account and unit, addressed by the unit's
code. PUT sets the whole rule (the same PUT twice leaves the same rule), DELETE stops it, pause
and resume are no-ops when already so; none of them moves value, the job does."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from tuition.accounts.access import account_for
from tuition.accounts.models import User
from tuition.api.base import ApiView, IdOut, MoneyOut, PageQuery, errors, page_of
from tuition.api.fields import AmountField, StrictCharField, StrictEmailField, StrictSerializer
from tuition.api.models import SCOPE_CHECKOUT, SCOPE_CREDITS_READ
from tuition.checkout.learners import learner_for
from tuition.core.amounts import parse_amount
from tuition.core.errors import NotFoundError
from tuition.ledger.models import Unit

from . import selectors, services
from .models import RefillFiring, RefillRule


class FiringOut(serializers.Serializer):
    id = IdOut(source="pk")
    key = serializers.CharField(
        allow_null=True,
        help_text='"threshold:<n>" (the n-th crossing) or "allowance:<YYYY-MM>"; null for a '
        "declined card attempt, which bought nothing.",
    )
    outcome = serializers.ChoiceField(choices=RefillFiring.Outcome.values)
    amount = MoneyOut()
    order_id = IdOut()
    order_number = serializers.SerializerMethodField()
    fired_at = serializers.DateTimeField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_order_number(self, firing: RefillFiring) -> str | None:
        return firing.order.number if firing.order is not None else None


class RuleOut(serializers.Serializer):
    id = IdOut(source="rule.pk")
    account_id = IdOut(source="rule.account_id")
    unit = serializers.CharField(source="rule.unit.code")
    kind = serializers.ChoiceField(choices=RefillRule.Kind.values, source="rule.kind")
    threshold = MoneyOut(source="rule.threshold", unit_attr="rule.unit", allow_null=True)
    amount = MoneyOut(source="rule.amount", unit_attr="rule.unit")
    provider = serializers.ChoiceField(choices=RefillRule.Provider.values, source="rule.provider")
    card_last4 = serializers.CharField(source="rule.card_last4", help_text="Empty for invoice.")
    status = serializers.SerializerMethodField()
    pause_reason = serializers.ChoiceField(
        choices=RefillRule.PauseReason.values, source="rule.pause_reason"
    )
    last_firing = FiringOut(allow_null=True)
    next_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Allowances: when the next refill is due; null when it is due now, and for "
        "threshold rules (they buy when the balance falls below the threshold).",
    )
    due_now = serializers.BooleanField()
    updated_at = serializers.DateTimeField(source="rule.updated_at")

    @extend_schema_field(serializers.ChoiceField(choices=["active", "paused"]))
    def get_status(self, summary: selectors.RuleSummary) -> str:
        return "paused" if summary.rule.is_paused else "active"


class RuleIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=RefillRule.Kind.values)
    threshold = AmountField(
        required=False, allow_null=True, help_text="Threshold rules: buy when below this."
    )
    amount = AmountField(help_text="What each refill buys, in the unit's precision.")
    provider = serializers.ChoiceField(choices=RefillRule.Provider.values)
    card_number = StrictCharField(
        max_length=32,
        required=False,
        allow_null=True,
        help_text="Sandbox card to store as the provider's token (only its last four digits "
        "are kept). Omit to keep the stored card.",
    )
    buyer_email = StrictEmailField(required=False, help_text="For API keys: who buys.")


def _unit(code: str) -> Unit:
    unit = Unit.objects.filter(code__iexact=code, is_active=True).first()
    if unit is None:
        raise NotFoundError("No such unit.")
    return unit


def _rule(account_id: int, unit: Unit) -> RefillRule:
    rule = selectors.rules_of(account_id).filter(unit=unit).first()
    if rule is None:
        raise NotFoundError("No automatic refill for this unit.")
    return rule


class RuleListView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}
    queries = {"GET": PageQuery}

    @extend_schema(
        operation_id="accounts_automatic_refills_list",
        summary="List an account's automatic refills",
        responses={200: page_of(RuleOut, "AutomaticRefillPage"), **errors(404)},
    )
    def get(self, request, account_id):  # type: ignore[no-untyped-def]
        account = account_for(self.caller(), account_id)
        return self.paginated(selectors.summaries(account.pk), RuleOut)


class RuleDetailView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ, "PUT": SCOPE_CHECKOUT, "DELETE": SCOPE_CHECKOUT}

    @extend_schema(
        operation_id="accounts_automatic_refills_retrieve",
        summary="Get the automatic refill of a unit",
        responses={200: RuleOut, **errors(404)},
    )
    def get(self, request, account_id, unit):  # type: ignore[no-untyped-def]
        account = account_for(self.caller(), account_id)
        return Response(RuleOut(selectors.summarize(_rule(account.pk, _unit(unit)))).data)

    @extend_schema(
        operation_id="accounts_automatic_refills_set",
        summary="Set the automatic refill of a unit (threshold or monthly allowance)",
        request=RuleIn,
        responses={
            200: RuleOut,
            **errors(
                404,
                422,
                503,
                notes={
                    400: "Also: a threshold on an allowance, none on a threshold rule, a card "
                    "rule without a card (none stored), more decimals than the unit has.",
                    422: "`not_priced_in_unit`: nobody sells this token type as a refill.",
                },
            ),
        },
    )
    def put(self, request, account_id, unit):  # type: ignore[no-untyped-def]
        who = self.caller()
        account = account_for(who, account_id)
        refill_unit = _unit(unit)
        data = RuleIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        threshold = values.get("threshold")
        buyer: User | None = who.user
        if buyer is None and values.get("buyer_email"):
            buyer = learner_for(values["buyer_email"])
        rule = services.set_rule(
            account_id=account.pk,
            unit=refill_unit,
            rule=services.RuleInput(
                kind=values["kind"],
                amount=parse_amount(values["amount"], decimals=refill_unit.decimals),
                provider=values["provider"],
                threshold=(
                    parse_amount(threshold, decimals=refill_unit.decimals, field="threshold")
                    if threshold is not None
                    else None
                ),
                card_number=values.get("card_number") or None,
            ),
            buyer=buyer,
            actor=who.actor,
        )
        return Response(RuleOut(selectors.summarize(rule)).data)

    @extend_schema(
        operation_id="accounts_automatic_refills_destroy",
        summary="Stop the automatic refill of a unit",
        responses={204: None, **errors(404)},
    )
    def delete(self, request, account_id, unit):  # type: ignore[no-untyped-def]
        who = self.caller()
        account = account_for(who, account_id)
        rule = _rule(account.pk, _unit(unit))
        services.delete_rule(rule_id=rule.pk, account_id=account.pk, actor=who.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _PauseView(ApiView):
    scopes = {"POST": SCOPE_CHECKOUT}
    pause = True

    def post(self, request, account_id, unit):  # type: ignore[no-untyped-def]
        who = self.caller()
        account = account_for(who, account_id)
        rule = _rule(account.pk, _unit(unit))
        change = services.pause_rule if self.pause else services.resume_rule
        rule = change(rule_id=rule.pk, account_id=account.pk, actor=who.actor)
        return Response(RuleOut(selectors.summarize(rule)).data)


class RulePauseView(_PauseView):
    @extend_schema(
        operation_id="accounts_automatic_refills_pause",
        summary="Pause an automatic refill (a paused one never buys)",
        request=None,
        responses={200: RuleOut, **errors(404)},
    )
    def post(self, request, account_id, unit):  # type: ignore[no-untyped-def]
        return super().post(request, account_id, unit)


class RuleResumeView(_PauseView):
    pause = False

    @extend_schema(
        operation_id="accounts_automatic_refills_resume",
        summary="Resume a paused automatic refill",
        request=None,
        responses={200: RuleOut, **errors(404)},
    )
    def post(self, request, account_id, unit):  # type: ignore[no-untyped-def]
        return super().post(request, account_id, unit)


class FiringListView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}
    queries = {"GET": PageQuery}

    @extend_schema(
        operation_id="accounts_automatic_refills_firings",
        summary="List what an automatic refill bought (and declined attempts)",
        responses={200: page_of(FiringOut, "AutomaticRefillFiringPage"), **errors(404)},
    )
    def get(self, request, account_id, unit):  # type: ignore[no-untyped-def]
        account = account_for(self.caller(), account_id)
        rule = _rule(account.pk, _unit(unit))
        return self.paginated(selectors.firings_of(rule_id=rule.pk), FiringOut)
