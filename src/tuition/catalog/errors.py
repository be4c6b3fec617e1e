"""Refusals about the catalog and sessions (SPEC §4)."""

from django.utils.translation import gettext_lazy as _

from tuition.core.errors import ConflictError, UnprocessableError


class SessionRequiredError(UnprocessableError):
    code = "session_required"
    message = _("Choose a session (date) for this activity.")


class SessionFullError(ConflictError):
    code = "session_full"
    message = _("This session is full.")


class SessionStartedError(ConflictError):
    code = "session_started"
    message = _("This session has already started.")
