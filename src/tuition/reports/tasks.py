"""Background work of the reports app (django.tasks): thin wrappers around services."""

from django.tasks import task

from tuition.core.actors import Actor

from . import services


@task()
def build_report_export(*, export_id: int) -> str:
    return services.build_export(
        export_id=export_id, actor=Actor.for_job("build_report_export")
    ).status


@task()
def remove_old_exports() -> int:
    return services.remove_old_exports(actor=Actor.for_job("remove_old_exports"))
