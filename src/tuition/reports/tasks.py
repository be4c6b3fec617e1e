"""Background work of the reports app (django.tasks): thin wrappers around services."""

from django.tasks import task

from . import services


@task()
def build_report_export(*, export_id: int) -> str:
    return services.build_export(export_id=export_id, actor="system:worker").status
