"""The database handle, shared through a peewee `DatabaseProxy`.

`DATABASE_URL` unset means an embedded SQLite file (WAL) in the data
directory; `postgresql://...` means PostgreSQL through psycopg2 with a
connection pool sized to the server's worker threads.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import unquote, urlparse

import peewee
from playhouse.pool import PooledPostgresqlDatabase

database = peewee.DatabaseProxy()

# SQLite: WAL lets readers run beside the single writer; a writer waits up to
# busy_timeout for the lock instead of failing at once. synchronous=FULL keeps
# every commit durable across power loss.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10_000,
    "synchronous": "full",
}


def open_database(url: str, sqlite_path: Path, pool_size: int = 16) -> peewee.Database:
    """Opens (but does not connect) the database named by `url`."""
    if not url or url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///")) if url else sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    parsed = urlparse(url)
    pooled: peewee.Database = PooledPostgresqlDatabase(
        unquote(parsed.path.lstrip("/")) or "postgres",
        user=unquote(parsed.username or "postgres"),
        password=unquote(parsed.password) if parsed.password else None,
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        max_connections=pool_size + 4,
        stale_timeout=300,
        timeout=30,
    )
    return pooled


def bind(db: peewee.Database) -> peewee.Database:
    """Points the shared proxy at `db` and returns it."""
    database.initialize(db)
    return db


def is_postgres(db: peewee.Database | peewee.DatabaseProxy | None = None) -> bool:
    target = db if db is not None else database
    if isinstance(target, peewee.DatabaseProxy):
        target = target.obj
    return isinstance(target, peewee.PostgresqlDatabase)


def per_use_connection() -> contextlib.AbstractContextManager[object]:
    """A connection for one unit of work (an RPC, a sweep, a batch).

    PostgreSQL: checked out of the pool and given back afterwards, so a
    connection the server closed (a restart, pg_terminate_backend) is
    dropped by the pool's checkout test instead of failing this thread's
    calls forever. SQLite: the thread keeps its connection (nothing to lose).
    """
    if is_postgres():
        return database.connection_context()
    return contextlib.nullcontext()
