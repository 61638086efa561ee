"""The audit log: reading, verifying and pruning (appending: server.store.audit).

Retention. BANK_AUDIT_RETENTION_DAYS (default 2555 days, about 7 years: the
contract's minimum, which production mode enforces). `prune` removes the
oldest events, always a prefix of the log, in batches: each batch moves the
anchor to the last event it removes and then deletes up to it, in one
transaction, so verification of what remains starts from the anchor.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee

from server.config import ConfigError
from server.domain import audit as rules
from server.store import audit, tx
from server.store.db import database, is_postgres
from server.store.models import AuditAnchor, AuditEventResource, AuditEventRow

log = logging.getLogger(__name__)

VERIFY_BATCH = 5_000
PRUNE_BATCH_DEFAULT = 10_000
RETENTION_ENV = "BANK_AUDIT_RETENTION_DAYS"
RETENTION_DAYS_DEFAULT = 2555
RETENTION_DAYS_MAX = 36_500


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
    audit.lock_head()
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
        pruned_sequence=last.sequence, pruned_hash=last.hash, pruned_at=audit.now()
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
    return prune(audit.now() - timedelta(days=retention_days(env)))
