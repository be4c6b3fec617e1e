"""What other parts of the product do when the worker fans out recorded events, by event kind.
The part that cares registers its listener when it starts (automatic refills: check the
thresholds of the accounts that value left), so notifications, which every part records
events into, imports none of them. A listener runs inside the fan-out's transaction: what it
enqueues commits with the deliveries, exactly once."""

from collections.abc import Callable, Collection

from .models import NotificationEvent

Listener = Callable[[list[NotificationEvent]], None]

_listeners: list[tuple[frozenset[str], Listener]] = []


def listen(kinds: Collection[str], listener: Listener) -> None:
    """Call `listener` with the fanned-out events of these kinds (once per registration)."""
    if all(registered is not listener for _, registered in _listeners):
        _listeners.append((frozenset(kinds), listener))


def fanned_out(events: list[NotificationEvent]) -> None:
    for kinds, listener in _listeners:
        wanted = [event for event in events if event.kind in kinds]
        if wanted:
            listener(wanted)
