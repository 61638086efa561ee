"""Numbered schema migrations, applied in order, each exactly once.

Statements run through the driver with bound parameters, so a literal `%`
in PostgreSQL statements is written `%%`.

A migration is a module `mNNNN_name.py` in this package with a function
`statements(dialect: str) -> list[str]` (dialect is "sqlite" or "postgres").
Its statements run in one transaction together with the row that records it
in `schema_migrations`, so a migration is applied whole or not at all. On
PostgreSQL an advisory lock serialises concurrent starters; on SQLite the
write lock does.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from datetime import UTC, datetime
from types import ModuleType

import peewee

from server.store.db import is_postgres

log = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^m(\d{4})_[a-z0-9_]+$")
_ADVISORY_LOCK_ID = 7_215_640_001


def discover() -> list[tuple[int, str, ModuleType]]:
    """All migration modules, by number. Numbers must be unique."""
    found: dict[int, tuple[int, str, ModuleType]] = {}
    for info in pkgutil.iter_modules(__path__):
        match = _NAME_RE.match(info.name)
        if not match:
            continue
        number = int(match.group(1))
        assert number not in found, f"two migrations numbered {number}"
        found[number] = (number, info.name, importlib.import_module(f"{__name__}.{info.name}"))
    return [found[n] for n in sorted(found)]


def applied_versions(db: peewee.Database) -> set[int]:
    if not db.table_exists("schema_migrations"):
        return set()
    return {row[0] for row in db.execute_sql("SELECT version FROM schema_migrations").fetchall()}


def migrate(db: peewee.Database) -> list[str]:
    """Applies every pending migration; returns the names applied."""
    dialect = "postgres" if is_postgres(db) else "sqlite"
    done: list[str] = []
    with db.connection_context():
        db.execute_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        for number, name, module in discover():
            with db.atomic():
                if dialect == "postgres":
                    db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK_ID,))
                if number in applied_versions(db):
                    continue
                for statement in module.statements(dialect):
                    db.execute_sql(statement)
                param = "%s" if dialect == "postgres" else "?"
                db.execute_sql(
                    "INSERT INTO schema_migrations (version, name, applied_at)"
                    f" VALUES ({param}, {param}, {param})",
                    (number, name, datetime.now(UTC).replace(tzinfo=None)),
                )
                done.append(name)
                log.info("migration applied", extra={"migration": name})
    return done
