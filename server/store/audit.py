"""The audit log: appending (m0007, audit.proto); reading, verifying and
pruning are in server.store.audit_log.

Appending. `record` appends one event after the call it describes has
finished and before its answer leaves the server. A writer thread per
process commits the events of concurrent calls together (group commit: one
short transaction, one lock and one flush for all of them); each caller waits
for its own. While calls overlap (the last commit carried more than one
call's events) the writer lets LINGER_SECONDS pass before it takes the next
batch, so that more calls share it; a lone call is written at once.
Appends are serialised so that the chain never forks: on PostgreSQL by a
transaction-scoped advisory lock, held from reading the chain's head to the
commit (no row is written but the events); on SQLite by the write lock every
write transaction takes up front. The database checks it too: an insert that
does not extend the chain is refused.

When an append fails. The call's own work is committed by then, so failing
the call cannot undo anything: it would tell a client that a transfer failed
when it did not, and invite a duplicate. So the answer goes out, and the
event is not lost: it is logged in full at ERROR (`audit write failed`; ids
only, nothing secret) for the off-host log pipeline, and kept in memory to
be appended, in order, before anything else. While such a backlog exists and
still cannot be written, the bank does no new work it cannot audit:
`accepting()` is False and the audit interceptor refuses new calls with
UNAVAILABLE (503) before they run, retrying the backlog at most once every
RETRY_SECONDS. A crash loses the in-memory backlog, not the log lines; the
backlog keeps at most BACKLOG_MAX events, after which only the lines remain.

Time. created_at is the real UTC time at which the call finished, not the
sandbox clock: the log records when things really happened. It may step back
by the few milliseconds concurrent appends wait for each other; `sequence`
is the order of the log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import peewee

from server.domain import audit as rules
from server.store import sql, tx
from server.store.db import database, is_postgres
from server.store.models import AuditAnchor, AuditEventResource, AuditEventRow

log = logging.getLogger(__name__)

ADVISORY_LOCK_ID = 7_215_640_007
BACKLOG_MAX = 10_000
APPEND_BATCH_MAX = 500
INSERT_ROWS_MAX = 50  # rows per INSERT statement (bounded parameter count)
APPEND_WAIT_SECONDS = 30.0
LINGER_SECONDS = 0.002
RETRY_SECONDS = 1.0


def now() -> datetime:
    """Naive UTC wall-clock time (never the sandbox clock)."""
    return datetime.now(UTC).replace(tzinfo=None)


# -- Appending ------------------------------------------------------------------------------
def lock_head() -> tuple[int, str]:
    """(sequence, hash) of the chain's head, with appends locked out until commit."""
    if is_postgres():
        # Sent with the head's read, before it: each statement of the round
        # trip reads its own snapshot, so the head is read under the lock.
        sql.defer("SELECT pg_advisory_xact_lock(?)", (ADVISORY_LOCK_ID,))
    last = sql.execute(
        'SELECT "sequence", "hash" FROM "audit_events" ORDER BY "sequence" DESC LIMIT 1'
    ).fetchone()
    if last is not None:
        return int(last[0]), str(last[1])
    anchor = AuditAnchor.get_by_id(1)
    return int(anchor.pruned_sequence), str(anchor.pruned_hash)


def _append(entries: list[rules.AuditEntry]) -> None:
    tx.write(lambda: _extend(entries))


def append_within(entries: list[rules.AuditEntry]) -> bool:
    """Appends `entries` in the caller's open write transaction, committed
    with it (server.domain.audit_drafts); True when it did. The chain's lock
    is held from here to the caller's commit, so call it last, once the
    transaction has done its other work.

    False, appending nothing, while older events wait in the backlog (they go
    first, through `record`), and when the append fails: it runs in a
    savepoint and is sent at once, not with the COMMIT, so that a refused
    append leaves the caller's work to commit and each call then appends its
    own event as `record` does (backlog and all). A lost connection is not
    such a failure: it is raised, as any statement of the transaction would.
    """
    assert database.in_transaction(), "append_within runs inside a write transaction"
    if len(_backlog):
        return False
    if not entries:
        return True
    try:
        with database.atomic():
            _extend(entries, eager=True)
    except (peewee.OperationalError, peewee.InterfaceError):
        raise
    except peewee.DatabaseError:
        log.warning(
            "audit events not appended with their work; each call appends its own",
            exc_info=True,
        )
        return False
    return True


def _extend(entries: list[rules.AuditEntry], *, eager: bool = False) -> None:
    """The chain extended by `entries`, inside the current write transaction;
    `eager`: its last statement is sent now (with the ones queued before it)."""
    sequence, previous = lock_head()
    events: list[dict[str, object]] = []
    resources: list[dict[str, object]] = []
    for entry in entries:
        event = rules.chained(entry, sequence + 1, previous)
        events.append(
            {
                "sequence": event.sequence,
                "id": event.id,
                "actor_id": event.actor_id,
                "client_id": event.client_id,
                "method": event.method,
                "resource_ids": json.dumps(list(event.resource_ids), ensure_ascii=False),
                "outcome_code": event.outcome_code,
                "request_id": event.request_id,
                "ip_address": event.ip_address,
                "created_at": event.created_at,
                "previous_hash": event.previous_hash,
                "hash": event.hash,
            }
        )
        resources.extend(
            {"resource_id": rid, "sequence": event.sequence} for rid in event.resource_ids
        )
        sequence, previous = event.sequence, event.hash
    # Rows in chain order; the database's trigger checks each extends the chain.
    inserts = [
        (AuditEventRow, events[start : start + INSERT_ROWS_MAX])
        for start in range(0, len(events), INSERT_ROWS_MAX)
    ] + [
        (AuditEventResource, resources[start : start + INSERT_ROWS_MAX])
        for start in range(0, len(resources), INSERT_ROWS_MAX)
    ]
    for number, (model, rows) in enumerate(inserts, start=1):
        sql.insert(model, rows, deferred=not (eager and number == len(inserts)))


def _unwritten(entries: list[rules.AuditEntry]) -> list[rules.AuditEntry]:
    """`entries` without those already in the log.

    An append whose COMMIT reached the database but whose answer did not (the
    connection or the server died in between) is in the log although it
    failed here; appending it again would be refused (its id is unique) and
    would hold the backlog, and every call, back for good.
    """
    written: set[str] = set()
    for start in range(0, len(entries), INSERT_ROWS_MAX):
        ids = [entry.id for entry in entries[start : start + INSERT_ROWS_MAX]]
        rows = sql.execute(
            f'SELECT "id" FROM "audit_events" WHERE "id" IN ({sql.marks(len(ids))})', ids
        ).fetchall()
        written.update(str(row[0]) for row in rows)
    return [entry for entry in entries if entry.id not in written]


class _Backlog:
    """Events whose append failed, oldest first."""

    def __init__(self) -> None:
        self._events: deque[rules.AuditEntry] = deque()
        self._lock = threading.Lock()
        self._retry_at = 0.0

    def __len__(self) -> int:
        return len(self._events)

    def keep(self, entry: rules.AuditEntry) -> None:
        with self._lock:
            if not self._events:
                # The first failure: the next attempt waits, like any retry.
                self._retry_at = time.monotonic() + RETRY_SECONDS
            if len(self._events) < BACKLOG_MAX:
                self._events.append(entry)

    def drain(self) -> bool:
        """Appends the backlog if it is time to try; True when it is empty."""
        if not self._events:
            return True
        with self._lock:
            if not self._events:
                return True
            moment = time.monotonic()
            if moment < self._retry_at:
                return False
            try:
                pending = _unwritten(list(self._events))
                if len(pending) < len(self._events):
                    log.warning(
                        "audit backlog: events already in the log are not appended again",
                        extra={"events": len(self._events) - len(pending)},
                    )
                if pending:
                    _append(pending)
            except Exception:
                self._retry_at = moment + RETRY_SECONDS
                log.exception("audit backlog still not writable", extra={"backlog": len(self)})
                return False
            log.warning("audit backlog written", extra={"events": len(self._events)})
            self._events.clear()
            return True


_backlog = _Backlog()


class _BacklogWaiting(Exception):
    """Older events wait to be written first."""


def _write(entries: list[rules.AuditEntry]) -> None:
    """Appends `entries` after the backlog; on failure they join it (never raises)."""
    try:
        if not _backlog.drain():
            raise _BacklogWaiting
        _append(entries)
    except Exception as exc:
        if isinstance(exc, peewee.OperationalError | peewee.InterfaceError):
            # A connection the database closed must not be used again: drop
            # it, so that the next attempt checks out a live one.
            with contextlib.suppress(Exception):
                database.close()
        for entry in entries:
            _backlog.keep(entry)
            log.error(
                "audit write failed; event kept for retry",
                extra={
                    "audit_event": entry.log_fields(),
                    "error": type(exc).__name__,
                    "backlog": len(_backlog),
                },
            )


@dataclass
class _Pending:
    entry: rules.AuditEntry
    done: threading.Event = field(default_factory=threading.Event)


class _Appender:
    """Group commit: one writer thread per process appends what callers queued.

    Each caller still waits until its own event is committed, but the events
    of concurrent calls share one transaction, one lock and one flush to disk,
    so that the chain's single-writer order costs little under load.
    """

    def __init__(self) -> None:
        self._queue: deque[_Pending] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._shared = False  # the last commit carried several calls' events

    def submit(self, entry: rules.AuditEntry) -> _Pending:
        pending = _Pending(entry)
        with self._ready:
            self._queue.append(pending)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="audit-appender", daemon=True
                )
                self._thread.start()
            self._ready.notify()
        return pending

    def _take(self) -> list[_Pending]:
        with self._ready:
            while not self._queue:
                self._ready.wait()
            if self._shared:
                # Calls overlap: let the ones finishing now join this commit.
                deadline = time.monotonic() + LINGER_SECONDS
                while len(self._queue) < APPEND_BATCH_MAX:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._ready.wait(left)
            count = min(len(self._queue), APPEND_BATCH_MAX)
            self._shared = count > 1
            return [self._queue.popleft() for _ in range(count)]

    def _run(self) -> None:
        while True:
            batch = self._take()
            try:
                _write([pending.entry for pending in batch])
            finally:
                for pending in batch:
                    pending.done.set()


_appender = _Appender()


def record(entry: rules.AuditEntry) -> None:
    """Appends `entry` to the log and waits until it is committed; never raises.

    See the module's doc for what happens when the append fails. Never call
    it inside a write transaction: on SQLite the writer thread would wait for
    the very lock its caller holds.
    """
    assert not database.in_transaction(), "record() runs outside transactions"
    if not _appender.submit(entry).done.wait(APPEND_WAIT_SECONDS):
        # The database is stuck: the answer goes out; the event stays queued.
        log.error("audit write still waiting", extra={"audit_event": entry.log_fields()})


def accepting() -> bool:
    """False while unwritten events wait and still cannot be written."""
    return _backlog.drain()


def backlog_size() -> int:
    return len(_backlog)
