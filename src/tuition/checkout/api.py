"""REST endpoints of checkout: quote, checkout, registrations (reschedule, unenroll, cancel),
orders with their receipt and invoice, and refills."""

from typing import Any

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from tuition.accounts.access import account_for
from tuition.accounts.models import User
from tuition.api.access import Caller, visible_object
from tuition.api.base import (
    IDEMPOTENCY_HEADER,
    REPLAYED,
    RETRY_AFTER,
    ApiView,
    IdOut,
    Money,
    MoneyOut,
    PageQuery,
    apply_ordering,
    errors,
    ordering,
    page_of,
)
from tuition.api.fields import (
    AmountField,
    IdField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictSerializer,
)
from tuition.api.idempotency import answer_with, idempotent
from tuition.api.models import SCOPE_CHECKOUT, SCOPE_CREDITS_READ
from tuition.core.amounts import parse_amount
from tuition.core.errors import (
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from tuition.core.http import client_ip
from tuition.ledger.models import Unit

from . import services
from .approvals import AwaitingApproval
from .approvals import holds_of as approvals_of
from .approvals_api import AwaitingOut, HoldOut
from .models import CreditNote, Order, Registration
from .refunds import refund_part

# Orders (one shape everywhere: checkout answers with the same order as /orders)


class _Usd:
    code = "USD"
    decimals = 2


class UsdOut(MoneyOut):
    """A USD amount (list prices are always in USD cents)."""

    def get_attribute(self, instance: Any) -> Any:
        return (serializers.Field.get_attribute(self, instance), _Usd)


class OrderOut(serializers.Serializer):
    id = IdOut()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=Order.Status.values)
    learner = serializers.EmailField(source="learner.email")
    account = IdOut(
        source="account_id", allow_null=True, help_text="The account whose value paid, if any."
    )
    item_kind = serializers.CharField()
    activity = IdOut(source="activity_id", allow_null=True)
    group = IdOut(source="group_id", allow_null=True)
    session = IdOut(source="session_id", allow_null=True)
    title = serializers.CharField()
    list_price = UsdOut(help_text="The USD list price.")
    unit = serializers.CharField(source="unit.code", help_text="The unit it was paid in.")
    price = MoneyOut(help_text="The price in the unit paid.")
    discount = MoneyOut()
    charged = MoneyOut()
    method = serializers.CharField()
    code_hint = serializers.SerializerMethodField()
    refunded = MoneyOut(
        source="refunded_amount", help_text="Refunded so far (partial refunds and a full one)."
    )
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Null: no code."))
    def get_code_hint(self, order: Order) -> str | None:
        return order.code_hint or None


class DocumentOut(serializers.Serializer):
    number = serializers.CharField()
    order = IdOut(source="order_id")
    issued_at = serializers.DateTimeField()
    amount = MoneyOut()
    unit = serializers.CharField(source="unit.code")
    list_price = UsdOut()


# Quote and checkout


class LearnerIn(StrictSerializer):
    email = StrictEmailField()
    name = StrictCharField(max_length=200, required=False, default="", allow_blank=True)


class CheckoutItemIn(StrictSerializer):
    """Exactly one of `activity` or `group`."""

    activity = IdField(required=False)
    group = IdField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if len(attrs) != 1:
            raise serializers.ValidationError("Give exactly one of activity or group.")
        return attrs


class PaymentIn(StrictSerializer):
    method = serializers.ChoiceField(choices=["code", "card"])
    code = StrictCharField(max_length=64, required=False, allow_null=True)
    coupon = StrictCharField(max_length=64, required=False, allow_null=True)
    codes = serializers.ListField(
        child=StrictCharField(max_length=64),
        required=False,
        max_length=5,
        help_text="Any further codes (refused).",
    )
    provider = serializers.ChoiceField(
        choices=["sandbox", "invoice"], required=False, default="sandbox"
    )
    card_number = StrictCharField(max_length=32, required=False, allow_null=True)


class CheckoutIn(StrictSerializer):
    learner = LearnerIn(required=False)
    item = CheckoutItemIn()
    session = IdField(required=False, allow_null=True)
    payment = PaymentIn()


def _payment(values: dict[str, Any]) -> services.PaymentChoice:
    payment = values["payment"]
    extra = list(payment.get("codes") or [])
    code, coupon = payment.get("code"), payment.get("coupon")
    if payment["method"] == "code" and coupon:
        extra.append(coupon)  # a code plus a coupon: one code only
        coupon = None
    return services.PaymentChoice(
        method=payment["method"],
        code=code,
        coupon=coupon,
        provider=payment.get("provider", "sandbox"),
        card_number=payment.get("card_number"),
        extra_codes=tuple(extra),
    )


def _learner(who: Caller, values: dict[str, Any]) -> tuple[str, str]:
    """A provider names the learner by email; a person checks out for themselves.

    Raises:
        ValidationError: a provider gave no learner.
        PermissionDeniedError: a person named someone else.
    """
    learner = values.get("learner")
    if who.is_provider:
        if not learner:
            raise ValidationError("learner is required.", details={"field": "learner"})
        return learner["email"], learner.get("name", "")
    assert who.user is not None
    if learner and learner["email"] != who.user.email.lower():
        raise PermissionDeniedError("You can only check out for yourself.")
    return who.user.email, (learner or {}).get("name", "")


def _arguments(view: ApiView, request: Any) -> dict[str, Any]:
    data = CheckoutIn(data=request.data)
    data.is_valid(raise_exception=True)
    values = data.validated_data
    email, name = _learner(view.caller(), values)
    return {
        "learner_email": email,
        "learner_name": name,
        "payment": _payment(values),
        "activity_id": values["item"].get("activity"),
        "group_id": values["item"].get("group"),
        "session_id": values.get("session"),
        "actor": view.caller().actor,
        # An integrating system checks out for all its learners from one server: its code
        # entries are limited per key and learner, not per IP (docs/decisions/0006).
        "ip": client_ip(request),
        "api_key": key.prefix if (key := view.caller().api_key) else None,
    }


QuoteOut = inline_serializer(
    "Quote",
    {
        "item": inline_serializer(
            "QuoteItem",
            {
                "kind": serializers.CharField(),
                "id": serializers.CharField(),
                "title": serializers.CharField(),
            },
        ),
        "list_price": Money(),
        "price": Money(),
        "discount": Money(),
        "payable": Money(),
        "method": serializers.CharField(),
        "needs_approval": serializers.BooleanField(
            help_text="The account's approval rules cover this redemption: `POST /checkout` "
            "would answer 202 and hold the amount until an owner approves or declines."
        ),
    },
)
CheckoutOut = inline_serializer(
    "CheckoutResult",
    {
        "order": OrderOut(),
        "registration": inline_serializer(
            "RegistrationRef", {"id": serializers.CharField(), "status": serializers.CharField()}
        ),
        "booking": inline_serializer(
            "BookingRef",
            {"id": serializers.CharField(), "session": serializers.CharField()},
            allow_null=True,
        ),
        "receipt": inline_serializer(
            "DocumentRef", {"number": serializers.CharField()}, allow_null=True
        ),
        "invoice": inline_serializer("InvoiceRef", {"number": serializers.CharField()}),
    },
)


# What a quote or a checkout can answer, beyond the statuses' general meaning.
CHECKOUT_NOTES = {
    400: "Also: no learner (API keys), no unit price.",
    404: "The activity, group or session does not exist.",
    409: "`session_required`, `session_full`, `session_started`, `already_registered`.",
    422: "`code_not_found`, `code_inactive`, `code_expired`, "
    "`insufficient_balance`, `not_in_scope`, `not_priced_in_unit`, `not_eligible`, "
    "`one_code_only`, `payment_declined`, `idempotency_key_reused`.",
}


class QuoteView(ApiView):
    scopes = {"POST": SCOPE_CHECKOUT}

    @extend_schema(
        operation_id="checkout_quote",
        request=CheckoutIn,
        parameters=[RETRY_AFTER],
        responses={
            200: QuoteOut,
            **errors(
                404,
                409,
                422,
                429,
                503,
                notes=CHECKOUT_NOTES,
            ),
        },
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        arguments = _arguments(self, request)
        arguments.pop("learner_name")
        return Response(services.quote(**arguments).as_dict())


class CheckoutView(ApiView):
    scopes = {"POST": SCOPE_CHECKOUT}

    @extend_schema(
        operation_id="checkout_create",
        request=CheckoutIn,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED, RETRY_AFTER],
        responses={
            201: CheckoutOut,
            202: AwaitingOut,
            **errors(
                404,
                409,
                422,
                429,
                503,
                notes=CHECKOUT_NOTES,
            ),
        },
    )
    @idempotent
    def post(self, request):  # type: ignore[no-untyped-def]
        answer_with(request, _checkout_answer)
        services.checkout(**_arguments(self, request))


def _checkout_answer(result: "services.CheckoutResult | AwaitingApproval") -> Response:
    body = result.as_dict()
    # One shape of an order in the whole API: the same as GET /orders/{id}. Rendered from
    # what the checkout holds: this runs inside its transaction.
    body["order"] = OrderOut(result.order).data
    if isinstance(result, AwaitingApproval):  # SPEC §7: accepted, waits for an owner
        body["hold"] = HoldOut(approvals_of().get(pk=result.order.pk)).data
        return Response(body, status=status.HTTP_202_ACCEPTED)
    return Response(body, status=status.HTTP_201_CREATED)


# Registrations


class BookingOut(serializers.Serializer):
    id = IdOut()
    activity = IdOut(source="activity_id")
    session = IdOut(source="session_id")
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class RegistrationOut(serializers.Serializer):
    id = IdOut()
    learner = serializers.EmailField(source="learner.email")
    order = IdOut(source="order_id")
    item_kind = serializers.ChoiceField(choices=["activity", "group"])
    activity = IdOut(source="activity_id", allow_null=True, help_text="Null for a group.")
    group = IdOut(source="group_id", allow_null=True, help_text="Null for an activity.")
    status = serializers.ChoiceField(choices=Registration.Status.values)
    refunded = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    bookings = BookingOut(many=True)
    activities = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.ListField(
            child=serializers.CharField(),
            help_text="The activities it registered the learner for (ids): a group's, as "
            "registered when it was bought, or the one activity.",
        )
    )
    def get_activities(self, registration: Registration) -> list[str]:
        if registration.group_id is None:
            return [str(registration.activity_id)]
        return [str(part.activity_id) for part in registration.parts.all()]


REG_NOTES = {
    409: "`session_full`, `session_started`, `session_required`, `already_cancelled`, "
    "`not_cancellable`, `refund_not_allowed`, `already_reversed`.",
    422: "`idempotency_key_reused`.",
}


def _learner_filter(who: Caller) -> User | None:
    return None if who.is_provider else who.user


def _registrations(who: Caller):  # type: ignore[no-untyped-def]
    # One activity of a group is part of the group's registration, not one of its own here.
    registrations = (
        Registration.objects.filter(part_of__isnull=True)
        .select_related("learner")
        .prefetch_related("bookings", "parts")
    )
    if not who.is_provider:
        registrations = registrations.filter(learner=who.user)
    return registrations.order_by("-created_at", "-id")


class RegistrationQuery(PageQuery):
    learner = StrictCharField(max_length=254, required=False, help_text="Learner email.")
    status = serializers.ChoiceField(choices=Registration.Status.values, required=False)
    ordering = ordering("created_at", default="-created_at")


class RegistrationListView(ApiView):
    scopes = {"GET": SCOPE_CHECKOUT}
    queries = {"GET": RegistrationQuery}

    @extend_schema(
        operation_id="registrations_list",
        responses={200: page_of(RegistrationOut, "RegistrationPage"), **errors(404)},
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        registrations = apply_ordering(_registrations(self.caller()), self.query["ordering"])
        if (learner := self.query.get("learner")) is not None:
            registrations = registrations.filter(learner__email__iexact=learner)
        if (wanted := self.query.get("status")) is not None:
            registrations = registrations.filter(status=wanted)
        return self.paginated(registrations, RegistrationOut)


class RegistrationDetailView(ApiView):
    scopes = {"GET": SCOPE_CHECKOUT}

    @extend_schema(
        operation_id="registrations_retrieve", responses={200: RegistrationOut, **errors(404)}
    )
    def get(self, request, registration_id):  # type: ignore[no-untyped-def]
        registration = visible_object(
            _registrations(self.caller()), registration_id, what="registration"
        )
        return Response(RegistrationOut(registration).data)


class RescheduleIn(StrictSerializer):
    session = IdField()
    activity = IdField(required=False, help_text="For a group: which dated activity.")


class UnenrollIn(StrictSerializer):
    activity = IdField(required=False, help_text="For a group: which dated activity.")


class CancelIn(StrictSerializer):
    refund = StrictBooleanField(required=False, allow_null=True, default=None)


def _visible_registration_id(view: ApiView, registration_id: Any) -> int:
    return visible_object(_registrations(view.caller()), registration_id, what="registration").pk


def _registration_response(registration_id: int) -> Response:
    registration = (
        Registration.objects.select_related("learner")
        .prefetch_related("bookings", "parts")
        .get(pk=registration_id)
    )
    return Response(RegistrationOut(registration).data)


def _to_session(view: ApiView, request: Any, registration_id: Any, move: Any) -> Response:
    """Book (`book_session`) or move to (`reschedule_booking`) the session the body names."""
    pk = _visible_registration_id(view, registration_id)
    data = RescheduleIn(data=request.data)
    data.is_valid(raise_exception=True)
    answer_with(request, lambda _: _registration_response(pk))
    move(
        registration_id=pk,
        session_id=data.validated_data["session"],
        activity_id=data.validated_data.get("activity"),
        actor=view.caller().actor,
        learner=_learner_filter(view.caller()),
    )
    return None


class RescheduleView(ApiView):
    scopes = {"POST": SCOPE_CHECKOUT}

    @extend_schema(
        operation_id="registrations_reschedule",
        request=RescheduleIn,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED, RETRY_AFTER],
        responses={
            200: RegistrationOut,
            **errors(
                404,
                409,
                422,
                503,
                notes=REG_NOTES,
            ),
        },
    )
    @idempotent
    def post(self, request, registration_id):  # type: ignore[no-untyped-def]
        return _to_session(self, request, registration_id, services.reschedule_booking)


class BookView(ApiView):
    scopes = {"POST": SCOPE_CHECKOUT}

    @extend_schema(
        operation_id="registrations_book",
        summary="Book a date for a registration",
        description=(
            "Books a session for a registration that holds no booking of that activity: after "
            "unenrolling, or for a dated activity of a group. Nothing is charged; the seat "
            "rules of checkout apply (session_full, session_started)."
        ),
        request=RescheduleIn,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED, RETRY_AFTER],
        responses={200: RegistrationOut, **errors(404, 409, 422, 503, notes=REG_NOTES)},
    )
    @idempotent
    def post(self, request, registration_id):  # type: ignore[no-untyped-def]
        return _to_session(self, request, registration_id, services.book_session)


class UnenrollView(ApiView):
    scopes = {"POST": SCOPE_CHECKOUT}

    @extend_schema(
        operation_id="registrations_unenroll",
        request=UnenrollIn,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED, RETRY_AFTER],
        responses={
            200: RegistrationOut,
            **errors(
                404,
                409,
                422,
                503,
                notes=REG_NOTES,
            ),
        },
    )
    @idempotent
    def post(self, request, registration_id):  # type: ignore[no-untyped-def]
        pk = _visible_registration_id(self, registration_id)
        data = UnenrollIn(data=request.data)
        data.is_valid(raise_exception=True)
        answer_with(request, lambda _: _registration_response(pk))
        services.unenroll_from_session(
            registration_id=pk,
            activity_id=data.validated_data.get("activity"),
            actor=self.caller().actor,
            learner=_learner_filter(self.caller()),
        )


class CancelView(ApiView):
    scopes = {"POST": SCOPE_CHECKOUT}

    @extend_schema(
        operation_id="registrations_cancel",
        request=CancelIn,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED, RETRY_AFTER],
        responses={
            200: RegistrationOut,
            **errors(
                404,
                409,
                422,
                503,
                notes=REG_NOTES,
            ),
        },
    )
    @idempotent
    def post(self, request, registration_id):  # type: ignore[no-untyped-def]
        pk = _visible_registration_id(self, registration_id)
        data = CancelIn(data=request.data)
        data.is_valid(raise_exception=True)
        who = self.caller()
        answer_with(request, lambda _: _registration_response(pk))
        services.cancel_registration(
            registration_id=pk,
            refund=data.validated_data["refund"],
            actor=who.actor,
            by_staff=who.is_provider,
            learner=_learner_filter(who),
        )


# Orders


def _orders_with_refs():  # type: ignore[no-untyped-def]
    return Order.objects.select_related("learner", "unit")


def _orders(who: Caller):  # type: ignore[no-untyped-def]
    orders = Order.objects.select_related("learner", "unit")
    if not who.is_provider:
        orders = orders.filter(learner=who.user)
    return orders.order_by("-created_at", "-id")


class OrderQuery(PageQuery):
    account = StrictCharField(max_length=40, required=False, help_text="Only this account's.")
    learner = StrictCharField(max_length=254, required=False, help_text="Learner email.")
    ordering = ordering("created_at", default="-created_at")


class OrderListView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}
    queries = {"GET": OrderQuery}

    @extend_schema(
        operation_id="orders_list",
        responses={200: page_of(OrderOut, "OrderPage"), **errors(404)},
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        orders = apply_ordering(_orders(self.caller()), self.query["ordering"])
        if (account := self.query.get("account")) is not None:
            orders = orders.filter(account=account_for(self.caller(), account))
        if (learner := self.query.get("learner")) is not None:
            orders = orders.filter(learner__email__iexact=learner)
        return self.paginated(orders, OrderOut)


class OrderDetailView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}

    @extend_schema(operation_id="orders_retrieve", responses={200: OrderOut, **errors(404)})
    def get(self, request, order_id):  # type: ignore[no-untyped-def]
        order = visible_object(_orders(self.caller()), order_id, what="order")
        return Response(OrderOut(order).data)


class OrderReceiptView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}
    document = "receipt"

    @extend_schema(operation_id="orders_receipt", responses={200: DocumentOut, **errors(404)})
    def get(self, request, order_id):  # type: ignore[no-untyped-def]
        order = visible_object(_orders(self.caller()), order_id, what="order")
        document = getattr(order, self.document, None)
        if document is None:
            raise NotFoundError(f"This order has no {self.document}.")
        return Response(DocumentOut(document).data)


class OrderInvoiceView(OrderReceiptView):
    document = "invoice"

    @extend_schema(operation_id="orders_invoice", responses={200: DocumentOut, **errors(404)})
    def get(self, request, order_id):  # type: ignore[no-untyped-def]
        return super().get(request, order_id)


# Refills (an owner buys more value for their account)


class RefillIn(StrictSerializer):
    buyer_email = StrictEmailField(required=False, help_text="For API keys: who bought it.")
    unit = StrictCharField(max_length=16, required=False, default="USD")
    amount = AmountField(help_text="In the unit's precision.")
    provider = serializers.ChoiceField(
        choices=["sandbox", "invoice"], required=False, default="sandbox"
    )
    card_number = StrictCharField(max_length=32, required=False, allow_null=True)


class RefillView(ApiView):
    scopes = {"POST": SCOPE_CHECKOUT}

    @extend_schema(
        operation_id="accounts_refills_create",
        request=RefillIn,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED, RETRY_AFTER],
        responses={
            201: OrderOut,
            **errors(
                404,
                409,
                422,
                503,
                notes={
                    400: "Also: an unknown unit, more decimals than the unit has.",
                    422: "`payment_declined`, `idempotency_key_reused`.",
                },
            ),
        },
    )
    @idempotent
    def post(self, request, account_id):  # type: ignore[no-untyped-def]
        who = self.caller()
        account = account_for(who, account_id)
        data = RefillIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        unit = Unit.objects.filter(code__iexact=values["unit"], is_active=True).first()
        if unit is None:
            raise ValidationError("No such unit.", details={"field": "unit"})
        answer_with(
            request,
            lambda order: Response(
                OrderOut(_orders_with_refs().get(pk=order.pk)).data,
                status=status.HTTP_201_CREATED,
            ),
        )
        services.purchase_refill(
            account_id=account.pk,
            unit=unit,
            amount=parse_amount(values["amount"], decimals=unit.decimals),
            buyer_email=who.user.email if who.user else values.get("buyer_email", ""),
            actor=who.actor,
            provider=values["provider"],
            card_number=values.get("card_number"),
        )


# Partial refunds (staff and API keys): part of a credit or token order goes back to its lots.


class RefundIn(StrictSerializer):
    amount = AmountField(help_text="In the order's unit and its precision; at most what is left.")
    reason = StrictCharField(max_length=500, help_text="Why (shown on the credit note).")


class RefundOut(serializers.Serializer):
    id = IdOut()
    order = IdOut(source="order_id")
    credit_note = serializers.CharField(source="number", help_text="The credit note's number.")
    amount = MoneyOut()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField(source="issued_at")
    transaction = IdOut(source="transfer_id", help_text="The ledger reversal.")


class RefundListOut(serializers.Serializer):
    charged = MoneyOut()
    refunded = MoneyOut(help_text="Refunded so far (partial refunds and a full one).")
    refundable = MoneyOut(
        help_text="What may still be refunded in part (0 unless paid with "
        "credit or tokens and not refunded in full)."
    )
    refunds = RefundOut(many=True, help_text="The partial refunds, oldest first.")


def _refund_list(order: Order) -> dict[str, Any]:
    from .refunds import refund_summary

    notes = order.credit_notes.select_related("unit").order_by("sequence")
    return {**refund_summary(order), "unit": order.unit, "refunds": list(notes)}


def _provider_order(view: ApiView, order_id: Any) -> Order:
    who = view.caller()
    if not who.is_provider:
        raise PermissionDeniedError("Only the provider's staff may refund orders.")
    return visible_object(_orders(who), order_id, what="order")


class OrderRefundsView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ, "POST": SCOPE_CHECKOUT}

    @extend_schema(
        operation_id="orders_refunds_list",
        responses={200: RefundListOut, **errors(403, 404)},
    )
    def get(self, request, order_id):  # type: ignore[no-untyped-def]
        order = _provider_order(self, order_id)
        return Response(RefundListOut(_refund_list(order)).data)

    @extend_schema(
        operation_id="orders_refunds_create",
        request=RefundIn,
        parameters=[IDEMPOTENCY_HEADER, REPLAYED, RETRY_AFTER],
        responses={
            201: RefundOut,
            **errors(
                403,
                404,
                409,
                422,
                503,
                notes={
                    400: "Also: more than is left to refund (details: `refundable`), a missing "
                    "reason, more decimals than the unit has.",
                    409: "`refund_not_allowed` (not paid with credit or tokens, or not paid), "
                    "`already_reversed` (refunded in full), `idempotency_key_in_progress`.",
                    422: "`idempotency_key_reused`.",
                },
            ),
        },
    )
    @idempotent
    def post(self, request, order_id):  # type: ignore[no-untyped-def]
        order = _provider_order(self, order_id)
        data = RefundIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        answer_with(
            request,
            lambda note: Response(
                RefundOut(CreditNote.objects.select_related("unit").get(pk=note.pk)).data,
                status=status.HTTP_201_CREATED,
            ),
        )
        refund_part(
            order_id=order.pk,
            amount=parse_amount(values["amount"], decimals=order.unit.decimals),
            reason=values["reason"],
            actor=self.caller().actor,
        )
