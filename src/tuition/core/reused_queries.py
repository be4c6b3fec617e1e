"""Reads and inserts the checkout makes for every request, compiled once, run with new values.

Building and compiling an ORM query costs about a millisecond of CPU, more than PostgreSQL
takes to run most of the checkout's reads; a checkout makes seven of them. A `ReusedQuery`
keeps the ORM as the one place a query is written: the first call builds the queryset with
stand-in values, compiles it, and notes where each value lands among the parameters; later
calls run the same SQL with their own values and turn rows into objects with the same
compiler, as the queryset would.

The query names its values: arguments that only ever land in the SQL as parameters (an id, a
digest, a moment), never steer the builder. Every other argument is shape, and so is a value
that is None (it turns `= %s` into `IS NULL`): each shape gets a compilation of its own. A
builder that does more with a value than compare it (slices it, adds to it, formats it into a
string) fails loudly at its first call: the stand-in would not appear as a parameter.

`insert(obj)` is `obj.save()` for a new row of a plain model (no save() of its own, or one
that only refuses updates and says so with `save_only_guards_updates`; no signal receivers; a
database-made primary key), `insert_many(objs)` is `bulk_create(objs)`: the INSERT is compiled
once per model, row count and database, and each call only prepares the rows' values.

With the setting TUITION_CHECK_REUSED_QUERIES (on in the test suite) every call also builds
and compiles its query the usual way and checks that the SQL and parameters are the same.
"""

import copy
import functools
import itertools
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery
from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler

from . import round_trips

_stand_in_numbers = itertools.count(1)
_stand_in_lock = threading.Lock()


class ReusedQueryError(Exception):
    """A builder this module cannot reuse safely (a programming error, found at first call)."""


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet  # built with the stand-ins; never evaluated, only copied
    compiler: SQLCompiler  # after as_sql(): knows the columns and how to read rows
    sql: str
    params: tuple[tuple[str | None, Any], ...]  # (value's name, None) or (None, constant)
    # How each connection (one per thread) turns the columns into Python values.
    converters: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary)


def _stand_in(kind: type) -> Any:
    if issubclass(kind, bool) or not issubclass(kind, (str, int, datetime)):
        raise ReusedQueryError(f"a value must be a string, an integer or a datetime, not {kind}")
    with _stand_in_lock:
        n = next(_stand_in_numbers)
    if issubclass(kind, str):
        return f"~reused-{n}~"
    if issubclass(kind, int):
        # Within a 32-bit column's range: the ORM refuses to compare one with a larger number.
        return 1_987_654_321 + n
    # Microseconds make it unique; a year no real value has keeps it apart from them.
    return datetime(1901, 1, 1, tzinfo=UTC) + timedelta(seconds=n, microseconds=n % 999_983 + 1)


class ReusedQuery:
    """A queryset built by `build(**kwargs)`, compiled once per shape and database; `values`:
    the arguments that are parameters of its SQL (strings, integers, datetimes)."""

    def __init__(self, build: Callable[..., QuerySet], *, values: tuple[str, ...]) -> None:
        self._build = build
        self._value_names = frozenset(values)
        self._compiled: dict[tuple[Any, ...], _Compiled] = {}

    def fetch(self, *, using: str = "default", **kwargs: Any) -> list[Any]:
        """What `list(build(**kwargs))` gives, without building or compiling it again."""
        compiled, params, converters = self._prepared(using, kwargs)
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connections[using]  # this thread's, not the compiling one's
        compiler.as_sql = lambda *args, **kw: (compiled.sql, params)  # type: ignore[method-assign]
        compiler.get_converters = lambda expressions: converters  # type: ignore[method-assign]
        queryset = compiled.queryset.all()
        queryset.query.get_compiler = (  # type: ignore[method-assign]
            lambda *args, **kw: compiler
        )
        return list(queryset)

    def send(
        self,
        then: Callable[[list[tuple[Any, ...]]], None],
        *,
        using: str = "default",
        **kwargs: Any,
    ) -> None:
        """Run the query of a `values_list()` builder as one statement of the current
        `round_trips.one_round_trip` (at once outside one): `then` gets its rows, as tuples of
        Python values, when they are back."""
        compiled, params, converters = self._prepared(using, kwargs)
        if not compiled.queryset.query.values_select:  # rows of models: `fetch` builds them
            raise ReusedQueryError("send() reads values_list() rows only")

        def rows_back(cursor: Any) -> None:
            rows = cursor.fetchall()
            if converters:
                compiler = copy.copy(compiled.compiler)
                compiler.connection = connections[using]
                rows = compiler.apply_converters(rows, converters)
            then([tuple(row) for row in rows])

        round_trips.execute(compiled.sql, params, then=rows_back, using=using)

    def _prepared(
        self, using: str, kwargs: dict[str, Any]
    ) -> tuple["_Compiled", tuple[Any, ...], dict[int, Any]]:
        """The compilation for this shape (made at its first call), this call's parameters,
        and the converters of this thread's connection."""
        values = {
            name: v for name, v in kwargs.items() if name in self._value_names and v is not None
        }
        shape = tuple(
            sorted((name, type(v).__name__ if name in values else v) for name, v in kwargs.items())
        )
        connection = connections[using]
        key = (using, connection.vendor, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(kwargs, values, using)
            self._compiled[key] = compiled
        params = tuple(
            _adapt(values[name], connection) if name is not None else constant
            for name, constant in compiled.params
        )
        if getattr(settings, "TUITION_CHECK_REUSED_QUERIES", False):
            _check(self._build(**kwargs), using, compiled.sql, params)
        converters = compiled.converters.get(connection)
        if converters is None:
            compiler = copy.copy(compiled.compiler)
            compiler.connection = connection
            converters = compiled.converters[connection] = compiler.get_converters(
                [s[0] for s in compiler.select[0 : compiler.col_count]]
            )
        return compiled, params, converters

    def _compile(self, kwargs: dict[str, Any], values: dict[str, Any], using: str) -> _Compiled:
        stand_ins = {name: _stand_in(type(v)) for name, v in values.items()}
        connection = connections[using]
        queryset = self._build(**{**kwargs, **stand_ins}).using(using)
        compiler = queryset.query.get_compiler(using=using)
        sql, raw_params = compiler.as_sql()
        by_param = {_adapt(v, connection): name for name, v in stand_ins.items()}
        params = tuple(
            (by_param[p], None) if _hashable(p) and p in by_param else (None, p) for p in raw_params
        )
        found = {name for name, _ in params if name is not None}
        for name, stand_in in stand_ins.items():
            if name not in found or str(stand_in) in sql:
                raise ReusedQueryError(
                    f"{name!r} does not reach the SQL as a parameter of its own; pass what "
                    "the query compares with, or make it shape (a bool, a tuple, None)."
                )
        return _Compiled(queryset, compiler, sql, params)


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _adapt(value: Any, connection: Any) -> Any:
    """A value as the ORM hands it to the driver (only datetimes differ between databases)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _comparable(statement: tuple[str, Any]) -> tuple[str, list[Any]]:
    # A driver's wrapper (psycopg's Jsonb) compares by identity: compare what it shows instead.
    sql, params = statement
    return sql, [_shown(p) for p in params]


def _shown(param: Any) -> Any:
    if isinstance(param, (list, tuple)):
        return [_shown(p) for p in param]
    return param if type(param).__eq__ is not object.__eq__ else repr(param)


def _check(queryset: QuerySet, using: str, sql: str, params: tuple[Any, ...]) -> None:
    expected_sql, expected_params = queryset.query.get_compiler(using=using).as_sql()
    if _comparable((expected_sql, expected_params)) != _comparable((sql, params)):
        raise ReusedQueryError(
            f"a reused query differs from its fresh compilation:\n{sql}\n{params}\n"
            f"!=\n{expected_sql}\n{tuple(expected_params)}"
        )


# Per model, row count, keys given or not, and database: the compiled INSERT and how its
# parameters are laid out ("rows": row after row; "columns": one array per column, PostgreSQL's
# UNNEST), or None for a model whose INSERT this module cannot reproduce (it then always goes
# the ORM's way).
_inserts: dict[tuple[type[Model], int, bool, str, str], tuple[str, str] | None] = {}


_FEW_ROWS = 8


def insert(obj: Model, *, using: str = "default") -> Model:
    """Save `obj` as a new row and give it its primary key, as `obj.save()` would."""
    model = type(obj)
    if (
        (model.save is not Model.save and not getattr(model, "save_only_guards_updates", False))
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
        or not _inserted([obj], using)
    ):
        obj.save(force_insert=True, using=using)
    return obj


def insert_many(objs: list[Model], *, using: str = "default") -> list[Model]:
    """Insert new rows of one model and give them their primary keys, as
    `Model.objects.bulk_create(objs)` would (no save(), no signals, like it)."""
    if objs and not _inserted(objs, using):
        type(objs[0])._base_manager.using(using).bulk_create(objs)
    return objs


def _inserted(objs: list[Model], using: str) -> bool:
    """Insert `objs` with a reused INSERT; False (nothing written) where that cannot be.
    Objects whose keys were drawn beforehand (all or none of them) are inserted with them and
    read nothing back; the others get theirs from RETURNING. Inside `one_round_trip` the
    statement is only sent, and the keys are set once the batch is back."""
    model = type(objs[0])
    meta = model._meta
    keyed = objs[0].pk is not None
    if (
        meta.parents
        or meta.order_with_respect_to
        or meta.db_returning_fields != [meta.pk]
        or any(type(obj) is not model or (obj.pk is not None) != keyed for obj in objs)
    ):
        return False
    connection = connections[using]
    fields = [
        f for f in meta.local_concrete_fields if not f.generated and (keyed or f is not meta.pk)
    ]
    rows = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="save")
        row = []
        for column in fields:
            value = column.pre_save(obj, add=True)
            if hasattr(value, "resolve_expression"):  # an expression: the ORM's own way
                return False
            row.append(column.get_db_prep_save(value, connection=connection))
        rows.append(row)
    key = (model, len(objs), keyed, using, connection.vendor)
    if key not in _inserts or getattr(settings, "TUITION_CHECK_REUSED_QUERIES", False):
        compiled = _compiled_insert(objs, fields, rows, using, returning=not keyed)
        if key in _inserts and _inserts[key] != compiled:
            raise ReusedQueryError(f"a reused insert differs: {_inserts[key]} != {compiled}")
        _inserts[key] = compiled
    compiled = _inserts[key]
    if compiled is None:
        return False
    sql, layout = compiled

    def take_keys(cursor: Any) -> None:
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            setattr(obj, meta.pk.attname, pk)

    params = _laid_out(rows, layout)
    round_trips.execute(sql, params, then=None if keyed else take_keys, using=using)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return True


def _compiled_insert(
    objs: list[Model], fields: list[Any], rows: list[list[Any]], using: str, *, returning: bool
) -> tuple[str, str] | None:
    """The ORM's INSERT of `objs` (returning their keys, or not), and how `rows` (their
    prepared values) make its parameters; None when they make them neither way."""
    query = InsertQuery(type(objs[0]))
    query.insert_values(fields, objs, raw=True)  # the values as pre_save() left them
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = [type(objs[0])._meta.pk] if returning else None
    if len(objs) <= _FEW_ROWS:
        # PostgreSQL's compiler sends several rows as one array per column (UNNEST), which
        # spares planning time; prepared once, there is none to spare, and a few rows are
        # cheaper to send as a VALUES list than to pack into arrays.
        compiler.assemble_as_sql = functools.partial(SQLInsertCompiler.assemble_as_sql, compiler)
    statements = compiler.as_sql()
    if len(statements) != 1:
        return None
    ((sql, params),) = statements
    shown = _comparable((sql, params))
    for layout in ("rows", "columns"):
        if shown == _comparable((sql, _laid_out(rows, layout))):
            return sql, layout
    return None


def _laid_out(rows: list[list[Any]], layout: str) -> list[Any]:
    if layout == "rows":
        return [value for row in rows for value in row]
    return [list(column) for column in zip(*rows, strict=True)]
