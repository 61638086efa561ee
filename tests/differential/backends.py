"""The databases a differential example runs on, and how each is reset fast.

Each database is migrated and seeded once (tests.differential.world); the
rows it then holds are remembered. Before an example, the tables that were
empty are emptied again and every remembered row that an example changed (an account's balance, the
hold) is written back; the sandbox clock is set to a second after world.START. A reset
takes a few milliseconds, where migrating takes seconds.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import peewee

from server.store import clock, migrations
from server.store import db as store_db
from tests.differential import world

# Written by the migrations, never by a movement: not part of a reset.
_KEPT = frozenset({"schema_migrations", "sqlite_sequence"})
FUNCTION_SWITCH = "BANK_TRANSFER_FUNCTION"


class Snapshot:
    """What a reset restores: the seeded rows, the tables left empty, and
    (SQLite) the triggers dropped while those are emptied again."""

    def __init__(self) -> None:
        self.seeded: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
        self.columns: dict[str, list[str]] = {}
        self.keys: dict[str, list[str]] = {}
        self.emptied: list[str] = []
        self.triggers: list[tuple[str, str]] = []

    def __repr__(self) -> str:  # what hypothesis prints of a failing example
        return f"Snapshot({len(self.seeded)} seeded tables, {len(self.emptied)} emptied)"


@dataclass(frozen=True)
class Backend:
    """One database, and how transfers are posted on it."""

    name: str  # sqlite, postgres-python, postgres-function
    database: peewee.Database
    snapshot: Snapshot
    # The value of BANK_TRANSFER_FUNCTION while this backend runs ("" leaves it unset).
    function_switch: str = ""

    @property
    def postgres(self) -> bool:
        return store_db.is_postgres(self.database)


def prepare(name: str, database: peewee.Database, function_switch: str = "") -> Backend:
    """Migrates and seeds `database`, and remembers what a reset restores."""
    store_db.bind(database)
    migrations.migrate(database)
    database.connect(reuse_if_open=True)
    with database.atomic():
        world.seed(world.START)
    snapshot = Snapshot()
    for table in database.get_tables():
        if table in _KEPT:
            continue
        columns = [column.name for column in database.get_columns(table)]
        keys = database.get_primary_keys(table) or columns
        snapshot.columns[table], snapshot.keys[table] = columns, keys
        rows = _rows(database, table, columns, keys)
        if rows:
            snapshot.seeded[table] = rows
        else:
            snapshot.emptied.append(table)
    backend = Backend(name, database, snapshot, function_switch)
    if not backend.postgres:
        snapshot.triggers = database.execute_sql(
            'SELECT "name", "sql" FROM sqlite_master WHERE "type" = \'trigger\''
        ).fetchall()
    return backend


def share(name: str, backend: Backend, function_switch: str) -> Backend:
    """The same database as `backend`, posting with another switch value."""
    return Backend(name, backend.database, backend.snapshot, function_switch)


def _rows(
    database: peewee.Database, table: str, columns: list[str], keys: list[str]
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    names = ", ".join(f'"{column}"' for column in columns)
    found = database.execute_sql(f'SELECT {names} FROM "{table}"').fetchall()
    positions = [columns.index(key) for key in keys]
    return {tuple(row[i] for i in positions): tuple(row) for row in found}


@contextlib.contextmanager
def active(backend: Backend) -> Iterator[None]:
    """Binds the store to `backend` with its switch set, freshly reset."""
    store_db.bind(backend.database)
    saved = os.environ.get(FUNCTION_SWITCH)
    if backend.function_switch:
        os.environ[FUNCTION_SWITCH] = backend.function_switch
    else:
        os.environ.pop(FUNCTION_SWITCH, None)
    try:
        reset(backend)
        yield
    finally:
        if saved is None:
            os.environ.pop(FUNCTION_SWITCH, None)
        else:
            os.environ[FUNCTION_SWITCH] = saved


def reset(backend: Backend) -> None:
    """Empties what the seed left empty, restores what it wrote, sets the clock."""
    database, snapshot = backend.database, backend.snapshot
    with database.atomic():
        # Neither foreign keys nor triggers (the zero-sum check) apply while
        # the tables are put back: the result is the seeded state again.
        if backend.postgres:
            database.execute_sql("SET LOCAL session_replication_role = replica")
        else:
            database.execute_sql("PRAGMA defer_foreign_keys = ON")
            for name, _ in snapshot.triggers:
                database.execute_sql(f'DROP TRIGGER "{name}"')
        for table in snapshot.emptied:
            database.execute_sql(f'DELETE FROM "{table}"')
        for _, text in snapshot.triggers:
            database.execute_sql(text)
        for table, seeded in snapshot.seeded.items():
            _restore(database, table, snapshot.columns[table], snapshot.keys[table], seeded)
        # The offset that puts the sandbox clock at START now, or less than a
        # second after (negative when the wall clock is past it).
        wall = datetime.now(UTC).replace(tzinfo=None)
        offset = math.ceil((world.START - wall).total_seconds())
        mark = database.param
        database.execute_sql(
            f'INSERT INTO "settings" ("key", "value") VALUES ({mark}, {mark})',
            (clock.OFFSET_KEY, str(offset)),
        )
    # One second on, through the clock itself: a process that remembers the
    # offset learns that it moved (server.store.credential_changes).
    clock.advance(1)


def _restore(
    database: peewee.Database,
    table: str,
    columns: list[str],
    keys: list[str],
    seeded: dict[tuple[Any, ...], tuple[Any, ...]],
) -> None:
    mark = database.param
    current = _rows(database, table, columns, keys)
    where = " AND ".join(f'"{key}" = {mark}' for key in keys)
    for key in current.keys() - seeded.keys():
        database.execute_sql(f'DELETE FROM "{table}" WHERE {where}', key)
    assignments = ", ".join(f'"{column}" = {mark}' for column in columns)
    for key, row in seeded.items():
        if key not in current:
            marks = ", ".join([mark] * len(columns))
            names = ", ".join(f'"{column}"' for column in columns)
            database.execute_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', row)
        elif current[key] != row:
            database.execute_sql(f'UPDATE "{table}" SET {assignments} WHERE {where}', (*row, *key))
