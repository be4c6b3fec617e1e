"""Background work of the reports app (django.tasks), defined with the step it runs."""

from django.tasks import task

from tuition.core.actors import Actor

from . import services
from .exports import build_report_export  # noqa: F401 - tasks queued before it moved name it here


@task()
def remove_old_exports() -> int:
    return services.remove_old_exports(actor=Actor.for_job("remove_old_exports"))
