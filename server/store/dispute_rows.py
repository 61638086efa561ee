"""Disputes' rows (m0031).

Every step runs inside its use case's database transaction. The disputed
transaction's row is locked first (`refund_rows.lock_original`, FOR UPDATE
on PostgreSQL; SQLite's write lock covers the whole database), then the
dispute's row, then the customer's account: one lock order for opening,
crediting and resolving. State changes are conditional updates (`WHERE
status = 'OPEN'`, `credit_status = 'PENDING'`): zero rows changed means
another process got there first, and the caller rolls back with a CONFLICT
(or, for the sweeper, skips) instead of moving money twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from server.domain import disputes
from server.store import case_lists
from server.store.db import is_postgres
from server.store.models import BaseModel


class DisputeRow(BaseModel):
    """One dispute (m0031)."""

    id = peewee.TextField(primary_key=True)
    transaction_id = peewee.TextField()
    account_id = peewee.TextField()
    owner_id = peewee.TextField(null=True)
    status = peewee.TextField()
    outcome = peewee.TextField(null=True)
    reason = peewee.TextField()
    currency = peewee.TextField()
    amount_minor = peewee.BigIntegerField()
    description = peewee.TextField()
    opened_by = peewee.TextField(null=True)
    client_id = peewee.TextField()
    investigation_deadline = peewee.DateTimeField()
    credit_status = peewee.TextField()
    credit_due = peewee.DateTimeField()
    credit_transaction_id = peewee.TextField(null=True)
    credited_at = peewee.DateTimeField(null=True)
    reversal_transaction_id = peewee.TextField(null=True)
    resolution_note = peewee.TextField(null=True)
    resolved_by = peewee.TextField(null=True)
    resolved_at = peewee.DateTimeField(null=True)
    created_at = peewee.DateTimeField()
    updated_at = peewee.DateTimeField()

    class Meta:
        table_name = "disputes"


@dataclass(frozen=True, slots=True)
class DisputeRecord:
    """A dispute as the api layer shows it."""

    id: str
    transaction_id: str
    account_id: str
    owner_id: str | None
    status: str
    outcome: str | None
    reason: str
    currency: str
    amount_minor: int
    description: str
    opened_by: str | None
    client_id: str
    investigation_deadline: datetime
    credit_status: str
    credit_due: datetime
    credit_transaction_id: str | None
    credited_at: datetime | None
    reversal_transaction_id: str | None
    resolution_note: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def rules(self) -> disputes.Dispute:
        """The dispute as the dispute rules see it."""
        return disputes.Dispute(
            dispute_id=self.id,
            transaction_id=self.transaction_id,
            status=self.status,
            reason=self.reason,
            amount_minor=self.amount_minor,
            currency=self.currency,
            created_at=self.created_at,
            investigation_deadline=self.investigation_deadline,
            credit_status=self.credit_status,
            credit_due=self.credit_due,
            outcome=self.outcome,
        )


@dataclass(frozen=True, slots=True)
class DisputePage:
    disputes: list[DisputeRecord]
    total: int
    next_key: list[Any] | None  # (created_at, id) of the last row when another page follows


def _record(row: DisputeRow) -> DisputeRecord:
    return DisputeRecord(**{name: getattr(row, name) for name in DisputeRecord.__slots__})


def others(transaction_id: str) -> tuple[int, str | None]:
    """(the amounts of the transaction's disputes, its OPEN dispute's id or None)."""
    rows: list[tuple[str, str, int]] = list(
        DisputeRow.select(DisputeRow.id, DisputeRow.status, DisputeRow.amount_minor)
        .where(DisputeRow.transaction_id == transaction_id)
        .tuples()  # type: ignore[arg-type]
    )
    open_id = next((i for i, status, _ in rows if status == disputes.OPEN), None)
    return sum(int(amount) for _, _, amount in rows), open_id


def standing(transaction_id: str) -> tuple[int, int]:
    """(how many, how much) of the transaction's disputes stand: OPEN, or
    resolved for the customer. A refund or a reversal would pay that money
    back a second time."""
    rows: list[tuple[int]] = list(
        DisputeRow.select(DisputeRow.amount_minor)
        .where(
            (DisputeRow.transaction_id == transaction_id)
            & (
                (DisputeRow.status == disputes.OPEN)
                | (DisputeRow.outcome == disputes.CUSTOMER_FAVOR)
            )
        )
        .tuples()  # type: ignore[arg-type]
    )
    return len(rows), sum(int(amount) for (amount,) in rows)


def insert(record: DisputeRecord) -> None:
    DisputeRow.insert({name: getattr(record, name) for name in DisputeRecord.__slots__}).execute()


def get(dispute_id: str, *, lock: bool = False) -> DisputeRecord | None:
    query = DisputeRow.select().where(DisputeRow.id == dispute_id)
    if lock and is_postgres():
        query = query.for_update()
    row: DisputeRow | None = query.first()
    return _record(row) if row is not None else None


def mark_credited(dispute_id: str, transaction_id: str, now: datetime) -> bool:
    """PENDING -> CREDITED on an OPEN dispute; False when another got there first."""
    changed = (
        DisputeRow.update(
            credit_status=disputes.CREDITED,
            credit_transaction_id=transaction_id,
            credited_at=now,
            updated_at=now,
        )
        .where(
            (DisputeRow.id == dispute_id)
            & (DisputeRow.status == disputes.OPEN)
            & (DisputeRow.credit_status == disputes.PENDING)
        )
        .execute()
    )
    return bool(changed)


def mark_resolved(
    resolved: disputes.Dispute,
    *,
    credit_transaction_id: str | None,
    reversal_transaction_id: str | None,
    note: str,
    resolver: str | None,
    now: datetime,
) -> bool:
    """OPEN -> RESOLVED with the outcome and the credit's state; False when no longer OPEN."""
    values: dict[Any, Any] = {
        DisputeRow.status: disputes.RESOLVED,
        DisputeRow.outcome: resolved.outcome,
        DisputeRow.credit_status: resolved.credit_status,
        DisputeRow.resolution_note: note or None,
        DisputeRow.resolved_by: resolver,
        DisputeRow.resolved_at: now,
        DisputeRow.updated_at: now,
    }
    if credit_transaction_id is not None:
        values[DisputeRow.credit_transaction_id] = credit_transaction_id
        values[DisputeRow.credited_at] = now
    if reversal_transaction_id is not None:
        values[DisputeRow.reversal_transaction_id] = reversal_transaction_id
    changed = (
        DisputeRow.update(values)
        .where((DisputeRow.id == resolved.dispute_id) & (DisputeRow.status == disputes.OPEN))
        .execute()
    )
    return bool(changed)


def due_ids(now: datetime, limit: int) -> list[str]:
    """OPEN disputes whose provisional credit is PENDING and due by `now`, oldest due first."""
    rows: list[tuple[str]] = list(
        DisputeRow.select(DisputeRow.id)
        .where(
            (DisputeRow.credit_status == disputes.PENDING)
            & (DisputeRow.status == disputes.OPEN)
            & (DisputeRow.credit_due <= now)
        )
        .order_by(DisputeRow.credit_due, DisputeRow.id)
        .limit(limit)
        .tuples()  # type: ignore[arg-type]
    )
    return [dispute_id for (dispute_id,) in rows]


def list_disputes(
    query: case_lists.CaseQuery, *, limit: int, offset: int, after: list[Any] | None
) -> DisputePage:
    """One page by creation time (then id), with the count of every match."""
    found = case_lists.page(DisputeRow, query, limit=limit, offset=offset, after=after)
    return DisputePage([_record(row) for row in found.rows], found.total, found.next_key)
