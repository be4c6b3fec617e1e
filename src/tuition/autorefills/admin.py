"""Automatic refills on the staff pages: every rule with its firings, and on each account page
the account's rules and what they bought. Staff may pause and resume a rule (services); the
rule itself is the owner's to set."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from tuition.accounts.admin import TrainingAccountAdmin
from tuition.core.admin_support import ReadableAmountsMixin, actor_of
from tuition.core.display import money, when

from . import services
from .models import RefillFiring, RefillRule


def describe(rule: RefillRule) -> str:
    if rule.kind == RefillRule.Kind.THRESHOLD:
        return f"Below {money(rule.threshold, rule.unit)}, buy {money(rule.amount, rule.unit)}"
    return f"{money(rule.amount, rule.unit)} on the first of every month"


def status(rule: RefillRule) -> str:
    if rule.deleted_at is not None:
        return f"Removed {when(rule.deleted_at)}"
    if rule.is_paused:
        return f"{rule.get_pause_reason_display()} ({when(rule.paused_at)})"
    if rule.kind == RefillRule.Kind.THRESHOLD and not rule.armed:
        return "Active (bought for this drop; re-arms at the threshold)"
    return "Active"


def payment(rule: RefillRule) -> str:
    if rule.provider == RefillRule.Provider.INVOICE:
        return "Invoice"
    return f"Card ending {rule.card_last4}"


def order_link(firing: RefillFiring) -> str:
    order = firing.order
    if order is None:
        return "—"
    url = reverse("admin:checkout_order_change", args=[order.pk])
    return format_html('<a href="{}">{}</a>', url, order.number)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class RefillRuleInline(_ReadOnlyInline):
    model = RefillRule
    verbose_name_plural = "automatic refills"
    fields = readonly_fields = ("unit", "rule", "pay_by", "state", "set_by")

    @admin.display(description="rule")
    def rule(self, obj: RefillRule) -> str:
        return f"{obj.get_kind_display()}: {describe(obj)}"

    @admin.display(description="pay by")
    def pay_by(self, obj: RefillRule) -> str:
        return payment(obj)

    @admin.display(description="status")
    def state(self, obj: RefillRule) -> str:
        return status(obj)

    @admin.display(description="set by")
    def set_by(self, obj: RefillRule) -> str:
        return f"{obj.actor}, {when(obj.updated_at)}"


class RefillFiringInline(_ReadOnlyInline):
    model = RefillFiring
    fk_name = "account"
    verbose_name_plural = "automatic refills bought"
    fields = readonly_fields = ("fired", "unit", "trigger", "outcome", "bought", "order")
    show_change_link = False

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("unit", "order", "rule")

    @admin.display(description="when")
    def fired(self, obj: RefillFiring) -> str:
        return when(obj.fired_at)

    @admin.display(description="trigger")
    def trigger(self, obj: RefillFiring) -> str:
        if obj.key is None:
            return "card declined (rule paused)"
        kind, _, period = obj.key.partition(":")
        return f"threshold crossing {period}" if kind == "threshold" else f"allowance {period}"

    @admin.display(description="amount")
    def bought(self, obj: RefillFiring) -> str:
        return money(obj.amount, obj.unit)

    @admin.display(description="order")
    def order(self, obj: RefillFiring) -> str:
        return order_link(obj)


class RuleFiringInline(RefillFiringInline):
    fk_name = "rule"


@admin.register(RefillRule)
class RefillRuleAdmin(ReadableAmountsMixin, admin.ModelAdmin):
    list_display = ["account", "unit", "kind", "rule", "pay_by", "state", "updated_at_when"]
    list_filter = ["kind", "pause_reason", "provider", "unit"]
    search_fields = ["account__name", "account__external_id"]
    list_select_related = ["account", "unit"]
    time_fields = ("updated_at", "created_at", "paused_at", "deleted_at")
    fields = readonly_fields = (
        "account",
        "unit",
        "kind",
        "rule",
        "pay_by",
        "state",
        "firings",
        "created_at",
        "updated_at",
        "actor",
    )
    inlines = [RuleFiringInline]
    actions = ["pause", "resume"]

    @admin.display(description="rule")
    def rule(self, obj: RefillRule) -> str:
        return describe(obj)

    @admin.display(description="pay by")
    def pay_by(self, obj: RefillRule) -> str:
        return payment(obj)

    @admin.display(description="status")
    def state(self, obj: RefillRule) -> str:
        return status(obj)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def _change(self, request, queryset, change, done: str):  # type: ignore[no-untyped-def]
        count = 0
        for rule in queryset.filter(deleted_at__isnull=True):
            change(rule_id=rule.pk, actor=actor_of(request))
            count += 1
        self.message_user(request, f"{count} automatic refill(s) {done}.", messages.SUCCESS)

    @admin.action(description="Pause the selected automatic refills", permissions=["change"])
    def pause(self, request, queryset):  # type: ignore[no-untyped-def]
        self._change(request, queryset, services.pause_rule, "paused")

    @admin.action(description="Resume the selected automatic refills", permissions=["change"])
    def resume(self, request, queryset):  # type: ignore[no-untyped-def]
        self._change(request, queryset, services.resume_rule, "resumed")


# The account's staff page shows its rules and what they bought.
TrainingAccountAdmin.inlines = [*TrainingAccountAdmin.inlines, RefillRuleInline, RefillFiringInline]
