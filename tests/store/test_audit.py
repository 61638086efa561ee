"""The audit log's store on both databases: chain, guards, tampering, pruning, failures."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import peewee
import pytest

from server.config import ConfigError
from server.domain import audit as rules
from server.domain import errors
from server.domain.ids import new_id
from server.store import audit, audit_log
from server.store.db import is_postgres
from server.store.models import AuditAnchor, AuditEventRow
from tests.store.rows import audit_entry


@pytest.fixture(autouse=True)
def _own_backlog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with an empty backlog of failed appends."""
    monkeypatch.setattr(audit, "_backlog", audit._Backlog())


def _prune_all() -> None:
    """Empties the module's shared log, so that the next events are its oldest."""
    audit_log.prune(audit.now() + timedelta(seconds=1))


def _append(count: int, **overrides: Any) -> list[rules.AuditEntry]:
    entries = [audit_entry(**overrides) for _ in range(count)]
    for item in entries:
        audit.record(item)
    return entries


def _sql(statement: str) -> str:
    return statement if is_postgres() else statement.replace("%s", "?")


def _execute(database: peewee.Database, statement: str, *params: Any) -> None:
    database.execute_sql(_sql(statement), params)


def _head() -> AuditEventRow:
    return AuditEventRow.select().order_by(AuditEventRow.sequence.desc()).get()


def _refused(database: peewee.Database, statement: str, *params: Any) -> None:
    with pytest.raises(peewee.DatabaseError), database.atomic():
        _execute(database, statement, *params)


@contextmanager
def _guards_off(database: peewee.Database) -> Iterator[None]:
    """A transaction without the append-only triggers, rolled back at the end.

    What a database owner can do: PostgreSQL's replica role skips triggers,
    SQLite drops them. The rollback restores both the rows and the triggers.
    """
    with database.atomic() as transaction:
        if is_postgres():
            database.execute_sql("SET LOCAL session_replication_role = replica")
        else:
            for name in (
                "audit_events_no_update",
                "audit_events_no_delete",
                "audit_event_resources_no_delete",
            ):
                database.execute_sql(f"DROP TRIGGER {name}")
        yield
        transaction.rollback()


# -- Appending -----------------------------------------------------------------------------------
def test_events_are_chained_in_sequence(database: peewee.Database) -> None:
    start = audit_log.verify(0, 0).to_sequence
    entries = _append(3, resource_ids=("acc_one", "txn_two"))
    rows = list(
        AuditEventRow.select()
        .where(AuditEventRow.sequence > start)
        .order_by(AuditEventRow.sequence)
    )
    assert [row.id for row in rows] == [item.id for item in entries]
    assert [row.sequence for row in rows] == [start + 1, start + 2, start + 3]
    assert rows[1].previous_hash == rows[0].hash and rows[2].previous_hash == rows[1].hash
    assert json.loads(rows[0].resource_ids) == ["acc_one", "txn_two"]
    result = audit_log.verify(0, 0)
    assert result.ok and result.to_sequence == start + 3 and result.last_hash == rows[2].hash


def test_concurrent_appends_never_fork_the_chain(database: peewee.Database) -> None:
    before = audit_log.verify(0, 0).to_sequence
    threads_count, per_thread = 8, 15
    start = threading.Barrier(threads_count)

    def worker() -> None:
        start.wait()
        with database.connection_context():
            _append(per_thread)

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = audit_log.verify(0, 0)
    assert result.ok, result
    assert result.to_sequence == before + threads_count * per_thread
    assert audit.backlog_size() == 0


# -- What the database refuses -------------------------------------------------------------------
def test_events_cannot_be_changed_or_deleted(database: peewee.Database) -> None:
    _append(2)
    head = _head()
    _refused(
        database, "UPDATE audit_events SET outcome_code = 'OK2' WHERE sequence = %s", head.sequence
    )
    _refused(database, "UPDATE audit_events SET hash = hash WHERE sequence = %s", head.sequence)
    _refused(database, "DELETE FROM audit_events WHERE sequence = %s", head.sequence)
    _refused(database, "DELETE FROM audit_events")
    _refused(database, "UPDATE audit_event_resources SET resource_id = 'acc_x'")
    _refused(database, "DELETE FROM audit_event_resources WHERE sequence = %s", head.sequence)
    if is_postgres():
        _refused(database, "TRUNCATE audit_events CASCADE")
        _refused(database, "TRUNCATE audit_anchor")
        # Not even the pruning switch lets a row newer than the anchor go.
        with pytest.raises(peewee.DatabaseError), database.atomic():
            database.execute_sql("SELECT set_config('bank.audit_prune', 'on', true)")
            _execute(database, "DELETE FROM audit_events WHERE sequence = %s", head.sequence)
    assert _head().hash == head.hash and audit_log.verify(0, 0).ok


def test_only_events_that_extend_the_chain_are_inserted(database: peewee.Database) -> None:
    _append(1)
    head = _head()
    valid = rules.chained(audit_entry(), head.sequence + 1, head.hash)
    columns = (
        "sequence, id, actor_id, client_id, method, resource_ids, outcome_code, request_id,"
        " ip_address, created_at, previous_hash, hash"
    )
    insert = (
        f"INSERT INTO audit_events ({columns})"
        " VALUES (%s, %s, '', '', 'm', '[]', 'OK', '', '', %s, %s, %s)"
    )
    for sequence, previous in (
        (head.sequence + 2, head.hash),  # leaves a gap
        (head.sequence, head.previous_hash),  # a second event at the head's place
        (head.sequence + 1, "0" * 64),  # does not chain to the head
    ):
        _refused(database, insert, sequence, new_id("aud"), valid.created_at, previous, valid.hash)
    assert _head().sequence == head.sequence


def test_the_anchor_only_moves_forward_to_a_stored_event(database: peewee.Database) -> None:
    _append(2)
    head = _head()
    _refused(
        database,
        "UPDATE audit_anchor SET pruned_sequence = %s, pruned_hash = %s",
        head.sequence,
        "f" * 64,
    )
    _refused(database, "DELETE FROM audit_anchor")
    _refused(
        database, "INSERT INTO audit_anchor (id, pruned_sequence, pruned_hash) VALUES (2, 0, 'x')"
    )
    if is_postgres():
        # Even to a stored event, only on the pruning path.
        _refused(
            database,
            "UPDATE audit_anchor SET pruned_sequence = %s, pruned_hash = %s",
            head.sequence,
            head.hash,
        )
    anchor = AuditAnchor.get_by_id(1)
    assert anchor.pruned_sequence < head.sequence


# -- Tampering is found --------------------------------------------------------------------------
def test_a_changed_event_is_the_first_broken_one(database: peewee.Database) -> None:
    _append(4)
    head = _head()
    target = head.sequence - 2
    target_id = AuditEventRow.get_by_id(target).id
    with _guards_off(database):
        _execute(
            database,
            "UPDATE audit_events SET outcome_code = 'OK' || 'X' WHERE sequence = %s",
            target,
        )
        result = audit_log.verify(0, 0)
        assert not result.ok
        assert (result.first_broken_id, result.first_broken_sequence) == (target_id, target)
        assert result.failure == rules.HASH_MISMATCH
        assert result.checked_count == target - result.from_sequence + 1
        # A range after the change does not reach it.
        assert audit_log.verify(target + 1, 0).ok
    assert audit_log.verify(0, 0).ok  # rolled back


def test_a_deleted_event_is_a_gap(database: peewee.Database) -> None:
    _append(3)
    head = _head()
    with _guards_off(database):
        _execute(
            database, "DELETE FROM audit_event_resources WHERE sequence = %s", head.sequence - 1
        )
        _execute(database, "DELETE FROM audit_events WHERE sequence = %s", head.sequence - 1)
        result = audit_log.verify(0, 0)
        assert (result.ok, result.failure) == (False, rules.SEQUENCE_GAP)
        assert result.first_broken_sequence == head.sequence - 1
        assert result.first_broken_id == head.id
        # Starting right after the hole: the event before the range is missing.
        after = audit_log.verify(head.sequence, 0)
        assert (after.ok, after.first_broken_sequence) == (False, head.sequence - 1)


def test_a_rewritten_hash_breaks_the_next_link(database: peewee.Database) -> None:
    _append(3)
    head = _head()
    with _guards_off(database):
        _execute(
            database,
            "UPDATE audit_events SET hash = %s WHERE sequence = %s",
            "a" * 64,
            head.sequence - 1,
        )
        result = audit_log.verify(0, 0)
        assert result.first_broken_sequence == head.sequence - 1
        assert result.failure == rules.HASH_MISMATCH


def test_verify_validates_its_range(database: peewee.Database) -> None:
    _append(1)
    with pytest.raises(errors.ValidationFailed):
        audit_log.verify(5, 2)
    empty = audit_log.verify(_head().sequence + 10, 0)
    assert (empty.ok, empty.checked_count, empty.from_sequence, empty.to_sequence) == (
        True,
        0,
        0,
        0,
    )


# -- Pruning -------------------------------------------------------------------------------------
def test_prune_keeps_the_rest_verifiable(database: peewee.Database) -> None:
    _prune_all()
    old = audit.now() - timedelta(days=4000)
    _append(5, created_at=old)
    cut = _head()
    recent = _append(3)
    assert audit_log.prune(old + timedelta(days=1), batch_size=2) == 5
    anchor = AuditAnchor.get_by_id(1)
    assert (anchor.pruned_sequence, anchor.pruned_hash) == (cut.sequence, cut.hash)
    assert AuditEventRow.select().where(AuditEventRow.sequence <= cut.sequence).count() == 0
    remaining = [row.id for row in AuditEventRow.select().order_by(AuditEventRow.sequence)]
    assert remaining[-3:] == [item.id for item in recent]
    result = audit_log.verify(0, 0)
    assert result.ok and result.from_sequence == cut.sequence + 1
    assert audit_log.verify(1, 0).from_sequence == cut.sequence + 1
    # Nothing older is left: a second prune removes nothing.
    assert audit_log.prune(old + timedelta(days=1)) == 0
    # The pruned prefix still may not be re-inserted, nor anything else changed.
    _refused(database, "UPDATE audit_anchor SET pruned_sequence = 0, pruned_hash = %s", "0" * 64)


def test_prune_stops_at_the_first_event_to_keep(database: peewee.Database) -> None:
    _prune_all()
    old = audit.now() - timedelta(days=4000)
    _append(1, created_at=old)
    keep = _append(1)[0]
    # An old event after one to keep stays too: only a prefix goes.
    _append(1, created_at=old)
    assert audit_log.prune(old + timedelta(days=1)) == 1
    ids = {row.id for row in AuditEventRow.select()}
    assert keep.id in ids and len(ids) == 2
    assert audit_log.verify(0, 0).ok


def test_pruning_everything_then_appending_chains_to_the_anchor(database: peewee.Database) -> None:
    _append(2)
    last = _head()
    audit_log.prune(audit.now() + timedelta(seconds=5))
    assert AuditEventRow.select().count() == 0
    empty = audit_log.verify(0, 0)
    assert empty.ok and empty.checked_count == 0
    _append(1)
    assert _head().previous_hash == last.hash and _head().sequence == last.sequence + 1
    assert audit_log.verify(0, 0).ok


def test_retention_setting() -> None:
    assert audit_log.retention_days({}) == 2555
    assert audit_log.retention_days({"BANK_AUDIT_RETENTION_DAYS": " 30 "}) == 30
    assert (
        audit_log.retention_days({"BANK_AUDIT_RETENTION_DAYS": "3000", "BANK_MODE": "production"})
        == 3000
    )
    for env in (
        {"BANK_AUDIT_RETENTION_DAYS": "seven"},
        {"BANK_AUDIT_RETENTION_DAYS": "0"},
        {"BANK_AUDIT_RETENTION_DAYS": "40000"},
        # Production keeps at least the contract's 7 years.
        {"BANK_AUDIT_RETENTION_DAYS": "30", "BANK_MODE": "production"},
    ):
        with pytest.raises(ConfigError):
            audit_log.retention_days(env)


def test_prune_expired_uses_the_retention(database: peewee.Database) -> None:
    _prune_all()
    _append(1, created_at=audit.now() - timedelta(days=40))
    young = _append(1, created_at=audit.now() - timedelta(days=10))[0]
    assert audit_log.prune_expired({"BANK_AUDIT_RETENTION_DAYS": "30"}) == 1
    oldest = AuditEventRow.select().order_by(AuditEventRow.sequence).get()
    assert oldest.id == young.id
    assert audit_log.verify(0, 0).ok


# -- When the audit store fails ------------------------------------------------------------------
def test_failed_appends_are_kept_and_written_first(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_append = audit._append
    failing = True

    def flaky(entries: list[rules.AuditEntry]) -> None:
        if failing:
            raise peewee.OperationalError("database unavailable")
        real_append(entries)

    monkeypatch.setattr(audit, "_append", flaky)
    monkeypatch.setattr(audit, "RETRY_SECONDS", 0.0)
    lost = audit_entry(request_id="req-lost-1")
    audit.record(lost)  # never raises
    assert audit.backlog_size() == 1 and not audit.accepting()
    line = next(r for r in caplog.records if r.getMessage().startswith("audit write failed"))
    assert line.levelname == "ERROR" and line.audit_event["request_id"] == "req-lost-1"  # type: ignore[attr-defined]
    second = audit_entry(request_id="req-lost-2")
    audit.record(second)
    assert audit.backlog_size() == 2
    failing = False
    assert audit.accepting() and audit.backlog_size() == 0
    later = _append(1)[0]
    rows = list(AuditEventRow.select().order_by(AuditEventRow.sequence.desc()).limit(3))
    assert [row.id for row in reversed(rows)] == [lost.id, second.id, later.id]
    assert audit_log.verify(0, 0).ok


def test_the_backlog_waits_for_its_retry_time(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_append = audit._append

    def broken(entries: list[rules.AuditEntry]) -> None:
        calls.append(len(entries))
        raise peewee.OperationalError("database unavailable")

    monkeypatch.setattr(audit, "_append", broken)
    monkeypatch.setattr(audit, "RETRY_SECONDS", 3600.0)
    audit.record(audit_entry())
    for _ in range(5):
        audit.record(audit_entry())
        assert not audit.accepting()
    # One attempt for the first event; the rest waited for the retry time.
    assert calls == [1]
    assert audit.backlog_size() == 6
    monkeypatch.setattr(audit, "_append", real_append)
    monkeypatch.setattr(audit._backlog, "_retry_at", 0.0)
    assert audit.accepting() and audit.backlog_size() == 0
    assert audit_log.verify(0, 0).ok


def test_backlog_events_the_log_already_holds_are_not_appended_again(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A COMMIT that reached the database but whose answer was lost."""
    real_append = audit._append

    def committed_then_lost(entries: list[rules.AuditEntry]) -> None:
        real_append(entries)
        raise peewee.InterfaceError("connection already closed")

    monkeypatch.setattr(audit, "RETRY_SECONDS", 0.0)
    monkeypatch.setattr(audit, "_append", committed_then_lost)
    lost = audit_entry(request_id="req-committed-lost")
    audit.record(lost)
    assert audit.backlog_size() == 1
    monkeypatch.setattr(audit, "_append", real_append)
    later = audit_entry(request_id="req-after")
    audit.record(later)
    assert audit.accepting() and audit.backlog_size() == 0
    rows = list(AuditEventRow.select().order_by(AuditEventRow.sequence.desc()).limit(2))
    assert [row.id for row in reversed(rows)] == [lost.id, later.id]
    assert AuditEventRow.select().where(AuditEventRow.id == lost.id).count() == 1
    assert audit_log.verify(0, 0).ok
