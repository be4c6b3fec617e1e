"""Files an email carries, by event kind. The part of the product that owns the documents
registers their builder when it starts (checkout: a registration's receipt and invoice), so
notifications, which every part records events into, imports none of them."""

from collections.abc import Callable

from .models import NotificationEvent

Attachment = tuple[str, bytes]  # filename, PDF content
Builder = Callable[[NotificationEvent], list[Attachment]]

_builders: dict[str, Builder] = {}


def register(kind: str, builder: Builder) -> None:
    _builders[kind] = builder


def attachments_for(event: NotificationEvent) -> list[Attachment]:
    """The files for this event, in the active language (none for most kinds)."""
    builder = _builders.get(event.kind)
    return builder(event) if builder is not None else []
