"""Reads the checkout makes for every request, compiled once and run again with new values.

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

With the setting TUITION_CHECK_REUSED_QUERIES (on in the test suite) every call also builds
and compiles its query the usual way and checks that the SQL and parameters are the same.
"""

import copy
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

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


def _stand_in(kind: type) -> Any:
    if issubclass(kind, bool) or not issubclass(kind, (str, int, datetime)):
        raise ReusedQueryError(f"a value must be a string, an integer or a datetime, not {kind}")
    with _stand_in_lock:
        n = next(_stand_in_numbers)
    if issubclass(kind, str):
        return f"~reused-{n}~"
    if issubclass(kind, int):
        return 7_319_000_000_000 + n
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
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connection  # this thread's connection, not the compiling one's
        compiler.as_sql = lambda *args, **kw: (compiled.sql, params)  # type: ignore[method-assign]
        queryset = compiled.queryset.all()
        queryset.query.get_compiler = (  # type: ignore[method-assign]
            lambda *args, **kw: compiler
        )
        return list(queryset)

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


def _check(queryset: QuerySet, using: str, sql: str, params: tuple[Any, ...]) -> None:
    expected_sql, expected_params = queryset.query.get_compiler(using=using).as_sql()
    if (expected_sql, tuple(expected_params)) != (sql, params):
        raise ReusedQueryError(
            f"a reused query differs from its fresh compilation:\n{sql}\n{params}\n"
            f"!=\n{expected_sql}\n{tuple(expected_params)}"
        )
