"""The kinds of change in the audit trail and the change histories, as people read them."""

from django.utils.text import capfirst
from django.utils.translation import pgettext_lazy

# The kinds of change as people read them. `AuditEvent.verb` stores the English word (it is
# data, filtered on); a verb not listed here is shown as stored.
VERB_LABELS = {
    "active": pgettext_lazy("audit change", "Active"),
    "adjusted": pgettext_lazy("audit change", "Adjusted"),
    "booked": pgettext_lazy("audit change", "Booked"),
    "cancelled": pgettext_lazy("audit change", "Cancelled"),
    "changed": pgettext_lazy("audit change", "Changed"),
    "code rotated": pgettext_lazy("audit change", "Code rotated"),
    "created": pgettext_lazy("audit change", "Created"),
    "credit deleted": pgettext_lazy("audit change", "Credit deleted"),
    "deleted": pgettext_lazy("audit change", "Deleted"),
    "edited": pgettext_lazy("audit change", "Edited"),
    "expiry changed": pgettext_lazy("audit change", "Expiry changed"),
    "export built": pgettext_lazy("audit change", "Export built"),
    "export downloaded": pgettext_lazy("audit change", "Export downloaded"),
    "export failed": pgettext_lazy("audit change", "Export failed"),
    "export removed": pgettext_lazy("audit change", "Export removed"),
    "export requested": pgettext_lazy("audit change", "Export requested"),
    "first session added": pgettext_lazy("audit change", "First session added"),
    "inactive": pgettext_lazy("audit change", "Inactive"),
    "issued": pgettext_lazy("audit change", "Issued"),
    "marked paid": pgettext_lazy("audit change", "Marked paid"),
    "refill ordered": pgettext_lazy("audit change", "Refill ordered"),
    "rescheduled": pgettext_lazy("audit change", "Rescheduled"),
    "revoked": pgettext_lazy("audit change", "Revoked"),
    "saved": pgettext_lazy("audit change", "Saved"),
    "secret rotated": pgettext_lazy("audit change", "Secret rotated"),
    "settings changed": pgettext_lazy("audit change", "Settings changed"),
    "unenrolled": pgettext_lazy("audit change", "Unenrolled"),
}


def verb_label(verb: str) -> str:
    """A stored verb as people read it ("export requested" -> "Export requested")."""
    label = VERB_LABELS.get(verb)
    return str(label) if label is not None else capfirst(verb)
