"""The actor of the use case running now, for change history rows whose reason names none
(a record created with `objects.create`, a membership removed). Set by `use_case` from its
`actor=` argument; an inner use case with its own actor takes over until it returns."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[str | None] = ContextVar("tuition_actor", default=None)


@contextmanager
def acting_as(actor: object) -> Iterator[None]:
    if not isinstance(actor, str) or not actor:
        yield
        return
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)


def current_actor() -> str | None:
    return _current.get()
