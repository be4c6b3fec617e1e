"""A confirmed registration's receipt and invoice, attached to its email as PDF."""

from tuition.notifications.models import NotificationEvent

from .document_content import document_for
from .models import Order
from .pdf import render_pdf


def registration_documents(event: NotificationEvent) -> list[tuple[str, bytes]]:
    """The receipt and invoice of the event's order, as PDF in the active language. They are
    numbered in the same transaction as the event, so they exist by the time mail is sent."""
    if not event.data.get("order_id"):
        return []
    order = (
        Order.objects.select_related("unit", "learner", "account", "session")
        .filter(pk=event.data["order_id"])
        .first()
    )
    if order is None:
        return []
    files = []
    for kind in ("receipt", "invoice"):
        doc = document_for(order, kind)
        if doc is not None:
            files.append((doc.filename, render_pdf(doc)))
    return files
