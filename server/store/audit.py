"""The audit log: appending, listing, verifying and pruning (m0007, audit.proto).

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

Retention. BANK_AUDIT_RETENTION_DAYS (default 2555 days, about 7 years: the
contract's minimum, which production mode enforces). `prune` removes the
oldest events, always a prefix of the log, in batches: each batch moves the
anchor to the last event it removes and then deletes up to it, in one
transaction, so verification of what remains starts from the anchor.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee

from server.config import ConfigError
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
VERIFY_BATCH = 5_000
PRUNE_BATCH_DEFAULT = 10_000
RETENTION_ENV = "BANK_AUDIT_RETENTION_DAYS"
RETENTION_DAYS_DEFAULT = 2555
RETENTION_DAYS_MAX = 36_500


def now() -> datetime:
    """Naive UTC wall-clock time (never the sandbox clock)."""
    return datetime.now(UTC).replace(tzinfo=None)


# -- Appending ------------------------------------------------------------------------------
def _lock_head() -> tuple[int, str]:
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
    sequence, previous = _lock_head()
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


# -- Reading ----------------------------------------------------------------------------------
def _event(row: AuditEventRow) -> rules.AuditEvent:
    return rules.AuditEvent(
        sequence=int(row.sequence),
        id=row.id,
        actor_id=row.actor_id,
        client_id=row.client_id,
        method=row.method,
        resource_ids=tuple(json.loads(row.resource_ids)),
        outcome_code=row.outcome_code,
        request_id=row.request_id,
        ip_address=row.ip_address,
        created_at=row.created_at,
        previous_hash=row.previous_hash,
        hash=row.hash,
    )


@dataclass(frozen=True)
class EventPage:
    events: list[rules.AuditEvent]
    total: int
    next_key: list[Any] | None  # [sequence] of the last event when another page follows


def _filtered(query: rules.AuditQuery) -> peewee.ModelSelect[AuditEventRow]:
    select = AuditEventRow.select()
    if query.actor_id:
        select = select.where(AuditEventRow.actor_id == query.actor_id)
    if query.client_id:
        select = select.where(AuditEventRow.client_id == query.client_id)
    if query.methods is not None:
        select = select.where(AuditEventRow.method.in_(list(query.methods)))
    if query.outcome == rules.OUTCOME_ERROR:
        select = select.where(AuditEventRow.outcome_code != rules.OUTCOME_OK)
    elif query.outcome:
        select = select.where(AuditEventRow.outcome_code == query.outcome)
    if query.resource_id:
        touched = AuditEventResource.select(AuditEventResource.sequence).where(
            AuditEventResource.resource_id == query.resource_id
        )
        select = select.where(AuditEventRow.sequence.in_(touched))
    if query.since is not None:
        select = select.where(AuditEventRow.created_at >= query.since)
    if query.until is not None:
        select = select.where(AuditEventRow.created_at < query.until)
    return select


def list_events(
    query: rules.AuditQuery, *, limit: int, offset: int, after: int | None
) -> EventPage:
    """One page of events, by offset or after a sequence (keyset)."""
    base = _filtered(query)
    total = base.count()
    descending = query.order == "desc"
    select = base
    if after is not None:
        position = AuditEventRow.sequence < after if descending else AuditEventRow.sequence > after
        select = select.where(position)
    else:
        select = select.offset(offset)
    order = AuditEventRow.sequence.desc() if descending else AuditEventRow.sequence.asc()
    rows = list(select.order_by(order).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    next_key = [int(rows[-1].sequence)] if more else None
    return EventPage([_event(row) for row in rows], total, next_key)


def verify(from_sequence: int, to_sequence: int) -> rules.Verification:
    """VerifyAuditLog over one consistent snapshot of the log (0 = default bound)."""
    nested = database.in_transaction()
    with database.atomic():
        if is_postgres() and not nested:
            # One snapshot for every batch: a prune running meanwhile must not
            # look like a gap. (Nested, it reads what the enclosing
            # transaction sees.)
            database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        anchor = AuditAnchor.get_by_id(1)
        latest = AuditEventRow.select(peewee.fn.MAX(AuditEventRow.sequence)).scalar()
        first = int(anchor.pruned_sequence) + 1
        start, end = rules.verify_range(
            from_sequence, to_sequence, first, int(latest or anchor.pruned_sequence)
        )
        if start > end:
            # Nothing in the range (an empty log, or a range after the newest event).
            return rules.Verification(
                ok=True, checked_count=0, from_sequence=0, to_sequence=0, last_hash=""
            )
        if start == first:
            previous = str(anchor.pruned_hash)
        else:
            before = AuditEventRow.get_or_none(AuditEventRow.sequence == start - 1)
            if before is None:
                return rules.Verification(
                    ok=False,
                    checked_count=0,
                    from_sequence=start,
                    to_sequence=end,
                    last_hash="",
                    first_broken_sequence=start - 1,
                    failure=rules.SEQUENCE_GAP,
                )
            previous = str(before.hash)
        verifier = rules.ChainVerifier(start, previous)
        position = start - 1
        while rows := list(
            AuditEventRow.select()
            .where((AuditEventRow.sequence > position) & (AuditEventRow.sequence <= end))
            .order_by(AuditEventRow.sequence)
            .limit(VERIFY_BATCH)
        ):
            for row in rows:
                if not verifier.feed(_event(row)):
                    return verifier.result(start, end)
            position = int(rows[-1].sequence)
        return verifier.result(start, end)


# -- Pruning ----------------------------------------------------------------------------------
def _prune_batch(older_than: datetime, batch_size: int) -> int:
    """Removes up to `batch_size` of the oldest events created before `older_than`."""
    _lock_head()
    anchor = AuditAnchor.get_by_id(1)
    candidates = (
        AuditEventRow.select(AuditEventRow.sequence, AuditEventRow.created_at, AuditEventRow.hash)
        .where(AuditEventRow.sequence > anchor.pruned_sequence)
        .order_by(AuditEventRow.sequence)
        .limit(batch_size)
    )
    last = None
    for row in candidates:
        # A prefix only: the first event young enough to keep ends it.
        if row.created_at >= older_than:
            break
        last = row
    if last is None:
        return 0
    if is_postgres():
        # The pruning path the m0007 triggers let through, for this transaction only.
        database.execute_sql("SELECT set_config('bank.audit_prune', 'on', true)")
    moved = AuditAnchor.update(
        pruned_sequence=last.sequence, pruned_hash=last.hash, pruned_at=now()
    )
    moved.where(AuditAnchor.id == 1).execute()
    AuditEventResource.delete().where(AuditEventResource.sequence <= last.sequence).execute()
    return int(AuditEventRow.delete().where(AuditEventRow.sequence <= last.sequence).execute())


def prune(older_than: datetime, *, batch_size: int = PRUNE_BATCH_DEFAULT) -> int:
    """Removes the events created before `older_than` (a prefix); returns how many."""
    assert batch_size >= 1
    oldest = AuditEventRow.select(AuditEventRow.created_at).order_by(AuditEventRow.sequence).first()
    if oldest is None or oldest.created_at >= older_than:
        return 0  # the usual case, answered without taking the append lock
    removed = 0
    while batch := tx.write(functools.partial(_prune_batch, older_than, batch_size)):
        removed += batch
    if removed:
        log.info("audit events pruned", extra={"count": removed})
    return removed


def retention_days(env: Mapping[str, str] | None = None) -> int:
    """BANK_AUDIT_RETENTION_DAYS, checked; at least 2555 (7 years) in production."""
    values = os.environ if env is None else env
    raw = values.get(RETENTION_ENV, "").strip()
    if not raw:
        return RETENTION_DAYS_DEFAULT
    try:
        days = int(raw)
    except ValueError:
        raise ConfigError(f"{RETENTION_ENV} must be an integer, got {raw!r}") from None
    production = values.get("BANK_MODE", "").strip().lower() == "production"
    low = RETENTION_DAYS_DEFAULT if production else 1
    if not low <= days <= RETENTION_DAYS_MAX:
        raise ConfigError(f"{RETENTION_ENV} must be between {low} and {RETENTION_DAYS_MAX}")
    return days


def prune_expired(env: Mapping[str, str] | None = None) -> int:
    """Prunes what the retention setting no longer keeps."""
    return prune(now() - timedelta(days=retention_days(env)))
