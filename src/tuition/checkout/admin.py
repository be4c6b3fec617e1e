"""Staff views of orders, registrations, bookings, receipts and invoices: read-only, with
actions that call checkout.services (cancel with or without refund, mark an invoiced order
paid)."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tuition.core.admin_actors import ActorFieldsMixin
from tuition.core.admin_support import ReadableAmountsMixin, ReadOnlyAdmin, actor_of
from tuition.core.errors import DomainError

from . import services as checkout
from .models import Booking, Invoice, Order, Receipt, Registration


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
        "refill_amount": "refill_unit",
    }
    time_fields = ("created_at", "paid_at", "cancelled_at")
    list_filter = ["status", "method", "unit", "item_kind"]
    search_fields = ["number", "learner__email", "account__name", "title", "payment_reference"]
    list_select_related = ["learner", "account", "unit"]
    date_hierarchy = "created_at"
    actions = ["mark_paid"]

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
admin.site.register(Invoice, _DocumentAdmin)
