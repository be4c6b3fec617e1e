"""Staff views of the ledger: token types, and the transfers and entries (read-only, as
everywhere). Credits (lots) are managed in the discounts area, see codes/admin_credits.py."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tuition.core.actors import Actor
from tuition.core.admin_actors import ActorColumnMixin
from tuition.core.admin_support import (
    HistoryAdmin,
    ReadableAmountsMixin,
    ReadOnlyAdmin,
    ServiceForm,
    ServiceModelAdmin,
)
from tuition.core.display import money

from .models import Entry, Hold, Transfer, Unit
from .services import create_token_type, update_token_type


class TokenTypeForm(ServiceForm):
    class Meta:
        model = Unit
        fields = ["code", "name", "decimals", "expiry_days", "is_active"]

    def apply(self, *, actor: Actor) -> Unit:
        data = self.cleaned_data
        if self.instance.pk is None:
            unit = create_token_type(
                code=data["code"],
                name=data["name"],
                decimals=data.get("decimals") or 0,
                expiry_days=data.get("expiry_days"),
                actor=actor,
            )
            if data.get("is_active") is False:
                unit = update_token_type(unit_id=unit.pk, is_active=False, actor=actor)
            return unit
        return update_token_type(
            unit_id=self.instance.pk,
            name=data["name"],
            expiry_days=data.get("expiry_days"),
            is_active=data.get("is_active"),
            actor=actor,
        )


@admin.register(Unit)
class UnitAdmin(ServiceModelAdmin, HistoryAdmin):
    """Token types. USD is built in and read-only; a token type's code and decimals are fixed
    once made, because every stored amount is counted in its minor unit."""

    form = TokenTypeForm
    list_display = ["code", "name", "decimals", "expiry_days", "is_builtin", "is_active"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return []
        return ["code", "decimals", "is_builtin"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is not None and obj.is_builtin:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # lots and prices point at units; retire one with "is active" instead


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False
    fields = ["lot", "system_account", "amount_money"]
    readonly_fields = fields

    @admin.display(description=_("amount"))
    def amount_money(self, obj: Entry) -> str:
        return money(obj.amount, obj.transfer.unit)

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Transfer)
class TransferAdmin(ActorColumnMixin, ReadableAmountsMixin, ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "account",
        "amount_money",
        "created_at_when",
        "actor_display",
        "reason",
    ]
    money_fields = {"amount": "unit"}
    time_fields = ("created_at",)
    list_filter = ["kind", "unit"]
    search_fields = ["account__name", "actor", "reason"]
    list_select_related = ["account", "unit"]
    date_hierarchy = "created_at"
    inlines = [EntryInline]

    def lookup_allowed(self, lookup, value, request=None):  # type: ignore[no-untyped-def]
        # The staff home links to "redeemed since" lists.
        return lookup in ("created_at__gte", "created_at__lt") or super().lookup_allowed(
            lookup, value, request
        )


@admin.register(Entry)
class EntryAdmin(ReadableAmountsMixin, ReadOnlyAdmin):
    list_display = ["id", "transfer", "lot", "system_account", "amount_money"]
    money_fields = {"amount": "transfer.unit"}
    list_filter = ["system_account", "transfer__kind"]
    list_select_related = ["transfer", "transfer__unit", "lot"]
    search_fields = ["=transfer__id", "=lot__id"]


class HoldInline(admin.TabularInline):
    """On the account page: redemptions waiting for an owner's approval, and decided ones."""

    model = Hold
    extra = 0
    can_delete = False
    fields = ["requested", "what", "amount_money", "status", "expires", "ended"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    verbose_name = "hold (approval request)"
    verbose_name_plural = "holds (approval requests)"

    @admin.display(description="requested")
    def requested(self, obj: Hold) -> str:
        from tuition.core.display import when

        return when(obj.created_at)

    @admin.display(description="learner and item")
    def what(self, obj: Hold) -> str:
        order = getattr(obj, "order", None)  # the checkout's order that waits on this hold
        return f"{order.learner.email}: {order.title}" if order is not None else "—"

    @admin.display(description="amount")
    def amount_money(self, obj: Hold) -> str:
        from tuition.core.display import money

        return money(obj.amount, obj.unit)

    @admin.display(description="released if undecided")
    def expires(self, obj: Hold) -> str:
        from tuition.core.display import when

        return when(obj.expires_at) if obj.is_pending else "—"

    @admin.display(description="decided")
    def ended(self, obj: Hold) -> str:
        from tuition.core.display import when

        return when(obj.ended_at) if obj.ended_at else "—"

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
