"""Staff views of orders, registrations, bookings, receipts and invoices: read-only, with
actions that call checkout.services (cancel with or without refund, mark an invoiced order
paid)."""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tuition.core.admin_actors import ActorFieldsMixin
from tuition.core.admin_support import ReadableAmountsMixin, ReadOnlyAdmin, actor_of
from tuition.core.amounts import parse_amount
from tuition.core.display import money, when
from tuition.core.errors import DomainError

from . import services as checkout
from .models import Booking, CreditNote, Invoice, Order, Receipt, Registration
from .refunds import refund_part, refund_summary


class _ActionsWithChangePermission(ReadableAmountsMixin, ReadOnlyAdmin):
    """Read-only forms; the actions (service calls) need the model's change permission."""

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_service_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def _run(self, request, items, call, done: Callable[[int], str]) -> None:  # type: ignore[no-untyped-def]
        count = 0
        for item in items:
            try:
                call(item)
                count += 1
            except DomainError as exc:
                self.message_user(request, f"{item}: {exc.message}", messages.ERROR)
        if count:
            self.message_user(request, done(count), messages.SUCCESS)


@admin.register(Order)
class OrderAdmin(_ActionsWithChangePermission):
    list_display = [
        "number",
        "created_at",
        "learner",
        "account",
        "title",
        "list_price_money",
        "charged_money",
        "method",
        "code_hint",
        "status",
    ]
    money_fields = {
        "list_price": None,
        "price": "unit",
        "discount": "unit",
        "charged": "unit",
        "refunded_amount": "unit",
        "refill_amount": "refill_unit",
    }
    time_fields = ("created_at", "paid_at", "cancelled_at")
    list_filter = ["status", "method", "unit", "item_kind"]
    search_fields = ["number", "learner__email", "account__name", "title", "payment_reference"]
    list_select_related = ["learner", "account", "unit"]
    date_hierarchy = "created_at"
    actions = ["mark_paid"]
    change_form_template = "admin/checkout/order/change_form.html"

    @admin.action(description=_("Mark selected invoiced orders as paid"), permissions=["service"])
    def mark_paid(self, request, queryset):  # type: ignore[no-untyped-def]
        actor = actor_of(request)
        self._run(
            request,
            queryset,
            lambda o: checkout.mark_order_paid(order_id=o.pk, actor=actor),
            lambda n: (
                ngettext("%(count)s order marked paid.", "%(count)s orders marked paid.", n)
                % {"count": n}
            ),
        )

    # --- partial refunds -----------------------------------------------------------------

    def get_urls(self):  # type: ignore[no-untyped-def]
        extra = [
            path(
                "<int:order_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="checkout_order_refund",
            )
        ]
        return extra + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        order = self.get_queryset(request).select_related("unit").filter(pk=object_id).first()
        if order is not None:
            extra_context = {**(extra_context or {}), **self._refund_context(request, order)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _refund_context(self, request: HttpRequest, order: Order) -> dict:
        summary = refund_summary(order)
        notes = CreditNote.objects.filter(order=order).order_by("sequence")
        return {
            "refund": {
                "charged": money(summary["charged"], order.unit),
                "refunded": money(summary["refunded"], order.unit),
                "refundable": money(summary["refundable"], order.unit),
                "can_refund": summary["refundable"] > 0 and self.has_service_permission(request),
                "paid_by_ledger": order.transfer_id is not None,
                "notes": [
                    {
                        "number": n.number,
                        "when": when(n.issued_at),
                        "amount": money(n.amount, order.unit),
                        "reason": n.reason,
                        "actor": n.actor,
                        "kind": f"credit-note-{n.sequence}",
                    }
                    for n in notes
                ],
                "url": reverse("admin:checkout_order_refund", args=[order.pk]),
            }
        }

    def refund_view(self, request: HttpRequest, order_id: int):  # type: ignore[no-untyped-def]
        order = get_object_or_404(
            self.get_queryset(request).select_related("unit", "learner", "account"), pk=order_id
        )
        if not self.has_service_permission(request):
            raise PermissionDenied
        form = RefundForm(request.POST or None)
        confirming = None
        if request.method == "POST" and form.is_valid():
            try:
                amount = parse_amount(
                    form.cleaned_data["amount"].strip(), decimals=order.unit.decimals
                )
                left = refund_summary(order)["refundable"]
                if amount > left:
                    raise DomainError(
                        f"Only {money(left, order.unit)} of this order is left to refund.",
                        details={"field": "amount"},
                    )
                if not form.cleaned_data.get("confirmed"):
                    confirming = money(amount, order.unit)
                else:
                    note = refund_part(
                        order_id=order.pk,
                        amount=amount,
                        reason=form.cleaned_data["reason"],
                        actor=actor_of(request),
                    )
            except DomainError as exc:
                field = exc.details.get("field")
                form.add_error(field if field in ("amount", "reason") else None, exc.message)
            else:
                if confirming is None:
                    self.message_user(
                        request,
                        f"Refunded {money(note.amount, order.unit)}: credit note {note.number}.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:checkout_order_change", args=[order.pk])
                    )
        context = {
            **self.admin_site.each_context(request),
            **self._refund_context(request, order),
            "title": f"Refund part of order {order.number}",
            "opts": self.model._meta,
            "order": order,
            "form": form,
            "confirming": confirming,
            "unit_label": order.unit.code,
        }
        return TemplateResponse(request, "admin/checkout/order/refund.html", context)


class RefundForm(forms.Form):
    amount = forms.CharField(
        max_length=40, help_text="In the order's unit, e.g. 45.50; at most what is refundable."
    )
    reason = forms.CharField(
        max_length=500, help_text="Shown on the credit note and in the notice, e.g. price dropped."
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class BookingInline(admin.TabularInline):
    model = Booking
    extra = 0
    can_delete = False
    fields = ["session", "status", "created_at", "ended_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Registration)
class RegistrationAdmin(ActorFieldsMixin, _ActionsWithChangePermission):
    list_display = [
        "id",
        "learner",
        "item",
        "status",
        "created_at_when",
        "cancelled_at_when",
        "cancelled_by_display",
        "order",
    ]
    time_fields = ("created_at", "cancelled_at")
    list_filter = ["status", "item_kind"]
    search_fields = ["learner__email", "order__number", "activity__title", "group__title"]
    list_select_related = ["learner", "activity", "group", "order"]
    inlines = [BookingInline]
    actions = ["cancel_with_refund", "cancel_without_refund"]

    @admin.display(description=_("item"))
    def item(self, obj: Registration) -> str:
        return str(obj.activity or obj.group)

    def _cancel(self, request, queryset, refund: bool) -> None:  # type: ignore[no-untyped-def]
        actor = actor_of(request)
        self._run(
            request,
            queryset,
            lambda r: checkout.cancel_registration(
                registration_id=r.pk, actor=actor, refund=refund, by_staff=True
            ),
            (
                lambda n: (
                    ngettext(
                        "%(count)s registration cancelled and refunded.",
                        "%(count)s registrations cancelled and refunded.",
                        n,
                    )
                    % {"count": n}
                )
            )
            if refund
            else (
                lambda n: (
                    ngettext(
                        "%(count)s registration cancelled.", "%(count)s registrations cancelled.", n
                    )
                    % {"count": n}
                )
            ),
        )

    @admin.action(
        description=_("Cancel selected registrations and refund"), permissions=["service"]
    )
    def cancel_with_refund(self, request, queryset):  # type: ignore[no-untyped-def]
        self._cancel(request, queryset, True)

    @admin.action(
        description=_("Cancel selected registrations without refund"), permissions=["service"]
    )
    def cancel_without_refund(self, request, queryset):  # type: ignore[no-untyped-def]
        self._cancel(request, queryset, False)


@admin.register(Booking)
class BookingAdmin(ReadableAmountsMixin, ReadOnlyAdmin):
    list_display = [
        "id",
        "registration",
        "activity",
        "session",
        "status",
        "created_at_when",
        "ended_at_when",
    ]
    time_fields = ("created_at", "ended_at")
    list_filter = ["status"]
    search_fields = ["registration__learner__email", "activity__title"]
    list_select_related = ["registration", "activity", "session"]


class _DocumentAdmin(ReadableAmountsMixin, ReadOnlyAdmin):
    list_display = ["number", "issued_at_when", "order", "amount_money", "list_price_money"]
    money_fields = {"amount": "unit", "list_price": None}
    time_fields = ("issued_at",)
    search_fields = ["number", "order__number"]
    list_select_related = ["order", "unit"]
    date_hierarchy = "issued_at"


admin.site.register(Receipt, _DocumentAdmin)


@admin.register(CreditNote)
class CreditNoteAdmin(ReadableAmountsMixin, ReadOnlyAdmin):
    list_display = ["number", "issued_at_when", "order", "amount_money", "reason", "actor"]
    money_fields = {"amount": "unit"}
    time_fields = ("issued_at",)
    search_fields = ["number", "order__number", "reason"]
    list_select_related = ["order", "unit"]
    date_hierarchy = "issued_at"


admin.site.register(Invoice, _DocumentAdmin)
