"""The admin's way into reports: the "Reports" entry on the admin index opens the builder."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from .models import ReportExport, SavedReport


@admin.register(SavedReport)
class SavedReportAdmin(admin.ModelAdmin):
    """Listed on the admin index as "Reports"; its list is the report builder itself."""

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:  # type: ignore[no-untyped-def, override]
        return redirect("reports:builder")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ReportExport)
class ReportExportAdmin(admin.ModelAdmin):
    list_display = [
        "filename",
        "report_type",
        "format",
        "status",
        "row_count",
        "created_at",
        "actor",
    ]
    list_filter = ["status", "report_type", "format"]
    readonly_fields = [f.name for f in ReportExport._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
