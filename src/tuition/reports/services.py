"""Writes of the reports app: saved definitions and background exports.

Reports only read the other apps; these functions write only this app's own tables.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage

from tuition.core import clock
from tuition.core.actors import Actor
from tuition.core.audit import record_change
from tuition.core.errors import ValidationError
from tuition.core.transactions import use_case

from . import runner
from .errors import SavedReportNotFoundError
from .exports import build_export as build_export  # the worker's step, kept here by name
from .exports import enqueue_build
from .models import ReportExport, SavedReport


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or "\x00" in name:
        raise ValidationError("name must be 1 to 200 characters.", details={"field": "name"})
    return name.strip()


@use_case
def save_report(
    *,
    name: str,
    report_type: str,
    columns: Sequence[str] | None,
    filters: Mapping[str, Any] | None,
    actor: Actor,
    owner: Any = None,
) -> SavedReport:
    """Save a report definition to run again.

    Raises:
        ValidationError: a bad name, type, column or filter.
    """
    request = runner.prepare(report_type=report_type, columns=columns, filters=filters)
    now = clock.now()
    saved = SavedReport.objects.create(
        name=_name(name),
        report_type=request.report.key,
        columns=request.column_keys,
        filters=request.raw_filters,
        owner=owner if getattr(owner, "pk", None) else None,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    record_change(actor=actor, verb="saved", obj=saved, summary=saved.report_type)
    return saved


@use_case
def update_saved_report(
    *,
    report_id: int,
    actor: Actor,
    name: str | None = None,
    columns: Sequence[str] | None = None,
    filters: Mapping[str, Any] | None = None,
) -> SavedReport:
    """Change a saved definition's name, columns or filters (its type stays).

    Raises:
        SavedReportNotFoundError: no such saved report.
        ValidationError: a bad name, column or filter.
    """
    saved = SavedReport.objects.select_for_update().filter(pk=report_id).first()
    if saved is None:
        raise SavedReportNotFoundError()
    request = runner.prepare(
        report_type=saved.report_type,
        columns=saved.columns if columns is None else columns,
        filters=saved.filters if filters is None else filters,
    )
    if name is not None:
        saved.name = _name(name)
    saved.columns = request.column_keys
    saved.filters = request.raw_filters
    saved.updated_at = clock.now()
    saved.save(update_fields=["name", "columns", "filters", "updated_at"])
    record_change(actor=actor, verb="changed", obj=saved, summary=saved.report_type)
    return saved


@use_case
def delete_saved_report(*, report_id: int, actor: Actor) -> None:
    """Raises: SavedReportNotFoundError: no such saved report."""
    deleted, _ = SavedReport.objects.filter(pk=report_id).delete()
    if not deleted:
        raise SavedReportNotFoundError()
    record_change(
        actor=actor, verb="deleted", object_type="reports.savedreport", object_id=report_id
    )


@use_case
def request_export(
    *,
    report_type: str,
    columns: Sequence[str] | None,
    filters: Mapping[str, Any] | None,
    format: str,
    actor: Actor,
    user: Any = None,
) -> ReportExport:
    """Ask the worker to build an export file (large XLSX); download it when ready.

    With the database task backend the task row commits with the export row; any other
    backend gets the task after commit, so nothing is built inside this transaction.

    Raises:
        ValidationError: a bad type, column, filter or format.
    """
    request = runner.prepare(
        report_type=report_type, columns=columns, filters=filters, format=format
    )
    export = ReportExport.objects.create(
        report_type=request.report.key,
        columns=request.column_keys,
        filters=request.raw_filters,
        format=request.format,
        filename=request.filename(),
        requested_by=user if getattr(user, "pk", None) else None,
        actor=actor,
        created_at=clock.now(),
    )
    record_change(
        actor=actor,
        verb="export requested",
        obj=export,
        summary=f"{export.report_type}, {export.format}",
    )
    enqueue_build(export.pk)
    return export


@use_case
def note_export_download(*, export_id: int, actor: Actor) -> None:
    """Record that someone took a copy of an export file (the audit trail shows who)."""
    record_change(
        actor=actor,
        verb="export downloaded",
        object_type="reports.reportexport",
        object_id=export_id,
    )


def retention_days() -> int:
    return int(settings.TUITION.get("EXPORT_RETENTION_DAYS", 30))


def remove_old_exports(*, actor: Actor, at: datetime | None = None) -> int:
    """Delete export files (and their records) finished more than the retention period ago;
    returns how many. Each file is removed before its record, outside any transaction, so a
    failure leaves at most a record whose file is gone, which the next run removes.

    Raises:
        Nothing of its own: a storage error stops the run, which the next one resumes.
    """
    at = at or clock.now()
    cutoff = at - timedelta(days=retention_days())
    old = ReportExport.objects.filter(
        status__in=[ReportExport.Status.READY, ReportExport.Status.FAILED],
        finished_at__lt=cutoff,
    ).values_list("pk", "file")
    removed = 0
    for export_id, name in list(old):
        if name:
            default_storage.delete(name)
        removed += _forget_export(export_id=export_id, actor=actor)
    return removed


@use_case
def _forget_export(*, export_id: int, actor: Actor) -> int:
    deleted, _ = ReportExport.objects.filter(pk=export_id).delete()
    if deleted:
        record_change(
            actor=actor,
            verb="export removed",
            object_type="reports.reportexport",
            object_id=export_id,
            summary=f"older than {retention_days()} days",
        )
    return 1 if deleted else 0
