"""REST endpoints of approvals (SPEC §7): an account's approval rules, the holds awaiting an
owner's decision, and approving or declining them."""

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from tuition.accounts.access import account_for, visible_accounts
from tuition.api.access import Caller, parse_id
from tuition.api.base import (
    IDEMPOTENCY_HEADER,
    REPLAYED,
    RETRY_AFTER,
    ApiView,
    IdOut,
    MoneyOut,
    PageQuery,
    errors,
    page_of,
)
from tuition.api.fields import AmountField, IdField, StrictCharField, StrictSerializer
from tuition.api.idempotency import answer_with, idempotent
from tuition.api.models import SCOPE_CREDITS_READ, SCOPE_CREDITS_WRITE
from tuition.core.amounts import parse_amount
from tuition.core.errors import NotFoundError, ValidationError
from tuition.ledger.models import Hold, Unit

from . import approvals
from .approval_models import MAX_HOLD_HOURS, MIN_HOLD_HOURS, ApprovalPolicy
from .models import ItemKind, Order

# Rules


class ThresholdIn(StrictSerializer):
    unit = StrictCharField(max_length=16)
    amount = AmountField(help_text="Redemptions charging more than this need approval.")


class ItemIn(StrictSerializer):
    activity = IdField(required=False)
    group = IdField(required=False)


class RulesIn(StrictSerializer):
    above = ThresholdIn(many=True, required=False, default=list)
    items = ItemIn(many=True, required=False, default=list)
    hold_hours = serializers.IntegerField(min_value=MIN_HOLD_HOURS, max_value=MAX_HOLD_HOURS)


RulesOut = inline_serializer(
    "ApprovalRules",
    {
        "account": serializers.CharField(),
        "above": inline_serializer(
            "ApprovalThreshold",
            {"unit": serializers.CharField(), "amount": serializers.CharField()},
            many=True,
        ),
        "items": inline_serializer(
            "ApprovalItem",
            {
                "activity": serializers.CharField(allow_null=True),
                "group": serializers.CharField(allow_null=True),
            },
            many=True,
        ),
        "hold_hours": serializers.IntegerField(),
    },
)


def rules_dict(account_id: int, policy: ApprovalPolicy | None) -> dict[str, Any]:
    above = policy.above if policy else {}
    units = {u.code: u for u in Unit.objects.filter(code__in=list(above))}
    items = []
    for key in policy.items if policy else []:
        kind, _sep, raw = key.partition(":")
        items.append(
            {
                "activity": raw if kind == "activity" else None,
                "group": raw if kind == "group" else None,
            }
        )
    return {
        "account": str(account_id),
        "above": [
            {"unit": code, "amount": units[code].format(amount)}
            for code, amount in above.items()
            if code in units
        ],
        "items": items,
        "hold_hours": policy.hold_hours if policy else 72,
    }


class ApprovalRulesView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ, "PUT": SCOPE_CREDITS_WRITE}

    @extend_schema(
        operation_id="accounts_approval_rules_retrieve", responses={200: RulesOut, **errors(404)}
    )
    def get(self, request, account_id):  # type: ignore[no-untyped-def]
        account = account_for(self.caller(), account_id)
        return Response(rules_dict(account.pk, approvals.rules_for(account.pk)))

    @extend_schema(
        operation_id="accounts_approval_rules_update",
        request=RulesIn,
        responses={
            200: RulesOut,
            **errors(404, notes={400: "Also: an unknown unit or item, a time limit out of range."}),
        },
    )
    def put(self, request, account_id):  # type: ignore[no-untyped-def]
        who = self.caller()
        account = account_for(who, account_id)
        data = RulesIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        above: dict[str, int] = {}
        for row in values["above"]:
            unit = Unit.objects.filter(code__iexact=row["unit"]).first()
            if unit is None:
                raise ValidationError("No such unit.", details={"field": "above.unit"})
            above[unit.code] = parse_amount(
                row["amount"], decimals=unit.decimals, field="above.amount", allow_zero=True
            )
        items = []
        for row in values["items"]:
            if ("activity" in row) == ("group" in row):
                raise ValidationError(
                    "Give each item as one activity or one group.", details={"field": "items"}
                )
            kind = ItemKind.ACTIVITY if "activity" in row else ItemKind.GROUP
            items.append(approvals.item_key(kind, int(row[kind])))
        policy = approvals.set_rules(
            account_id=account.pk,
            above=above,
            items=items,
            hold_hours=values["hold_hours"],
            actor=who.actor,
        )
        return Response(rules_dict(account.pk, policy))


# Holds


class HoldOut(serializers.Serializer):
    id = IdOut(source="hold_id")
    status = serializers.ChoiceField(choices=Hold.Status.values, source="hold.status")
    account = IdOut(source="account_id")
    order = IdOut(source="pk")
    order_number = serializers.CharField(source="number")
    learner = serializers.EmailField(source="learner.email")
    item_kind = serializers.CharField()
    activity = IdOut(source="activity_id", allow_null=True)
    group = IdOut(source="group_id", allow_null=True)
    session = IdOut(source="session_id", allow_null=True)
    title = serializers.CharField()
    amount = MoneyOut(source="hold.amount", unit_attr="hold.unit")
    requested_at = serializers.DateTimeField(source="hold.created_at")
    expires_at = serializers.DateTimeField(source="hold.expires_at")
    ended_at = serializers.DateTimeField(source="hold.ended_at", allow_null=True)


class HoldQuery(PageQuery):
    account = IdField(required=False, help_text="Only this account's holds.")
    status = serializers.ChoiceField(
        choices=Hold.Status.values, required=False, help_text="Only holds in this state."
    )


def _holds(who: Caller):  # type: ignore[no-untyped-def]
    if who.is_provider:
        return approvals.holds_of()
    return approvals.holds_of(account_ids=list(visible_accounts(who).values_list("pk", flat=True)))


class HoldListView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}
    queries = {"GET": HoldQuery}

    @extend_schema(
        operation_id="holds_list", responses={200: page_of(HoldOut, "HoldPage"), **errors(404)}
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        who = self.caller()
        holds = _holds(who)
        if (account := self.query.get("account")) is not None:
            holds = holds.filter(account=account_for(who, account))
        if (wanted := self.query.get("status")) is not None:
            holds = holds.filter(hold__status=wanted)
        return self.paginated(holds, HoldOut)


AwaitingOut = inline_serializer(
    "AwaitingApproval",
    {
        "order": serializers.DictField(help_text="The order, status `awaiting_approval`."),
        "hold": HoldOut(),
        "registration": serializers.DictField(allow_null=True, help_text="Null until approved."),
        "booking": serializers.DictField(allow_null=True),
        "receipt": serializers.DictField(allow_null=True),
        "invoice": serializers.DictField(allow_null=True),
    },
)


class DecideIn(StrictSerializer):
    """No fields: send `{}` (or nothing)."""


def _read_empty(request: Any) -> None:
    data = DecideIn(data=request.data or {})
    data.is_valid(raise_exception=True)


DECIDE_ERRORS = errors(
    404,
    409,
    422,
    503,
    notes={
        409: "`hold_not_pending`: decided before or expired; approving: `already_registered`, "
        "`session_started`.",
        422: "`idempotency_key_reused`.",
    },
)


def _decided(hold_id: int) -> Order:
    return approvals.holds_of().get(hold_id=hold_id)


class HoldApproveView(ApiView):
    scopes = {"POST": SCOPE_CREDITS_WRITE}

    @extend_schema(
        operation_id="holds_approve",
        request=DecideIn,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED, RETRY_AFTER],
        responses={200: HoldOut, **DECIDE_ERRORS},
    )
    @idempotent
    def post(self, request, hold_id):  # type: ignore[no-untyped-def]
        _read_empty(request)
        who = self.caller()
        order = _visible_hold(who, hold_id)
        answer_with(request, lambda _: Response(HoldOut(_decided(order.hold_id)).data))
        approvals.approve(hold_id=order.hold_id, actor=who.actor)


class HoldDeclineView(ApiView):
    scopes = {"POST": SCOPE_CREDITS_WRITE}

    @extend_schema(
        operation_id="holds_decline",
        request=DecideIn,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED, RETRY_AFTER],
        responses={200: HoldOut, **DECIDE_ERRORS},
    )
    @idempotent
    def post(self, request, hold_id):  # type: ignore[no-untyped-def]
        _read_empty(request)
        who = self.caller()
        order = _visible_hold(who, hold_id)
        answer_with(request, lambda _: Response(HoldOut(_decided(order.hold_id)).data))
        approvals.decline(hold_id=order.hold_id, actor=who.actor)


def _visible_hold(who: Caller, hold_id: Any) -> Order:
    """The order of a hold the caller manages, or `not_found`."""
    pk = parse_id(hold_id)
    order = _holds(who).filter(hold_id=pk).first() if pk else None
    if order is None:
        raise NotFoundError("No such hold.")
    return order
