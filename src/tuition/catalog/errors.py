"""Refusals about the catalog and sessions (SPEC §4)."""

from tuition.core.errors import ConflictError, UnprocessableError


class SessionRequiredError(UnprocessableError):
    code = "session_required"
    message = "Choose a session (date) for this activity."


class SessionFullError(ConflictError):
    code = "session_full"
    message = "This session is full."


class SessionStartedError(ConflictError):
    code = "session_started"
    message = "This session has already started."
