"""REST endpoints of the ledger: units (token types) and transactions (transfers). They live
beside the ledger package, not in it: the ledger imports no other part of the product, and
these use the API toolkit and the access policy."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from tuition.accounts.access import account_for, visible_accounts
from tuition.api.access import parse_id, visible_object
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
    ordering,
    page_of,
)
from tuition.api.fields import (
    AmountField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)
from tuition.api.idempotency import answer_with, idempotent
from tuition.api.models import SCOPE_ADMIN, SCOPE_CREDITS_READ, SCOPE_CREDITS_WRITE
from tuition.core.amounts import parse_amount
from tuition.core.errors import NotFoundError
from tuition.ledger import services
from tuition.ledger.models import Entry, Transfer, Unit
from tuition.ledger.selectors import visible_lots
from tuition.ledger.services import create_token_type

# Units


class UnitIn(StrictSerializer):
    code = StrictCharField(
        max_length=16,
        pattern=r"^[A-Za-z0-9_]{1,16}$",
        pattern_message="Use 1 to 16 letters, digits or _.",
        help_text="1 to 16 letters, digits or _, e.g. TT.",
    )
    name = StrictCharField(max_length=100)
    decimals = StrictIntegerField(required=False, default=0, max_value=6)
    expiry_days = StrictIntegerField(
        required=False, allow_null=True, default=365, min_value=1, max_value=36500
    )


class UnitOut(serializers.Serializer):
    id = IdOut()
    code = serializers.CharField()
    name = serializers.CharField()
    decimals = serializers.IntegerField()
    expiry_days = serializers.IntegerField(allow_null=True)
    builtin = serializers.BooleanField(source="is_builtin")
    active = serializers.BooleanField(source="is_active")


class UnitListView(ApiView):
    scopes = {"POST": SCOPE_ADMIN}
    provider_only = {"POST"}
    queries = {"GET": PageQuery}

    @extend_schema(
        operation_id="units_list", responses={200: page_of(UnitOut, "UnitPage"), **errors(404)}
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        return self.paginated(Unit.objects.order_by("-is_builtin", "code"), UnitOut)

    @extend_schema(
        operation_id="units_create",
        request=UnitIn,
        responses={201: UnitOut, **errors(409, notes={409: "A unit with this code exists."})},
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        data = UnitIn(data=request.data)
        data.is_valid(raise_exception=True)
        unit = create_token_type(**data.validated_data, actor=self.caller().actor)
        return Response(UnitOut(unit).data, status=status.HTTP_201_CREATED)


class UnitDetailView(ApiView):
    @extend_schema(operation_id="units_retrieve", responses={200: UnitOut, **errors(404)})
    def get(self, request, unit_id):  # type: ignore[no-untyped-def]
        unit = Unit.objects.filter(code__iexact=unit_id[:16]).first()
        if unit is None:
            raise NotFoundError("No such unit.")
        return Response(UnitOut(unit).data)


# Transactions


class EntryOut(serializers.Serializer):
    lot = IdOut(
        source="lot_id", allow_null=True, help_text="The credit; null for a system account."
    )
    system_account = serializers.CharField(allow_null=True)
    amount = MoneyOut(unit_attr="transfer.unit", help_text="Signed: credits add, debits take.")


class TransferOut(serializers.Serializer):
    id = IdOut()
    kind = serializers.CharField()
    account = IdOut(source="account_id")
    created_at = serializers.DateTimeField()
    amount = MoneyOut()
    unit = serializers.CharField(source="unit.code")
    actor = ActorField(help_text="Who made it, and through which interface.")
    reason = serializers.CharField()
    reverses = IdOut(
        source="reverses_id", allow_null=True, help_text="The transaction this one reverses."
    )
    entries = serializers.SerializerMethodField()

    @extend_schema_field(EntryOut(many=True))
    def get_entries(self, transfer: Transfer) -> list[dict]:
        return EntryOut(transfer.entries.all(), many=True).data


def _transfers_for(view: ApiView):  # type: ignore[no-untyped-def]
    who = view.caller()
    transfers = Transfer.objects.select_related("unit").prefetch_related("entries__transfer__unit")
    if not who.is_provider:
        transfers = transfers.filter(account__in=visible_accounts(who).values("pk"))
    return transfers.order_by("-created_at", "-id")


class TransactionQuery(PageQuery):
    account = StrictCharField(
        max_length=40, required=False, help_text="Only this account's transactions."
    )
    kind = serializers.ChoiceField(choices=Transfer.Kind.values, required=False)
    lot = StrictCharField(
        max_length=40, required=False, help_text="Only transactions touching this credit."
    )
    ordering = ordering("created_at", default="-created_at")


class TransactionListView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}
    queries = {"GET": TransactionQuery}

    @extend_schema(
        operation_id="transactions_list",
        responses={200: page_of(TransferOut, "TransactionPage"), **errors(404)},
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        transfers = apply_ordering(_transfers_for(self), self.query["ordering"])
        account = self.query.get("account")
        if account is not None:
            transfers = transfers.filter(account=account_for(self.caller(), account))
        kind = self.query.get("kind")
        if kind is not None:
            transfers = transfers.filter(kind=kind)
        lot = self.query.get("lot")
        if lot is not None:
            lot_id = parse_id(lot)
            transfers = (
                transfers.filter(pk__in=Entry.objects.filter(lot_id=lot_id).values("transfer_id"))
                if lot_id
                else transfers.none()
            )
        return self.paginated(transfers, TransferOut)


class TransactionDetailView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}

    @extend_schema(
        operation_id="transactions_retrieve", responses={200: TransferOut, **errors(404)}
    )
    def get(self, request, transfer_id):  # type: ignore[no-untyped-def]
        transfer = visible_object(_transfers_for(self), transfer_id, what="transaction")
        return Response(TransferOut(transfer).data)


# Adjustments (staff correcting a credit up or down, with a reason; SPEC rule 7)


class AdjustmentIn(StrictSerializer):
    amount = AmountField(
        signed=True, help_text='Signed decimal string: "25.00" adds, "-25.00" takes away.'
    )
    reason = StrictCharField(max_length=500)


class AdjustmentListView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ, "POST": SCOPE_CREDITS_WRITE}
    provider_only = {"POST"}
    queries = {"GET": PageQuery}

    def _lot(self, lot_id):  # type: ignore[no-untyped-def]
        who = self.caller()
        lots = visible_lots().select_related("unit")
        if not who.is_provider:
            lots = lots.filter(account__in=visible_accounts(who).values("pk"))
        return visible_object(lots, lot_id, what="credit")

    @extend_schema(
        operation_id="credits_adjustments_list",
        responses={200: page_of(TransferOut, "AdjustmentPage"), **errors(404)},
    )
    def get(self, request, lot_id):  # type: ignore[no-untyped-def]
        lot = self._lot(lot_id)
        adjustments = _transfers_for(self).filter(kind=Transfer.Kind.ADJUST, entries__lot_id=lot.pk)
        return self.paginated(adjustments, TransferOut)

    @extend_schema(
        operation_id="credits_adjustments_create",
        request=AdjustmentIn,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED, RETRY_AFTER],
        responses={
            201: TransferOut,
            **errors(
                404,
                409,
                422,
                503,
                notes={
                    400: "Also: more decimals than the unit has, zero, or below zero left.",
                },
            ),
        },
    )
    @idempotent
    def post(self, request, lot_id):  # type: ignore[no-untyped-def]
        lot = self._lot(lot_id)
        data = AdjustmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        delta = parse_amount(
            data.validated_data["amount"], decimals=lot.unit.decimals, allow_negative=True
        )
        answer_with(
            request,
            lambda transfer: Response(TransferOut(transfer).data, status=status.HTTP_201_CREATED),
        )
        services.adjust_lot(
            lot_id=lot.pk,
            delta=delta,
            reason=data.validated_data["reason"],
            actor=self.caller().actor,
        )
