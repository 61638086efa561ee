"""When may a process trust what it remembers about credentials: the epoch.

Each server process keeps in memory what every authenticated call would
otherwise read: access tokens already verified and checked against the
revocations, API keys, client policies and the sandbox clock
(`EpochCache`). Each remembered value carries the epoch it was read in,
and is used only while the epoch has not moved. The epoch moves whenever
anything those values are built from may have changed; the database
announces every such change (migration m0022 lists them: revocations,
client and API-key changes, signing secrets, the clock, signing keys):

- PostgreSQL: a listener thread per process holds a dedicated connection
  that LISTENs on `bank_credentials`; a trigger NOTIFYs in the changing
  transaction, so the notice arrives at commit. The listener moves the
  epoch the moment its socket has something to read, and a call that finds
  unread data there trusts nothing until it is read: a revocation is seen as
  soon as its notice reaches the process, not when a busy thread gets to it.
  While the listener is not connected (starting, lost, reconnecting) there
  is no epoch (None): every call verifies and reads as if nothing were
  remembered, and a reconnection moves the epoch, since notices sent
  meanwhile were missed. No statement is sent per call.
- SQLite (one host; server processes share the file): the triggers count
  changes in `credentials_version`; the epoch is that count, read once per
  call (one indexed read of a local file, in place of the revocation and
  clock reads it saves).

The process that makes a change also moves its own epoch at once
(`changed`), without waiting for its notice. On PostgreSQL a call that made
one then waits, before it answers (`call_scope`), until every live listener
of every process has acknowledged it (`credential_listeners`, written by
each listener after it has moved its epoch), at most SETTLE_SECONDS_MAX:
once the change's answer is out, no process still trusts what it revoked.
Values read inside a transaction are never remembered (they may not be
committed).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

import peewee
import psycopg2

from server.store.db import database, is_postgres
from server.store.migrations.m0022_credential_changes import CHANNEL

log = logging.getLogger(__name__)

Epoch = tuple[int, int, int]  # (database serial, announced changes, local changes)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

LISTENER_NAME = "bank-credentials-listener"
RECONNECT_SECONDS_MIN = 0.05
RECONNECT_SECONDS_MAX = 5.0
WAKE_SECONDS = 1.0  # how often the listener looks at its stop flag
SETTLE_SECONDS_MAX = 0.5  # a change's answer waits at most this long for the listeners
SETTLE_POLL_SECONDS = 0.001
# The number of the last change announced, once the writer's transaction is over.
_LAST_CHANGE_SQL = (
    "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM credential_changes_seq"
)

_lock = threading.Lock()
_local_changes = 0
_serials: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_serials_made = 0
# The epoch as the current call first found it (None: no call).
_call_epoch: ContextVar[list[Epoch | None] | None] = ContextVar("credential_epoch", default=None)
# Whether the current call changed a credential (then it settles before answering).
_call_changed: ContextVar[list[bool] | None] = ContextVar("credential_changed", default=None)


class _Listener:
    """One PostgreSQL connection that LISTENs for credential changes."""

    def __init__(self, connect_kwargs: dict[str, Any]) -> None:
        self.pid = os.getpid()
        self.announced = 0
        self.live = self.was_live = False
        self.fileno = -1
        self._connect_kwargs = connect_kwargs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=LISTENER_NAME, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def current(self) -> int | None:
        """The announced changes, or None when a notice may be unread or missed."""
        if not self.live:
            return None
        try:
            readable, _, _ = select.select([self.fileno], [], [], 0)
        except (OSError, ValueError):
            return None
        return None if readable else self.announced

    def _run(self) -> None:
        delay = RECONNECT_SECONDS_MIN
        while not self._stop.is_set():
            try:
                self._listen()
            except (psycopg2.Error, OSError, ValueError) as exc:
                log.warning("credential change listener lost", extra={"error": type(exc).__name__})
            # Back at once after a connection that worked, slower while none does.
            delay = RECONNECT_SECONDS_MIN if self.was_live else delay * 2
            delay = min(delay, RECONNECT_SECONDS_MAX)
            self.was_live = False
            self._stop.wait(delay)

    def _listen(self) -> None:
        connection = psycopg2.connect(
            **self._connect_kwargs,
            application_name=LISTENER_NAME,
            connect_timeout=5,
            # A peer that vanished without a word is found within ~25 s.
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
                # Rows of listeners gone; then this one's, acknowledging
                # everything announced so far (it starts in a new epoch).
                cursor.execute(
                    "DELETE FROM credential_listeners WHERE backend_pid NOT IN"
                    " (SELECT pid FROM pg_stat_activity)"
                )
                cursor.execute(
                    "INSERT INTO credential_listeners (backend_pid, acknowledged, updated_at)"
                    f" SELECT pg_backend_pid(), ({_LAST_CHANGE_SQL}), now()"
                    " ON CONFLICT (backend_pid) DO UPDATE"
                    " SET acknowledged = EXCLUDED.acknowledged, updated_at = now()"
                )
            self.fileno = connection.fileno()
            self._announce()  # whatever happened before LISTEN was missed
            self.live = self.was_live = True
            while not self._stop.is_set():
                readable, _, _ = select.select([connection], [], [], WAKE_SECONDS)
                if readable:
                    # Moved before reading: see `current`.
                    self._announce()
                    connection.poll()
                    self._acknowledge(connection)
        finally:
            self.live = False
            self._announce()
            with contextlib.suppress(psycopg2.Error):
                connection.close()
            self.fileno = -1

    def _acknowledge(self, connection: Any) -> None:
        """Records the highest change acted on; the epoch moved before (see `_listen`)."""
        while connection.notifies:
            highest = max(
                (int(notice.payload) for notice in connection.notifies if notice.payload.isdigit()),
                default=0,
            )
            connection.notifies.clear()
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE credential_listeners SET"
                    " acknowledged = GREATEST(acknowledged, %s), updated_at = now()"
                    " WHERE backend_pid = pg_backend_pid()",
                    (highest,),
                )
            if connection.notifies:
                # More arrived with the answer, unseen by `current`: move again.
                self._announce()

    def _announce(self) -> None:
        with _lock:
            self.announced += 1


_listener: tuple[Any, _Listener] | None = None


def _serial(db: Any) -> int:
    """A number of its own for each database handle (tests bind several in turn)."""
    global _serials_made  # noqa: PLW0603
    serial = _serials.get(db)
    if serial is None:
        with _lock:
            serial = _serials.get(db)
            if serial is None:
                _serials_made += 1
                serial = _serials[db] = _serials_made
    return serial


def _postgres_listener(db: Any) -> _Listener:
    global _listener  # noqa: PLW0603 (one listener per process and database)
    current = _listener
    if current is not None and current[0] is db and current[1].pid == os.getpid():
        return current[1]
    with _lock:
        current = _listener
        if current is None or current[0] is not db or current[1].pid != os.getpid():
            if current is not None and current[1].pid == os.getpid():
                current[1].stop()
            kwargs = {"dbname": db.database, **db.connect_params}
            current = (db, _Listener(kwargs))
            _listener = current
    return current[1]


def _sqlite_version() -> int | None:
    try:
        row = database.execute_sql(
            "SELECT version FROM credentials_version WHERE id = 1"
        ).fetchone()
    except peewee.OperationalError:  # not migrated yet
        return None
    return int(row[0]) if row else None


def _current() -> Epoch | None:
    db = database.obj
    if db is None:
        return None
    announced = _postgres_listener(db).current() if is_postgres() else _sqlite_version()
    if announced is None:
        return None
    return (_serial(db), announced, _local_changes)


def epoch() -> Epoch | None:
    """The epoch now (once per call: the call keeps the one it first saw); None: trust nothing."""
    memo = _call_epoch.get()
    if memo is None:
        return _current()
    if not memo:
        memo.append(_current())
    return memo[0]


@contextlib.contextmanager
def call_scope() -> Iterator[None]:
    """One call: the epoch found at most once; a change it made settles before it answers."""
    token = _call_epoch.set([])
    changed_token = _call_changed.set([])
    try:
        yield
    finally:
        made_changes = bool(_call_changed.get())
        _call_epoch.reset(token)
        _call_changed.reset(changed_token)
        if made_changes:
            settle()


def changed() -> None:
    """This process changed a credential: what it remembers is stale from now on.

    Called where the change is written, inside its transaction; other
    processes learn it from the database. A call that made a change moves
    the epoch again once it is over (committed) and settles (`call_scope`).
    """
    global _local_changes  # noqa: PLW0603 (the process's own count)
    with _lock:
        _local_changes += 1
    memo = _call_epoch.get()
    if memo:
        memo[0] = None  # the rest of this call reads afresh
    made = _call_changed.get()
    if made is not None and not made:
        made.append(True)


def settle() -> None:
    """Waits until every live listener has acted on the changes committed so far.

    PostgreSQL only (SQLite's processes read the version on every call), at
    most SETTLE_SECONDS_MAX: a listener that does not answer by then (its
    process hung, its host gone without closing its connection) is logged.
    """
    global _local_changes  # noqa: PLW0603
    with _lock:
        _local_changes += 1  # committed now: anything remembered meanwhile is stale
    if database.obj is None or not is_postgres():
        return
    deadline = time.monotonic() + SETTLE_SECONDS_MAX
    try:
        opened = database.connection_context() if database.is_closed() else contextlib.nullcontext()
        with opened:
            last = database.execute_sql(_LAST_CHANGE_SQL).fetchone()[0]
            while _listeners_behind(int(last)):
                if time.monotonic() >= deadline:
                    log.warning(
                        "credential change not acknowledged in time", extra={"change": last}
                    )
                    return
                time.sleep(SETTLE_POLL_SECONDS)
    except (peewee.PeeweeException, psycopg2.Error):
        # The change is committed; other processes still get its notice.
        log.exception("could not settle a credential change")


def _listeners_behind(change: int) -> int:
    row = database.execute_sql(
        "SELECT COUNT(*) FROM credential_listeners AS listener"
        " JOIN pg_stat_activity AS activity ON activity.pid = listener.backend_pid"
        " WHERE activity.application_name = %s AND listener.acknowledged < %s",
        (LISTENER_NAME, change),
    ).fetchone()
    return int(row[0])


def listening() -> bool:
    """Whether this process can trust its memory now (tests, health)."""
    return _current() is not None


class EpochCache(Generic[K, V]):
    """A bounded LRU map whose values hold only within the epoch they were read in."""

    def __init__(self, size_max: int) -> None:
        assert size_max > 0
        self._size_max = size_max
        self._lock = threading.Lock()
        self._entries: OrderedDict[K, tuple[Epoch, V, float | None]] = OrderedDict()

    def get(self, key: K, at: Epoch | None, now: float = 0.0) -> V | None:
        """The value remembered for `key` in epoch `at`, unless it expired by `now`."""
        if at is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] != at or (entry[2] is not None and now >= entry[2]):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: K, at: Epoch | None, value: V, expires_at: float | None = None) -> None:
        """Remembers `value`, read in epoch `at` (taken before the read), until `expires_at`."""
        if at is None or database.in_transaction():
            return
        with self._lock:
            self._entries[key] = (at, value, expires_at)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size_max:
                self._entries.popitem(last=False)

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
