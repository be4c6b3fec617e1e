"""Staff views of the ledger. Lots are changed only through the ledger services; transfers and
entries are read-only here, as everywhere."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Entry, Lot, Transfer, Unit


@admin.register(Unit)
class UnitAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "decimals", "expiry_days", "is_builtin", "is_active"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False
    fields = ["lot", "system_account", "amount"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["id", "account", "unit", "redeemable_value", "remaining", "expires_at",
                    "status", "source", "created_at"]
    list_filter = ["status", "unit", "source"]
    search_fields = ["external_id", "account__name"]
    list_select_related = ["account", "unit"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).filter(deleted_at__isnull=True)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "account", "unit", "amount", "created_at", "actor"]
    list_filter = ["kind", "unit"]
    search_fields = ["account__name", "actor", "reason"]
    list_select_related = ["account", "unit"]
    inlines = [EntryInline]
