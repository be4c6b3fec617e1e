"""REST endpoints of credits (lots with their codes): create, list, edit one, bulk
activate/deactivate/delete, change history."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from tuition.api.access import Caller, account_for, visible_accounts, visible_object
from tuition.api.base import IDEMPOTENCY_HEADER, AmountOut, ApiView, IdOut, errors, page_of
from tuition.api.fields import (
    AmountField,
    AwareDateTimeField,
    IdField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictSerializer,
)
from tuition.api.idempotency import idempotent
from tuition.api.models import SCOPE_CREDITS_READ, SCOPE_CREDITS_WRITE
from tuition.core.amounts import parse_amount
from tuition.core.errors import ValidationError
from tuition.ledger.models import Lot, Unit
from tuition.ledger.selectors import visible_lots

from . import selectors, services


class ScopeIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=Lot.ScopeKind.values)
    all = StrictBooleanField(required=False, default=True)
    items = serializers.ListField(child=IdField(), required=False, default=list, max_length=500)


class CreditIn(StrictSerializer):
    account = IdField(required=False)
    owner_email = StrictEmailField(required=False)
    unit = StrictCharField(max_length=16, required=False, default="USD")
    redeemable_value = AmountField()
    purchase_price = AmountField(required=False, allow_null=True)
    external_id = StrictCharField(max_length=200, required=False, default="", allow_blank=True)
    expires_at = AwareDateTimeField(required=False, allow_null=True)
    scope = ScopeIn(required=False)
    code = StrictCharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    status = serializers.ChoiceField(choices=Lot.Status.values, required=False,
                                     default="active")
    notes = StrictCharField(max_length=5000, required=False, default="", allow_blank=True)


class CreditPatchIn(StrictSerializer):
    status = serializers.ChoiceField(choices=Lot.Status.values, required=False)
    expires_at = AwareDateTimeField(required=False, allow_null=True)
    scope = ScopeIn(required=False)
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True)
    external_id = StrictCharField(max_length=200, required=False, allow_blank=True)
    purchase_price = AmountField(required=False, allow_null=True)


class CreditOut(serializers.Serializer):
    id = IdOut()
    account = IdOut(source="account_id")
    unit = serializers.CharField(source="unit.code")
    code = serializers.SerializerMethodField()
    redeemable_value = AmountOut()
    remaining = AmountOut()
    purchase_price = serializers.SerializerMethodField()
    external_id = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()
    notes = serializers.CharField()
    scope = serializers.SerializerMethodField()
    source = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_code(self, lot: Lot) -> str | None:
        shown = self.context.get("code_text")
        if shown:
            return shown
        code = selectors.code_of_lot(lot.pk)
        return selectors.reveal_code(code) if code and self.context.get("reveal") else (
            code.hint if code else None)

    def get_purchase_price(self, lot: Lot) -> str | None:
        usd_decimals = 2
        return None if lot.purchase_price is None else Unit(decimals=usd_decimals).format(
            lot.purchase_price)

    def get_scope(self, lot: Lot) -> dict[str, Any]:
        return {"kind": lot.scope_kind, "all": lot.scope_all,
                "items": [str(i) for i in sorted(lot.scope_item_ids())]}


def _unit(code: str) -> Unit:
    unit = Unit.objects.filter(code__iexact=code, is_active=True).first()
    if unit is None:
        raise ValidationError("No such unit.", details={"field": "unit"})
    return unit


def _scope(values: dict[str, Any] | None) -> services.ScopeInput | None:
    if values is None:
        return None
    return services.ScopeInput(kind=values["kind"], all=values["all"], items=values["items"])


def _credits(who: Caller):  # type: ignore[no-untyped-def]
    lots = visible_lots().select_related("unit")
    if not who.is_provider:
        lots = lots.filter(account__in=visible_accounts(who).values("pk"))
    return lots.order_by("-created_at", "-id")


def _out(lot: Lot, who: Caller, **context: Any) -> dict[str, Any]:
    return CreditOut(lot, context={"reveal": who.is_provider, **context}).data


class CreditListView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ, "POST": SCOPE_CREDITS_WRITE}
    provider_only = {"POST"}

    @extend_schema(operation_id="credits_list",
                   parameters=[OpenApiParameter("account", str),
                               OpenApiParameter("status", str, enum=Lot.Status.values),
                               OpenApiParameter("unit", str)],
                   responses={200: page_of(CreditOut, "CreditPage"), **errors(404)})
    def get(self, request):  # type: ignore[no-untyped-def]
        lots = _credits(self.caller())
        if (account := request.query_params.get("account")) is not None:
            lots = lots.filter(account=account_for(self.caller(), account))
        if (wanted := request.query_params.get("status")) is not None:
            lots = lots.filter(status=wanted)
        if (unit := request.query_params.get("unit")) is not None:
            lots = lots.filter(unit__code__iexact=unit[:16])
        return self.paginated(lots, CreditOut, reveal=self.caller().is_provider)

    @extend_schema(operation_id="credits_create", request=CreditIn,
                   parameters=[IDEMPOTENCY_HEADER],
                   responses={201: CreditOut, **errors(404, 409, 422)})
    @idempotent
    def post(self, request):  # type: ignore[no-untyped-def]
        data = CreditIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        unit = _unit(values["unit"])
        price = values.get("purchase_price")
        arguments: dict[str, Any] = {}
        if "expires_at" in values:
            arguments["expires_at"] = values["expires_at"]
        issued = services.create_credit(
            unit=unit,
            redeemable_value=parse_amount(values["redeemable_value"], decimals=unit.decimals,
                                          field="redeemable_value"),
            purchase_price=None if price is None else parse_amount(
                price, decimals=2, field="purchase_price", allow_zero=True),
            account_id=values.get("account"), owner_email=values.get("owner_email"),
            status=values["status"], notes=values["notes"], scope=_scope(values.get("scope")),
            external_id=values["external_id"], source=Lot.Source.API,
            code=values.get("code") or None, actor=self.caller().actor, **arguments,
        )
        lot = Lot.objects.select_related("unit").get(pk=issued.lot.pk)
        return Response(_out(lot, self.caller(), code_text=issued.code_text),
                        status=status.HTTP_201_CREATED)


class CreditDetailView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ, "PATCH": SCOPE_CREDITS_WRITE,
              "DELETE": SCOPE_CREDITS_WRITE}
    provider_only = {"PATCH", "DELETE"}

    @extend_schema(operation_id="credits_retrieve", responses={200: CreditOut, **errors(404)})
    def get(self, request, lot_id):  # type: ignore[no-untyped-def]
        lot = visible_object(_credits(self.caller()), lot_id, what="credit")
        return Response(_out(lot, self.caller()))

    @extend_schema(operation_id="credits_update", request=CreditPatchIn,
                   responses={200: CreditOut, **errors(404, 409)})
    def patch(self, request, lot_id):  # type: ignore[no-untyped-def]
        lot = visible_object(_credits(self.caller()), lot_id, what="credit")
        data = CreditPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "scope" in changes:
            changes["scope"] = _scope(changes["scope"])
        if "purchase_price" in changes and changes["purchase_price"] is not None:
            changes["purchase_price"] = parse_amount(changes["purchase_price"], decimals=2,
                                                     field="purchase_price", allow_zero=True)
        services.update_credit(lot_id=lot.pk, actor=self.caller().actor, **changes)
        lot = Lot.objects.select_related("unit").get(pk=lot.pk)
        return Response(_out(lot, self.caller()))

    @extend_schema(operation_id="credits_destroy", responses={204: None, **errors(404)})
    def delete(self, request, lot_id):  # type: ignore[no-untyped-def]
        lot = visible_object(_credits(self.caller()), lot_id, what="credit")
        services.delete_credit(lot_id=lot.pk, actor=self.caller().actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BulkIn(StrictSerializer):
    action = serializers.ChoiceField(choices=["activate", "deactivate", "delete"])
    ids = serializers.ListField(child=IdField(), min_length=1, max_length=1000)


class CreditBulkView(ApiView):
    scopes = {"POST": SCOPE_CREDITS_WRITE}
    provider_only = {"POST"}

    @extend_schema(operation_id="credits_bulk", request=BulkIn, parameters=[IDEMPOTENCY_HEADER],
                   responses={200: inline_serializer("BulkResult", {
                       "action": serializers.CharField(), "count": serializers.IntegerField()}),
                       **errors(404)})
    @idempotent
    def post(self, request):  # type: ignore[no-untyped-def]
        data = BulkIn(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.bulk_credit_action(action=data.validated_data["action"],
                                            lot_ids=data.validated_data["ids"],
                                            actor=self.caller().actor)
        return Response({"action": data.validated_data["action"], "count": count})


class HistoryOut(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    changes = serializers.DictField()


class CreditHistoryView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}
    _fields = ["status", "expires_at", "notes", "external_id", "purchase_price", "scope_all",
               "redeemable_value"]

    @extend_schema(operation_id="credits_history",
                   responses={200: HistoryOut(many=True), **errors(404)})
    def get(self, request, lot_id):  # type: ignore[no-untyped-def]
        lot = visible_object(_credits(self.caller()), lot_id, what="credit")
        records = list(lot.history.order_by("history_date", "history_id"))
        tracked = {f.name for f in lot.history.model._meta.fields}
        fields = [f for f in self._fields if f in tracked]
        out = []
        for before, after in zip([None, *records], records, strict=False):
            changes: dict[str, list[Any]] = {}
            if before is not None:
                for change in after.diff_against(before, included_fields=fields).changes:
                    changes[change.field] = [_plain(change.old), _plain(change.new)]
            out.append({"at": after.history_date,
                        "actor": after.history_change_reason or "", "changes": changes})
        return Response(HistoryOut(out, many=True).data)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
