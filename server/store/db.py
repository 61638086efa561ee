"""The database handle, shared through a peewee `DatabaseProxy`.

`DATABASE_URL` unset means an embedded SQLite file (WAL) in the data
directory; `postgresql://...` means PostgreSQL through psycopg2 with a
connection pool sized to the server's worker threads.
"""

from __future__ import annotations

import contextlib
import select
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import peewee
import psycopg2.extensions
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


class _Pending(threading.local):
    """This thread's statements sent with its next round trip."""

    def __init__(self) -> None:
        self.begin = False  # BEGIN not sent yet
        self.texts: list[tuple[str, Sequence[Any]]] = []

    def clear(self) -> None:
        self.begin, self.texts = False, []


_DEFERRED_PREFIXES = ("SAVEPOINT ", "RELEASE SAVEPOINT ")


class BankPostgresqlDatabase(PooledPostgresqlDatabase):
    """The pool, with fewer round trips per transaction.

    - BEGIN is not sent on its own: it travels with the transaction's first
      statement ("BEGIN; SELECT ... FOR UPDATE", one simple-query message).
    - `defer` queues a write whose result nobody reads (history rows,
      postings, outbox events; SAVEPOINT and RELEASE too); queued writes go
      out in front of the next statement of the transaction, or with its
      COMMIT. A transfer's writes and its COMMIT are one round trip.
    - Checking a connection out of the pool costs no round trip: an idle
      connection whose socket has something to read was closed by the server
      (a restart, pg_terminate_backend), since an idle session is sent
      nothing else (the server does not LISTEN).

    Nothing changes in what is committed: the statements run in the same
    order, inside the same transaction. A queued statement that fails makes
    the next statement, or the COMMIT, raise (and the transaction roll back),
    so only writes whose failure no caller handles on the spot are deferred.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = _Pending()

    # -- liveness without a round trip ------------------------------------------
    def _is_closed(self, conn: Any) -> bool:
        if conn.closed:
            return True
        status = conn.get_transaction_status()
        if status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            return bool(super()._is_closed(conn))  # rolls back, or finds it dead
        try:
            readable, _, _ = select.select([conn], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    # -- transactions --------------------------------------------------------------
    def begin(self, isolation_level: Any = None) -> None:
        if isolation_level or self._isolation_level:
            super().begin(isolation_level)
            return
        self.connection()  # opens it now, as BEGIN would: opening resets the state
        pending = self._pending
        assert not pending.texts, "statements queued outside a transaction"
        pending.begin = True

    def defer(self, text: str, params: Sequence[Any] = ()) -> None:
        """Runs `text` with the transaction's next round trip (see the class)."""
        if not self.in_transaction():
            self.execute_sql(text, params)
            return
        self._pending.texts.append((text, tuple(params)))

    def _take_pending(self, text: str, params: Sequence[Any] | None) -> tuple[str, Any]:
        pending = self._pending
        if not (pending.begin or pending.texts):
            return text, params
        pieces: list[tuple[str, Sequence[Any]]] = [("BEGIN", ())] if pending.begin else []
        pieces += [*pending.texts, (text, tuple(params or ()))]
        pending.clear()
        values: list[Any] = [value for _, piece_params in pieces for value in piece_params]
        # peewee hands psycopg2 every text for interpolation (`params or ()`),
        # so each piece already has its literal % signs doubled.
        return "; ".join(piece for piece, _ in pieces), values

    def execute_sql(self, sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        if not params and sql.startswith(_DEFERRED_PREFIXES) and self.in_transaction():
            # peewee's savepoints: they answer nothing, so they travel with
            # the next statement too (ROLLBACK TO is sent at once).
            self.defer(sql.rstrip(";"))
            return None
        sql, params = self._take_pending(sql, params)
        return super().execute_sql(sql, params, *args, **kwargs)

    def commit(self) -> None:
        pending = self._pending
        if pending.begin and not pending.texts:
            pending.begin = False  # nothing was sent: nothing to commit
            return
        if pending.texts:
            with peewee.__exception_wrapper__:  # type: ignore[attr-defined]
                text, values = self._take_pending("COMMIT", ())
                self.cursor().execute(text, values)
            return
        super().commit()

    def rollback(self) -> None:
        pending = self._pending
        began = not pending.begin
        pending.clear()
        if began:
            super().rollback()

    def _close(self, conn: Any, close_conn: bool = False) -> None:
        self._pending.clear()
        super()._close(conn, close_conn)


def open_database(url: str, sqlite_path: Path, pool_size: int = 16) -> peewee.Database:
    """Opens (but does not connect) the database named by `url`."""
    if not url or url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///")) if url else sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    parsed = urlparse(url)
    pooled: peewee.Database = BankPostgresqlDatabase(
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
    if db is None:
        return isinstance(database.obj, peewee.PostgresqlDatabase)
    target = db.obj if isinstance(db, peewee.DatabaseProxy) else db
    return isinstance(target, peewee.PostgresqlDatabase)


def defer(text: str, params: Sequence[Any] = ()) -> None:
    """A write whose result nobody reads: on PostgreSQL it goes out with the
    transaction's next round trip (BankPostgresqlDatabase); on SQLite now."""
    target = database.obj
    if isinstance(target, BankPostgresqlDatabase):
        target.defer(text, params)
    else:
        database.execute_sql(text, params)


# Set when a call found the database out of reach; cleared by `probe`.
_unreachable = threading.Event()


def mark_unreachable() -> None:
    """A call failed for want of the database (the health check then probes it)."""
    _unreachable.set()


def seems_unreachable() -> bool:
    return _unreachable.is_set()


def probe() -> bool:
    """Whether the database answers a `SELECT 1` now; clears the mark if it does."""
    try:
        with per_use_connection():
            database.execute_sql("SELECT 1")
    except (peewee.OperationalError, peewee.InterfaceError):
        return False
    _unreachable.clear()
    return True


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
