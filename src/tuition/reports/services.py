"""Writes of the reports app: saved definitions and background exports.

Reports only read the other apps; these functions write only this app's own tables.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from tuition.core import clock
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
    actor: str,
    owner: Any = None,
) -> SavedReport:
    """Save a report definition to run again.

    Raises:
        ValidationError: a bad name, type, column or filter.
    """
    request = runner.prepare(report_type=report_type, columns=columns, filters=filters)
    now = clock.now()
    return SavedReport.objects.create(
        name=_name(name),
        report_type=request.report.key,
        columns=request.column_keys,
        filters=request.raw_filters,
        owner=owner if getattr(owner, "pk", None) else None,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )


@use_case
def update_saved_report(
    *,
    report_id: int,
    actor: str,
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
    return saved


@use_case
def delete_saved_report(*, report_id: int, actor: str) -> None:
    """Raises: SavedReportNotFoundError: no such saved report."""
    deleted, _ = SavedReport.objects.filter(pk=report_id).delete()
    if not deleted:
        raise SavedReportNotFoundError()


@use_case
def request_export(
    *,
    report_type: str,
    columns: Sequence[str] | None,
    filters: Mapping[str, Any] | None,
    format: str,
    actor: str,
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
    enqueue_build(export.pk)
    return export
