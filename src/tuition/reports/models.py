"""Saved report definitions and exports built by the worker.

A definition is only the user's choice (type, columns in order, filters); what a column means
lives in tuition.reports.registry. An export is a file built in the background for large XLSX
downloads, kept under MEDIA_ROOT until someone downloads it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportType(models.TextChoices):
    CODES = "codes", _("Coupons and Training Credits")
    PURCHASES = "purchases", _("Purchases")
    USAGE = "usage", _("Usage by team member")
    LEDGER = "ledger", _("Ledger")
    LIABILITY = "liability", _("Balances and liability")


class ReportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel (XLSX)")


class SavedReport(models.Model):
    """A report definition staff (or an integration) saved to run again."""

    name = models.CharField(max_length=200)
    report_type = models.CharField(max_length=20, choices=ReportType.choices)
    columns = models.JSONField(default=list)
    filters = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="saved_reports",
    )
    created_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports (builder)")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ReportExport(models.Model):
    """One requested export file, built by the worker (large XLSX) and downloaded when ready."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the worker")
        RUNNING = "running", _("Being built")
        READY = "ready", _("Ready to download")
        FAILED = "failed", _("Failed")

    report_type = models.CharField(max_length=20, choices=ReportType.choices)
    columns = models.JSONField(default=list)
    filters = models.JSONField(default=dict, blank=True)
    format = models.CharField(max_length=8, choices=ReportFormat.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to="reports/", blank=True, default="")
    filename = models.CharField(max_length=200)
    row_count = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report export")
        verbose_name_plural = _("report exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename
