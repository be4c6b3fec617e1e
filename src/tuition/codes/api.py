"""REST endpoints of credits (lots with their codes): create, list, edit one, bulk
activate/deactivate/delete, change history."""

from typing import Any

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from tuition.accounts.access import account_for, visible_accounts
from tuition.api.access import Caller, visible_object
from tuition.api.actors import ActorField
from tuition.api.base import (
    IDEMPOTENCY_HEADER,
    REPLAYED,
    RETRY_AFTER,
    ApiView,
    IdOut,
    MoneyOut,
    PageQuery,
    apply_ordering,
    errors,
    money,
    ordering,
    page_of,
)
from tuition.api.fields import (
    PERCENT_PATTERN,
    AmountField,
    AwareDateTimeField,
    IdField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictIntegerField,
    StrictSerializer,
)
from tuition.api.idempotency import answer_with, idempotent
from tuition.api.models import SCOPE_CREDITS_READ, SCOPE_CREDITS_WRITE
from tuition.core.actors import Actor, actor_in_reason, reason_without_actor
from tuition.core.amounts import format_amount, parse_amount
from tuition.core.errors import ValidationError
from tuition.ledger.models import Lot, Unit
from tuition.ledger.selectors import visible_lots

from . import selectors, services
from .models import Coupon, RedemptionCode, ScopeKind


class ScopeIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=Lot.ScopeKind.values)
    all = StrictBooleanField(required=False, default=True)
    items = serializers.ListField(child=IdField(), required=False, default=list, max_length=500)


class CreditIn(StrictSerializer):
    account = IdField(required=False)
    owner_email = StrictEmailField(required=False)
    unit = StrictCharField(max_length=16, required=False, default="USD")
    redeemable_value = AmountField(help_text="In the unit's precision.")
    purchase_price = AmountField(
        required=False, allow_null=True, usd=True, help_text="USD paid for it."
    )
    external_id = StrictCharField(max_length=200, required=False, default="", allow_blank=True)
    expires_at = AwareDateTimeField(required=False, allow_null=True)
    scope = ScopeIn(required=False)
    code = StrictCharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    status = serializers.ChoiceField(choices=Lot.Status.values, required=False, default="active")
    notes = StrictCharField(max_length=5000, required=False, default="", allow_blank=True)


class CreditPatchIn(StrictSerializer):
    status = serializers.ChoiceField(choices=Lot.Status.values, required=False)
    expires_at = AwareDateTimeField(required=False, allow_null=True)
    scope = ScopeIn(required=False)
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True)
    external_id = StrictCharField(max_length=200, required=False, allow_blank=True)
    purchase_price = AmountField(required=False, allow_null=True, usd=True)


class CreditScopeOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Lot.ScopeKind.values)
    all = serializers.BooleanField()
    items = serializers.ListField(child=serializers.CharField(), help_text="Ids of the items.")


def _usd() -> Unit:
    return Unit(code=Unit.USD, decimals=2)


class CreditOut(serializers.Serializer):
    id = IdOut()
    account = IdOut(source="account_id")
    unit = serializers.CharField(source="unit.code")
    code = serializers.SerializerMethodField()
    redeemable_value = MoneyOut()
    remaining = MoneyOut()
    purchase_price = serializers.SerializerMethodField()
    external_id = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()
    notes = serializers.CharField()
    scope = serializers.SerializerMethodField()
    source = serializers.CharField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(
        serializers.CharField(
            allow_null=True, help_text="The code in full for the provider, else its hint."
        )
    )
    def get_code(self, lot: Lot) -> str | None:
        shown = self.context.get("code_text")
        if shown:
            return shown
        code = selectors.code_of_lot(lot.pk)
        return (
            selectors.reveal_code(code)
            if code and self.context.get("reveal")
            else (code.hint if code else None)
        )

    @extend_schema_field(MoneyOut(allow_null=True, help_text="USD paid; null: not given."))
    def get_purchase_price(self, lot: Lot) -> dict[str, str] | None:
        return None if lot.purchase_price is None else money(lot.purchase_price, _usd())

    @extend_schema_field(CreditScopeOut)
    def get_scope(self, lot: Lot) -> dict[str, Any]:
        return {
            "kind": lot.scope_kind,
            "all": lot.scope_all,
            "items": [str(i) for i in sorted(lot.scope_item_ids())],
        }


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


class CreditQuery(PageQuery):
    account = StrictCharField(max_length=40, required=False, help_text="Only this account's.")
    status = serializers.ChoiceField(choices=Lot.Status.values, required=False)
    unit = StrictCharField(max_length=16, required=False, help_text="Only this unit's code.")
    external_id = StrictCharField(max_length=200, required=False)
    ordering = ordering("created_at", "expires_at", default="-created_at")


class CreditListView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ, "POST": SCOPE_CREDITS_WRITE}
    provider_only = {"POST"}
    queries = {"GET": CreditQuery}

    @extend_schema(
        operation_id="credits_list",
        responses={200: page_of(CreditOut, "CreditPage"), **errors(404)},
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        lots = apply_ordering(_credits(self.caller()), self.query["ordering"])
        if (account := self.query.get("account")) is not None:
            lots = lots.filter(account=account_for(self.caller(), account))
        if (wanted := self.query.get("status")) is not None:
            lots = lots.filter(status=wanted)
        if (unit := self.query.get("unit")) is not None:
            lots = lots.filter(unit__code__iexact=unit)
        if (external_id := self.query.get("external_id")) is not None:
            lots = lots.filter(external_id=external_id)
        return self.paginated(lots, CreditOut, reveal=self.caller().is_provider)

    @extend_schema(
        operation_id="credits_create",
        request=CreditIn,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED, RETRY_AFTER],
        responses={
            201: CreditOut,
            **errors(
                404,
                409,
                422,
                503,
                notes={
                    400: "Also: an unknown unit, more decimals than the unit has, neither or "
                    "both of account and owner_email, a code already taken.",
                },
            ),
        },
    )
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
        who = self.caller()
        answer_with(
            request,
            lambda issued: Response(
                _out(
                    Lot.objects.select_related("unit").get(pk=issued.lot.pk),
                    who,
                    code_text=issued.code_text,
                ),
                status=status.HTTP_201_CREATED,
            ),
        )
        services.create_credit(
            unit=unit,
            redeemable_value=parse_amount(
                values["redeemable_value"], decimals=unit.decimals, field="redeemable_value"
            ),
            purchase_price=None
            if price is None
            else parse_amount(price, decimals=2, field="purchase_price", allow_zero=True),
            account_id=values.get("account"),
            owner_email=values.get("owner_email"),
            status=values["status"],
            notes=values["notes"],
            scope=_scope(values.get("scope")),
            external_id=values["external_id"],
            source=Lot.Source.API,
            code=values.get("code") or None,
            actor=who.actor,
            **arguments,
        )


class CreditDetailView(ApiView):
    scopes = {
        "GET": SCOPE_CREDITS_READ,
        "PATCH": SCOPE_CREDITS_WRITE,
        "DELETE": SCOPE_CREDITS_WRITE,
    }
    provider_only = {"PATCH", "DELETE"}

    @extend_schema(operation_id="credits_retrieve", responses={200: CreditOut, **errors(404)})
    def get(self, request, lot_id):  # type: ignore[no-untyped-def]
        lot = visible_object(_credits(self.caller()), lot_id, what="credit")
        return Response(_out(lot, self.caller()))

    @extend_schema(
        operation_id="credits_update",
        request=CreditPatchIn,
        responses={
            200: CreditOut,
            **errors(404, 409, 503, notes={409: "`scope_kind_immutable`."}),
        },
    )
    def patch(self, request, lot_id):  # type: ignore[no-untyped-def]
        lot = visible_object(_credits(self.caller()), lot_id, what="credit")
        data = CreditPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "scope" in changes:
            changes["scope"] = _scope(changes["scope"])
        if "purchase_price" in changes and changes["purchase_price"] is not None:
            changes["purchase_price"] = parse_amount(
                changes["purchase_price"], decimals=2, field="purchase_price", allow_zero=True
            )
        services.update_credit(lot_id=lot.pk, actor=self.caller().actor, **changes)
        lot = Lot.objects.select_related("unit").get(pk=lot.pk)
        return Response(_out(lot, self.caller()))

    @extend_schema(operation_id="credits_destroy", responses={204: None, **errors(404, 503)})
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

    @extend_schema(
        operation_id="credits_bulk",
        request=BulkIn,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED, RETRY_AFTER],
        responses={
            200: inline_serializer(
                "BulkResult",
                {"action": serializers.CharField(), "count": serializers.IntegerField()},
            ),
            **errors(404, 409, 422, 503),
        },
    )
    @idempotent
    def post(self, request):  # type: ignore[no-untyped-def]
        data = BulkIn(data=request.data)
        data.is_valid(raise_exception=True)
        action = data.validated_data["action"]
        answer_with(request, lambda count: Response({"action": action, "count": count}))
        services.bulk_credit_action(
            action=action, lot_ids=data.validated_data["ids"], actor=self.caller().actor
        )


class HistoryOut(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = ActorField(help_text="Who made the change, and through which interface.")
    description = serializers.CharField(help_text='What happened, e.g. "edited" or "deleted: why".')
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField(), min_length=2, max_length=2),
        help_text="Field name to `[old, new]`.",
    )


class CreditHistoryView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}
    _fields = [
        "status",
        "expires_at",
        "notes",
        "external_id",
        "purchase_price",
        "scope_all",
        "scope_item_list",
        "redeemable_value",
    ]

    @extend_schema(
        operation_id="credits_history", responses={200: HistoryOut(many=True), **errors(404)}
    )
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
            reason = after.history_change_reason or ""
            out.append(
                {
                    "at": after.history_date,
                    "actor": actor_in_reason(reason),
                    "description": reason_without_actor(reason),
                    "changes": changes,
                }
            )
        return Response(HistoryOut(out, many=True).data)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# Pool and per-member codes of an account (owners manage them; a credit's own code follows the
# credit, and a coupon's code follows the coupon, so neither is listed here)

_ACCOUNT_CODE_KINDS = [RedemptionCode.Kind.POOL, RedemptionCode.Kind.MEMBER]


class CodeIn(StrictSerializer):
    account = IdField()
    kind = serializers.ChoiceField(choices=_ACCOUNT_CODE_KINDS)
    unit = StrictCharField(max_length=16, required=False, default="USD")
    member_email = StrictEmailField(required=False, help_text="For a per-member code.")
    cap = AmountField(
        required=False,
        allow_null=True,
        help_text="Most a per-member code may spend, in the code's unit.",
    )
    code = StrictCharField(
        max_length=64,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Blank: generated.",
    )
    label = StrictCharField(max_length=200, required=False, default="", allow_blank=True)


class CodePatchIn(StrictSerializer):
    status = serializers.ChoiceField(choices=RedemptionCode.Status.values)


class RotateIn(StrictSerializer):
    code = StrictCharField(
        max_length=64,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The new text; blank: generated.",
    )


class CodeOut(serializers.Serializer):
    id = IdOut()
    account = IdOut(source="account_id")
    kind = serializers.CharField()
    unit = serializers.CharField(source="unit.code")
    code = serializers.SerializerMethodField()
    hint = serializers.CharField()
    member = serializers.SerializerMethodField()
    cap = serializers.SerializerMethodField()
    spent = MoneyOut()
    label = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(
        serializers.CharField(allow_null=True, help_text="Null where the caller may not see it.")
    )
    def get_code(self, code: RedemptionCode) -> str | None:
        shown = self.context.get("code_text")
        if shown:
            return shown
        who: Caller | None = self.context.get("who")
        if who is not None and (who.is_provider or selectors.can_see_code(who.user, code)):
            return selectors.reveal_code(code)
        return None

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_member(self, code: RedemptionCode) -> str | None:
        return code.member.email if code.member_id else None

    @extend_schema_field(MoneyOut(allow_null=True, help_text="Null: no cap."))
    def get_cap(self, code: RedemptionCode) -> dict[str, str] | None:
        return None if code.cap is None else money(code.cap, code.unit)


def _account_codes(who: Caller):  # type: ignore[no-untyped-def]
    codes = RedemptionCode.objects.filter(
        kind__in=_ACCOUNT_CODE_KINDS, deleted_at__isnull=True
    ).select_related("unit", "member")
    if not who.is_provider:
        codes = codes.filter(account__in=visible_accounts(who).values("pk"))
    return codes.order_by("-created_at", "-id")


def _code_out(code_id: int, who: Caller, **context: Any) -> dict[str, Any]:
    code = RedemptionCode.objects.select_related("unit", "member").get(pk=code_id)
    return CodeOut(code, context={"who": who, **context}).data


class CodeQuery(PageQuery):
    account = StrictCharField(max_length=40, required=False, help_text="Only this account's.")
    kind = serializers.ChoiceField(choices=_ACCOUNT_CODE_KINDS, required=False)
    status = serializers.ChoiceField(choices=RedemptionCode.Status.values, required=False)
    ordering = ordering("created_at", default="-created_at")


class CodeListView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ, "POST": SCOPE_CREDITS_WRITE}
    queries = {"GET": CodeQuery}

    @extend_schema(
        operation_id="codes_list",
        responses={200: page_of(CodeOut, "CodePage"), **errors(404)},
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        who = self.caller()
        codes = apply_ordering(_account_codes(who), self.query["ordering"])
        if (account := self.query.get("account")) is not None:
            codes = codes.filter(account=account_for(who, account))
        if (kind := self.query.get("kind")) is not None:
            codes = codes.filter(kind=kind)
        if (wanted := self.query.get("status")) is not None:
            codes = codes.filter(status=wanted)
        return self.paginated(codes, CodeOut, who=who)

    @extend_schema(
        operation_id="codes_create",
        request=CodeIn,
        responses={201: CodeOut, **errors(404, 409, 422)},
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        who = self.caller()
        data = CodeIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        account = account_for(who, values["account"])
        unit = _unit(values["unit"])
        requested = values.get("code") or None
        if values["kind"] == RedemptionCode.Kind.POOL:
            if values.get("member_email") or values.get("cap") is not None:
                raise ValidationError(
                    "A pool code has no member and no cap.", details={"field": "kind"}
                )
            new = services.create_pool_code(
                account_id=account.pk,
                unit=unit,
                actor=who.actor,
                code=requested,
                label=values["label"],
            )
        else:
            if not values.get("member_email"):
                raise ValidationError(
                    gettext("A per-member code needs the member's email."),
                    details={"field": "member_email"},
                )
            cap = values.get("cap")
            new = services.create_member_code(
                account_id=account.pk,
                unit=unit,
                member_email=values["member_email"],
                actor=who.actor,
                code=requested,
                cap=None if cap is None else parse_amount(cap, decimals=unit.decimals, field="cap"),
            )
        return Response(
            _code_out(new.code.pk, who, code_text=new.code_text), status=status.HTTP_201_CREATED
        )


class CodeDetailView(ApiView):
    scopes = {
        "GET": SCOPE_CREDITS_READ,
        "PATCH": SCOPE_CREDITS_WRITE,
        "DELETE": SCOPE_CREDITS_WRITE,
    }

    @extend_schema(operation_id="codes_retrieve", responses={200: CodeOut, **errors(404)})
    def get(self, request, code_id):  # type: ignore[no-untyped-def]
        code = visible_object(_account_codes(self.caller()), code_id, what="code")
        return Response(CodeOut(code, context={"who": self.caller()}).data)

    @extend_schema(
        operation_id="codes_update", request=CodePatchIn, responses={200: CodeOut, **errors(404)}
    )
    def patch(self, request, code_id):  # type: ignore[no-untyped-def]
        who = self.caller()
        code = visible_object(_account_codes(who), code_id, what="code")
        data = CodePatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.set_code_status(
            code_id=code.pk, status=data.validated_data["status"], actor=who.actor
        )
        return Response(_code_out(code.pk, who))

    @extend_schema(operation_id="codes_destroy", responses={204: None, **errors(404)})
    def delete(self, request, code_id):  # type: ignore[no-untyped-def]
        who = self.caller()
        code = visible_object(_account_codes(who), code_id, what="code")
        services.delete_code(code_id=code.pk, actor=who.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CodeRotateView(ApiView):
    scopes = {"POST": SCOPE_CREDITS_WRITE}

    @extend_schema(
        operation_id="codes_rotate",
        request=RotateIn,
        responses={200: CodeOut, **errors(404, 409, 422)},
    )
    def post(self, request, code_id):  # type: ignore[no-untyped-def]
        who = self.caller()
        code = visible_object(_account_codes(who), code_id, what="code")
        data = RotateIn(data=request.data)
        data.is_valid(raise_exception=True)
        new = services.rotate_code(
            code_id=code.pk, actor=who.actor, new_code=data.validated_data.get("code") or None
        )
        return Response(_code_out(code.pk, who, code_text=new.code_text))


# Coupons (provider staff and integrations only)


class CouponScopeIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=ScopeKind.values)
    all = StrictBooleanField(required=False, default=True)
    items = serializers.ListField(child=IdField(), required=False, default=list, max_length=500)


class CouponIn(StrictSerializer):
    name = StrictCharField(max_length=200)
    percent_off = AmountField(
        required=False,
        allow_null=True,
        pattern=PERCENT_PATTERN,
        help_text='Percent off the card price, e.g. "10" or "12.5".',
    )
    amount_off = AmountField(
        required=False, allow_null=True, usd=True, help_text='USD off, e.g. "25.00".'
    )
    scope = CouponScopeIn(required=False)
    valid_from = AwareDateTimeField(required=False, allow_null=True)
    valid_until = AwareDateTimeField(required=False, allow_null=True)
    max_uses = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    once_per_learner = StrictBooleanField(required=False, default=False)
    status = serializers.ChoiceField(choices=Coupon.Status.values, required=False, default="active")
    notes = StrictCharField(max_length=5000, required=False, default="", allow_blank=True)
    code = StrictCharField(max_length=64, required=False, allow_null=True, allow_blank=True)


class CouponPatchIn(StrictSerializer):
    name = StrictCharField(max_length=200, required=False)
    scope = CouponScopeIn(required=False)
    valid_from = AwareDateTimeField(required=False, allow_null=True)
    valid_until = AwareDateTimeField(required=False, allow_null=True)
    max_uses = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    once_per_learner = StrictBooleanField(required=False)
    status = serializers.ChoiceField(choices=Coupon.Status.values, required=False)
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True)


class CouponScopeItemOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["activity", "group"])
    id = serializers.CharField()


class CouponScopeOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ScopeKind.values)
    all = serializers.BooleanField()
    items = CouponScopeItemOut(many=True)


class CouponOut(serializers.Serializer):
    id = IdOut()
    name = serializers.CharField()
    code = serializers.SerializerMethodField()
    hint = serializers.CharField(source="code.hint")
    percent_off = serializers.SerializerMethodField()
    amount_off = serializers.SerializerMethodField()
    scope = serializers.SerializerMethodField()
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    max_uses = serializers.IntegerField(allow_null=True)
    uses = serializers.IntegerField()
    once_per_learner = serializers.BooleanField()
    status = serializers.CharField()
    notes = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_code(self, coupon: Coupon) -> str:
        return self.context.get("code_text") or selectors.reveal_code(coupon.code)

    @extend_schema_field(
        serializers.CharField(allow_null=True, help_text='Percent off, e.g. "12.50".')
    )
    def get_percent_off(self, coupon: Coupon) -> str | None:
        bp = coupon.percent_off_bp
        return None if bp is None else format_amount(bp, decimals=2)

    @extend_schema_field(MoneyOut(allow_null=True, help_text="USD off the card price."))
    def get_amount_off(self, coupon: Coupon) -> dict[str, str] | None:
        return None if coupon.amount_off is None else money(coupon.amount_off, _usd())

    @extend_schema_field(CouponScopeOut)
    def get_scope(self, coupon: Coupon) -> dict[str, Any]:
        items = sorted(coupon.scope_items.values_list("item_kind", "item_id"))
        return {
            "kind": coupon.scope_kind,
            "all": coupon.scope_all,
            "items": [{"kind": k, "id": str(i)} for k, i in items],
        }


def _coupon_scope(values: dict[str, Any]) -> dict[str, Any]:
    scope = values.pop("scope", None)
    if scope is None:
        return {}
    return {"scope_kind": scope["kind"], "scope_all": scope["all"], "scope_items": scope["items"]}


def _coupons():  # type: ignore[no-untyped-def]
    return selectors.visible_coupons().order_by("-created_at", "-id")


class CouponQuery(PageQuery):
    status = serializers.ChoiceField(choices=Coupon.Status.values, required=False)
    ordering = ordering("created_at", "name", default="-created_at")


class CouponListView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ, "POST": SCOPE_CREDITS_WRITE}
    provider_only = "*"
    queries = {"GET": CouponQuery}

    @extend_schema(
        operation_id="coupons_list",
        responses={200: page_of(CouponOut, "CouponPage"), **errors(404)},
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        coupons = apply_ordering(_coupons(), self.query["ordering"])
        if (wanted := self.query.get("status")) is not None:
            coupons = coupons.filter(status=wanted)
        return self.paginated(coupons, CouponOut)

    @extend_schema(
        operation_id="coupons_create",
        request=CouponIn,
        responses={201: CouponOut, **errors(409, 422)},
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        data = CouponIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        percent, amount = values.pop("percent_off", None), values.pop("amount_off", None)
        new = _create_coupon(values, percent, amount, self.caller().actor)
        coupon = _coupons().get(pk=new.coupon.pk)
        return Response(
            CouponOut(coupon, context={"code_text": new.code_text}).data,
            status=status.HTTP_201_CREATED,
        )


def _create_coupon(
    values: dict[str, Any], percent: Any, amount: Any, actor: Actor
) -> services.NewCoupon:
    scope = _coupon_scope(values)
    code = values.pop("code", None) or None
    return services.create_coupon(
        **values,
        **scope,
        code=code,
        actor=actor,
        percent_off_bp=None
        if percent is None
        else parse_amount(percent, decimals=2, field="percent_off"),
        amount_off=None if amount is None else parse_amount(amount, decimals=2, field="amount_off"),
    )


class CouponDetailView(ApiView):
    scopes = {
        "GET": SCOPE_CREDITS_READ,
        "PATCH": SCOPE_CREDITS_WRITE,
        "DELETE": SCOPE_CREDITS_WRITE,
    }
    provider_only = "*"

    @extend_schema(operation_id="coupons_retrieve", responses={200: CouponOut, **errors(404)})
    def get(self, request, coupon_id):  # type: ignore[no-untyped-def]
        return Response(CouponOut(visible_object(_coupons(), coupon_id, what="coupon")).data)

    @extend_schema(
        operation_id="coupons_update",
        request=CouponPatchIn,
        responses={200: CouponOut, **errors(404, 409)},
    )
    def patch(self, request, coupon_id):  # type: ignore[no-untyped-def]
        coupon = visible_object(_coupons(), coupon_id, what="coupon")
        data = CouponPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        services.update_coupon(
            coupon_id=coupon.pk, actor=self.caller().actor, **_coupon_scope(values), **values
        )
        return Response(CouponOut(_coupons().get(pk=coupon.pk)).data)

    @extend_schema(operation_id="coupons_destroy", responses={204: None, **errors(404)})
    def delete(self, request, coupon_id):  # type: ignore[no-untyped-def]
        coupon = visible_object(_coupons(), coupon_id, what="coupon")
        services.delete_coupon(coupon_id=coupon.pk, actor=self.caller().actor)
        return Response(status=status.HTTP_204_NO_CONTENT)
