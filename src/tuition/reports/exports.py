"""Building export files: the worker's task and the build step it runs."""

import tempfile

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task, task_backends
from django_tasks_db.backend import DatabaseBackend

from tuition.core import clock
from tuition.core.actors import Actor
from tuition.core.audit import record_change
from tuition.core.errors import ValidationError
from tuition.core.transactions import use_case

from . import runner, writers
from .errors import ExportNotFoundError
from .models import ReportExport


@task()
def build_report_export(*, export_id: int) -> str:
    return build_export(export_id=export_id, actor=Actor.for_job("build_report_export")).status


def enqueue_build(export_id: int) -> None:
    """Hand the export to the worker: in this transaction with the database task backend (the
    task row commits with the export row), after commit with any other backend."""
    if isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        build_report_export.enqueue(export_id=export_id)
    else:
        transaction.on_commit(lambda: build_report_export.enqueue(export_id=export_id))


def build_export(*, export_id: int, actor: Actor) -> ReportExport:
    """Build the file of a pending export (the worker calls this). Claims the export with a
    guarded update so two workers never build the same one; the file is written outside any
    transaction; the export ends `ready` or `failed` with the reason.

    Raises:
        ExportNotFoundError: no such export.
    """
    export = ReportExport.objects.filter(pk=export_id).first()
    if export is None:
        raise ExportNotFoundError()
    claimed = ReportExport.objects.filter(pk=export_id, status=ReportExport.Status.PENDING).update(
        status=ReportExport.Status.RUNNING
    )
    if not claimed:
        return export
    try:
        request = runner.prepare(
            report_type=export.report_type,
            columns=export.columns,
            filters=export.filters,
            format=export.format,
        )
        with tempfile.TemporaryFile() as spool:
            if request.format == "xlsx":
                count = writers.write_xlsx(
                    request.columns, runner.rows(request), spool, title=request.report.label
                )
            else:
                count = 0

                def counted(n: int) -> None:
                    nonlocal count
                    count = n

                writers.write_csv(request.columns, runner.rows(request), spool, counted)
            spool.seek(0)
            stored = default_storage.save(f"reports/{export.pk}-{export.filename}", File(spool))
    except ValidationError as exc:
        _finish(export_id, actor=actor, status=ReportExport.Status.FAILED, error=exc.message[:500])
    except Exception as exc:  # the worker must record the failure, whatever it was
        _finish(export_id, actor=actor, status=ReportExport.Status.FAILED, error=type(exc).__name__)
        raise
    else:
        _finish(
            export_id, actor=actor, status=ReportExport.Status.READY, file=stored, row_count=count
        )
    return ReportExport.objects.get(pk=export_id)


@use_case
def _finish(
    export_id: int,
    *,
    actor: Actor,
    status: str,
    error: str = "",
    file: str = "",
    row_count: int | None = None,
) -> None:
    ReportExport.objects.filter(pk=export_id).update(
        status=status, error=error, file=file, row_count=row_count, finished_at=clock.now()
    )
    verb = "export built" if status == ReportExport.Status.READY else "export failed"
    summary = f"{row_count} rows" if row_count is not None else error[:100]
    record_change(
        actor=actor,
        verb=verb,
        object_type="reports.reportexport",
        object_id=export_id,
        summary=summary,
    )
