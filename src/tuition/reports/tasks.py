"""Background work of the reports app (django.tasks), defined with the step it runs."""

from .exports import build_report_export  # noqa: F401 - tasks queued before it moved name it here
