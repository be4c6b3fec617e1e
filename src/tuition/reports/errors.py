from django.utils.translation import gettext_lazy as _

from tuition.core.errors import ConflictError, NotFoundError


class SavedReportNotFoundError(NotFoundError):
    message = _("No such saved report.")


class ExportNotFoundError(NotFoundError):
    message = _("No such export.")


class ExportNotReadyError(ConflictError):
    code = "export_not_ready"
    message = _("The export is not ready yet.")
