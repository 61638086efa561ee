"""Statements written out once, for the paths every call or every transfer takes.

peewee rebuilds a statement's text from its expression tree on every call,
which on the hot paths costs more CPU than the database spends running the
statement. Here the text is made once per shape and cached; each call only
binds its values. Statements use `?` placeholders (rewritten to `%s` for
psycopg2) and plain SQL both databases speak, so one text serves both.
Everything else in the store keeps using peewee queries.

On PostgreSQL each text is also a prepared statement of the connection
(PREPARE once, then EXECUTE), so the database parses and plans it once per
connection instead of once per call. Prepared statements belong to the
session, survive a rolled-back transaction and go with the connection, so a
connection the pool replaces starts with none.

Rows read here become the same peewee model instances a query would give
(values converted by the fields' `python_value`), and rows written here get
each value through the field's `db_value`, so the two paths agree on what a
column holds.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import peewee

from server.store import db
from server.store.db import database, is_postgres

M = TypeVar("M", bound=peewee.Model)


# psycopg2 connection -> {statement text: prepared statement name}
_prepared: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()
_prepared_lock = threading.Lock()


@functools.lru_cache(maxsize=1024)
def _numbered(text: str) -> tuple[str, int]:
    """`?` placeholders as PostgreSQL's $1, $2, ...; and how many there are."""
    assert "%" not in text, "a literal % would clash with psycopg2's placeholders"
    pieces = text.split("?")
    numbered = pieces[0] + "".join(f"${i}{piece}" for i, piece in enumerate(pieces[1:], 1))
    return numbered, len(pieces) - 1


# Statements whose text depends on the request (history filters: which
# filters, how many values each) have many shapes; past this many a connection
# runs new shapes unprepared rather than holding a plan for each.
PREPARED_MAX = 200


def _prepared_name(connection: Any, text: str) -> str | None:
    names = _prepared.get(connection)
    if names is None:
        with _prepared_lock:
            names = _prepared.setdefault(connection, {})
    name = names.get(text)
    if name is None:
        if len(names) >= PREPARED_MAX:
            return None
        name = f"bo_{len(names) + 1}"
        numbered, _ = _numbered(text)
        # Through peewee's wrapper, as every other statement: a connection the
        # server closed raises peewee.OperationalError (answered UNAVAILABLE),
        # not psycopg2's own (which no handler knows: a 500).
        with peewee.__exception_wrapper__, connection.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute(f"PREPARE {name} AS {numbered}")
        names[text] = name
    return name


@functools.lru_cache(maxsize=1024)
def _execute_text(name: str, count: int) -> str:
    return f"EXECUTE {name} ({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"


def _postgres_text(text: str, values: tuple[Any, ...]) -> str:
    """What PostgreSQL is sent for `text`: EXECUTE of its prepared statement,
    or the text itself once the connection holds PREPARED_MAX shapes."""
    _, count = _numbered(text)
    assert count == len(values), f"{count} placeholders, {len(values)} values"
    name = _prepared_name(database.connection(), text)
    return _plain_text(text) if name is None else _execute_text(name, count)


def execute(text: str, params: Sequence[Any] = ()) -> Any:
    """Runs one statement; returns the DB-API cursor."""
    values = tuple(params)
    target = database.obj  # the proxy's target, without its per-call lookup
    if not isinstance(target, peewee.PostgresqlDatabase):
        return target.execute_sql(text, values)
    return target.execute_sql(_postgres_text(text, values), values)


def defer(text: str, params: Sequence[Any] = ()) -> None:
    """Runs one write whose result nobody reads; on PostgreSQL it travels with
    the transaction's next statement or its COMMIT (server.store.db)."""
    values = tuple(params)
    if not is_postgres():
        database.execute_sql(text, values)
        return
    db.defer(_postgres_text(text, values), values)


@functools.lru_cache(maxsize=1024)
def _plain_text(text: str) -> str:
    return text.replace("?", "%s")


def scalar(text: str, params: Sequence[Any] = ()) -> Any:
    row = execute(text, params).fetchone()
    return None if row is None else row[0]


def marks(count: int) -> str:
    """`?, ?, ?` for `count` values."""
    return ", ".join("?" * count)


# Field types whose python_value gives back what psycopg2 already returns
# (str, int, bool, naive datetime): on PostgreSQL their columns are taken as
# read. Everything else (and every column on SQLite, which stores datetimes
# as text) goes through the field's python_value.
_AS_READ_ON_POSTGRES = frozenset(
    cls.python_value
    for cls in (
        peewee.TextField,
        peewee.IntegerField,
        peewee.BigIntegerField,
        peewee.AutoField,
        peewee.BigAutoField,
        peewee.BooleanField,
        peewee.DateTimeField,
    )
)


@functools.lru_cache(maxsize=128)
def _readers(
    model: type[peewee.Model], postgres: bool
) -> tuple[tuple[str, ...], tuple[tuple[str, Callable[[Any], Any]], ...]]:
    """The model's field names, and (name, python_value) of those to convert."""
    fields = model._meta.sorted_fields
    convert = tuple(
        (f.name, f.python_value)
        for f in fields
        if not (postgres and type(f).python_value in _AS_READ_ON_POSTGRES)
    )
    return tuple(f.name for f in fields), convert


@functools.lru_cache(maxsize=64)
def column_list(model: type[peewee.Model], alias: str = "") -> str:
    """Every mapped column of `model`, in field order (what `rows` expects)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{f.column_name}"' for f in model._meta.sorted_fields)


def _instance(model: type[peewee.Model], readers: Any, values: Sequence[Any]) -> Any:
    names, convert = readers
    data = dict(zip(names, values, strict=True))
    for name, read in convert:
        data[name] = read(data[name])
    instance = model(__no_default__=1)
    instance.__data__ = data
    return instance


def joined_rows(
    models: Sequence[type[peewee.Model]], text: str, params: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """One instance of each of `models` per row, from a statement selecting
    `column_list(model)` of each, in that order."""
    spans = []
    start = 0
    for model in models:
        readers = _readers(model, is_postgres())
        width = len(readers[0])
        spans.append((model, readers, start, start + width))
        start += width
    return [
        tuple(_instance(model, readers, values[a:b]) for model, readers, a, b in spans)
        for values in execute(text, params).fetchall()
    ]


def rows(model: type[M], text: str, params: Sequence[Any] = ()) -> list[M]:
    """Model instances from a statement that selects `column_list(model)` first."""
    return instances(model, execute(text, params).fetchall())


def instances(model: type[M], fetched: Sequence[Sequence[Any]]) -> list[M]:
    """Model instances from fetched rows that hold `column_list(model)` first."""
    readers = _readers(model, is_postgres())
    width = len(readers[0])
    return [_instance(model, readers, values[:width]) for values in fetched]


@functools.lru_cache(maxsize=256)
def _insert_text(model: type[peewee.Model], names: tuple[str, ...], count: int) -> str:
    fields = model._meta.fields
    columns = ", ".join(f'"{fields[name].column_name}"' for name in names)
    one = f"({marks(len(names))})"
    return f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ' + ", ".join([one] * count)


# Field types (exactly these, not subclasses) whose db_value gives back None
# and values of the paired type unchanged: such values are bound as they are.
_WRITTEN_AS_IS: dict[type[peewee.Field], type] = {
    peewee.TextField: str,
    peewee.CharField: str,
    peewee.IntegerField: int,
    peewee.BigIntegerField: int,
    peewee.AutoField: int,
    peewee.BigAutoField: int,
    peewee.DateTimeField: datetime,
}


@functools.lru_cache(maxsize=256)
def _writers(
    model: type[peewee.Model], names: tuple[str, ...]
) -> tuple[tuple[str, type | None, Callable[[Any], Any]], ...]:
    """(name, the type bound as it is or None, db_value) of each field in `names`."""
    fields = model._meta.fields
    return tuple(
        (name, _WRITTEN_AS_IS.get(type(fields[name])), fields[name].db_value) for name in names
    )


def insert(
    model: type[peewee.Model], records: Iterable[dict[str, Any]], *, deferred: bool = False
) -> None:
    """One INSERT of every record (all with the same keys: field names).

    `deferred`: nobody handles its failure on the spot (`defer`)."""
    batch = list(records)
    if not batch:
        return
    names = tuple(batch[0])
    writers = _writers(model, names)
    params: list[Any] = []
    for record in batch:
        assert tuple(record) == names, "records of one insert share their fields"
        for name, kept, write in writers:
            value = record[name]
            if kept is None or not (value is None or type(value) is kept):
                value = write(value)
            params.append(value)
    (defer if deferred else execute)(_insert_text(model, names, len(batch)), params)
