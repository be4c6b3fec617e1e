"""Writes sent to the database together, in one round trip (PostgreSQL's pipeline mode).

Under a hot lock every round trip counts twice: the lock holder waits for the answer, then
waits for a CPU again while everyone else waits for the lock. A use case that writes several
rows under a lock sends them in one batch instead:

    keys = lock_wallet(..., keys_for=(Transfer, Order))   # keys drawn with the lock
    with one_round_trip():
        insert(Transfer(pk=keys[0], ...))                   # sent, not waited for
        insert(Order(pk=keys[1], transfer_id=keys[0], ...))
    # here every statement has come back, and every check on their results has run

Rows that name each other need their keys before they are written: `key_columns` draws them
from the tables' own sequences in a statement the use case makes anyway. A statement whose
result matters (a guarded update's row count, a RETURNING key) is run with `execute(..., then=)`:
`then` sees its cursor once the batch is back, and may raise, which rolls the transaction back.
A read inside the block works too, but waits for everything sent before it.

Elsewhere (SQLite) `one_round_trip` changes nothing: each statement runs and is checked at once.
"""

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db import connections
from django.db.models import Model

Check = Callable[[Any], None]


@contextlib.contextmanager
def one_round_trip(using: str = "default") -> Iterator[None]:
    """Send the statements of the block together (nested blocks join the outer one); the
    `then` checks of `execute` run once they are all back. A database error of any of them is
    raised at the end of the block, as Django's error (e.g. `IntegrityError`)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or _waiting(connection) is not None:
        yield
        return
    connection.ensure_connection()
    waiting: list[tuple[Any, Check | None]] = []
    connection.tuition_round_trip = waiting  # type: ignore[attr-defined]
    try:
        with connection.wrap_database_errors, connection.connection.pipeline():
            yield
        for cursor, then in waiting:
            if then is not None:
                then(cursor)
    finally:
        connection.tuition_round_trip = None  # type: ignore[attr-defined]
        for cursor, _ in waiting:
            cursor.close()


def execute(
    sql: str, params: Sequence[Any], *, then: Check | None = None, using: str = "default"
) -> None:
    """Run one statement; `then(cursor)` sees its result (row count, rows): at once, or inside
    `one_round_trip` once the whole batch is back."""
    connection = connections[using]
    waiting = _waiting(connection)
    if waiting is not None:
        cursor = _batch_cursor(connection)
        cursor.execute(sql, params)
        waiting.append((cursor, then))
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if then is not None:
            then(cursor)


class Rows:
    """Where a read sent ahead leaves its rows: `then=rows.keep`, read `rows.rows` once the
    batch is back (a read sent again replaces them)."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def keep(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows


def key_columns(models: Sequence[type[Model]], using: str = "default") -> list[str]:
    """SQL expressions that draw a new primary key for each model from its table's own
    sequence, to add to a statement the caller makes anyway; none where the database has no
    sequences to draw from (SQLite: the keys come back from each insert instead)."""
    if connections[using].vendor != "postgresql":
        return []
    return [
        f"nextval(pg_get_serial_sequence('{m._meta.db_table}', '{m._meta.pk.column}'))"
        for m in models
    ]


def violated(error: BaseException, *constraints: str) -> bool:
    """Whether a database error broke one of these named constraints (a batch's error can
    come from any of its statements). SQLite does not name them: there, statements run one at
    a time, and their callers catch their own errors."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) in constraints


def _batch_cursor(connection: Any) -> Any:
    """A cursor for one statement of a batch. Django's cursor wrapper costs about 35 µs of CPU
    per statement, a tenth of a debit's time under the wallet lock, and in a batch it adds
    nothing: the block already turns driver errors into Django's. So the driver's own cursor
    is used, unless someone watches the statements (query logging, execute wrappers), who
    must see every one."""
    if connection.queries_logged or connection.execute_wrappers:
        return connection.cursor()
    connection.validate_no_broken_transaction()
    return connection.connection.cursor()


def _waiting(connection: Any) -> list[tuple[Any, Check | None]] | None:
    return getattr(connection, "tuition_round_trip", None)
