"""Staff views of the catalog (the admin helper may extend these)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Activity, Group, RefillPrice, Session, TokenPrice


class TokenPriceInline(admin.TabularInline):
    model = TokenPrice
    extra = 0
    fk_name = "activity"


class GroupTokenPriceInline(admin.TabularInline):
    model = TokenPrice
    extra = 0
    fk_name = "group"


@admin.register(Activity)
class ActivityAdmin(SimpleHistoryAdmin):
    list_display = ["title", "kind", "price", "is_dated", "refund_window_days", "is_published"]
    inlines = [TokenPriceInline]


@admin.register(Group)
class GroupAdmin(SimpleHistoryAdmin):
    list_display = ["title", "price", "refund_window_days", "is_published"]
    filter_horizontal = ["activities"]
    inlines = [GroupTokenPriceInline]


@admin.register(Session)
class SessionAdmin(SimpleHistoryAdmin):
    list_display = ["activity", "starts_at", "ends_at", "timezone", "location", "capacity",
                    "booked"]
    readonly_fields = ["booked"]


admin.site.register(RefillPrice, SimpleHistoryAdmin)
