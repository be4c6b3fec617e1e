from tuition.core.errors import ConflictError, NotFoundError


class SavedReportNotFoundError(NotFoundError):
    message = "No such saved report."


class ExportNotFoundError(NotFoundError):
    message = "No such export."


class ExportNotReadyError(ConflictError):
    code = "export_not_ready"
    message = "The export is not ready yet."
