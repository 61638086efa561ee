"""Refund requests' rows (m0018), and the original transaction as refunds see it.

Every step runs inside its use case's database transaction. The original
transaction's row is locked first (`lock_original`, FOR UPDATE on
PostgreSQL; SQLite's write lock covers the whole database), so two requests
or approvals on one original run one after the other and each sees the
sums the other wrote. Status changes are conditional updates (`WHERE status
= expected`): zero rows changed means another process got there first, and
the caller rolls back with a CONFLICT instead of moving money twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from server.domain import refunds
from server.domain import transaction_states as states
from server.store import case_lists
from server.store.db import is_postgres
from server.store.models import Account, AccountEntry, BaseModel, LedgerTransaction


class RefundRequestRow(BaseModel):
    """One refund request (m0018)."""

    id = peewee.TextField(primary_key=True)
    transaction_id = peewee.TextField()
    account_id = peewee.TextField()
    owner_id = peewee.TextField(null=True)
    status = peewee.TextField()
    reason = peewee.TextField()
    currency = peewee.TextField()
    amount_minor = peewee.BigIntegerField()
    approved_minor = peewee.BigIntegerField(null=True)
    description = peewee.TextField()
    requested_by = peewee.TextField(null=True)
    client_id = peewee.TextField()
    expected_resolution = peewee.DateTimeField()
    reviewed_by = peewee.TextField(null=True)
    reviewed_at = peewee.DateTimeField(null=True)
    review_notes = peewee.TextField(null=True)
    rejection_reason = peewee.TextField(null=True)
    refund_transaction_id = peewee.TextField(null=True)
    created_at = peewee.DateTimeField()
    completed_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "refund_requests"


@dataclass(frozen=True, slots=True)
class RefundRecord:
    """A refund request as the api layer shows it."""

    id: str
    transaction_id: str
    account_id: str
    owner_id: str | None
    status: str
    reason: str
    currency: str
    amount_minor: int
    approved_minor: int | None
    description: str
    requested_by: str | None
    client_id: str
    expected_resolution: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_notes: str | None
    rejection_reason: str | None
    refund_transaction_id: str | None
    created_at: datetime
    completed_at: datetime | None

    def rules(self) -> refunds.RefundRequest:
        """The request as the refund rules see it."""
        return refunds.RefundRequest(
            request_id=self.id,
            transaction_id=self.transaction_id,
            status=self.status,
            amount_minor=self.amount_minor,
            currency=self.currency,
            approved_minor=self.approved_minor,
        )


@dataclass(frozen=True, slots=True)
class OriginalRecord:
    """The transaction a request names, with the owners of its two sides."""

    id: str
    number: str
    type: str
    status: str
    currency: str
    amount_minor: int
    completed_at: datetime | None
    from_account_id: str | None
    to_account_id: str | None
    from_owner_id: str | None
    to_owner_id: str | None
    from_is_customer: bool
    to_is_customer: bool
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RefundPage:
    requests: list[RefundRecord]
    total: int
    next_key: list[Any] | None  # (created_at, id) of the last row when another page follows


def _record(row: RefundRequestRow) -> RefundRecord:
    return RefundRecord(**{name: getattr(row, name) for name in RefundRecord.__slots__})


# --- the original -------------------------------------------------------------------------


def lock_original(transaction_id: str) -> OriginalRecord | None:
    """The transaction, locked for this database transaction, or None."""
    query = LedgerTransaction.select().where(LedgerTransaction.id == transaction_id)
    if is_postgres():
        query = query.for_update()
    row: LedgerTransaction | None = query.first()
    if row is None:
        return None
    sides = {
        account.id: account
        for account in Account.select(Account.id, Account.owner, Account.kind).where(
            Account.id.in_([i for i in (row.from_account_id, row.to_account_id) if i])
        )
    }
    source, target = sides.get(row.from_account_id or ""), sides.get(row.to_account_id or "")
    return OriginalRecord(
        id=row.id,
        number=row.number,
        type=row.type,
        status=row.status,
        currency=row.currency,
        amount_minor=row.amount_minor,
        completed_at=row.completed_at,
        from_account_id=row.from_account_id,
        to_account_id=row.to_account_id,
        from_owner_id=source.owner_id if source else None,
        to_owner_id=target.owner_id if target else None,
        from_is_customer=source is not None and source.kind == "CUSTOMER",
        to_is_customer=target is not None and target.kind == "CUSTOMER",
        details=json.loads(row.details or "{}"),
    )


def sums(transaction_id: str, *, excluding: str | None = None) -> tuple[int, int]:
    """(refunded, open) minor units of the original's requests: COMPLETED ones'
    approved amounts, and what PENDING_REVIEW and APPROVED ones ask for
    (`excluding` one request, the one being approved)."""
    query = RefundRequestRow.select(
        RefundRequestRow.status,
        peewee.fn.SUM(peewee.fn.COALESCE(RefundRequestRow.approved_minor, 0)),
        peewee.fn.SUM(RefundRequestRow.amount_minor),
    ).where(RefundRequestRow.transaction_id == transaction_id)
    if excluding is not None:
        query = query.where(RefundRequestRow.id != excluding)
    refunded = open_minor = 0
    found: list[tuple[str, int | None, int | None]] = list(
        query.group_by(RefundRequestRow.status).tuples()  # type: ignore[arg-type]
    )
    for status, approved, asked in found:
        if status == refunds.COMPLETED:
            refunded += int(approved or 0)
        elif status in refunds.OPEN_STATUSES:
            open_minor += int(asked or 0)
    return refunded, open_minor


def mark_original(
    original: OriginalRecord, refunded_minor: int, status: str, refund_transaction_id: str
) -> bool:
    """Records the refunds on the original (details `refunded_minor`, status
    REFUNDED once whole) if it is still COMPLETED; False when it is not."""
    details = {
        **original.details,
        "refunded_minor": refunded_minor,
        "refund_transaction_ids": [
            *original.details.get("refund_transaction_ids", []),
            refund_transaction_id,
        ],
    }
    changed = (
        LedgerTransaction.update(status=status, details=json.dumps(details, sort_keys=True))
        .where(
            (LedgerTransaction.id == original.id) & (LedgerTransaction.status == states.COMPLETED)
        )
        .execute()
    )
    if changed and status != states.COMPLETED:
        AccountEntry.update(status=status).where(
            AccountEntry.transaction_id == original.id
        ).execute()
    return bool(changed)


# --- requests -------------------------------------------------------------------------------


def insert(record: RefundRecord) -> None:
    RefundRequestRow.insert(
        {name: getattr(record, name) for name in RefundRecord.__slots__}
    ).execute()


def get(request_id: str, *, lock: bool = False) -> RefundRecord | None:
    query = RefundRequestRow.select().where(RefundRequestRow.id == request_id)
    if lock and is_postgres():
        query = query.for_update()
    row: RefundRequestRow | None = query.first()
    return _record(row) if row is not None else None


def complete(
    request_id: str,
    *,
    approved_minor: int,
    refund_transaction_id: str,
    reviewer: str | None,
    notes: str,
    now: datetime,
) -> bool:
    """PENDING_REVIEW -> COMPLETED (the REFUND posts in the same database
    transaction, so APPROVED is never stored); False when no longer under review."""
    changed = (
        RefundRequestRow.update(
            status=refunds.COMPLETED,
            approved_minor=approved_minor,
            refund_transaction_id=refund_transaction_id,
            reviewed_by=reviewer,
            reviewed_at=now,
            review_notes=notes or None,
            completed_at=now,
        )
        .where(
            (RefundRequestRow.id == request_id)
            & (RefundRequestRow.status == refunds.PENDING_REVIEW)
        )
        .execute()
    )
    return bool(changed)


def reject(request_id: str, *, reason: str, reviewer: str | None, now: datetime) -> bool:
    """PENDING_REVIEW -> REJECTED; False when no longer under review."""
    changed = (
        RefundRequestRow.update(
            status=refunds.REJECTED, rejection_reason=reason, reviewed_by=reviewer, reviewed_at=now
        )
        .where(
            (RefundRequestRow.id == request_id)
            & (RefundRequestRow.status == refunds.PENDING_REVIEW)
        )
        .execute()
    )
    return bool(changed)


def list_requests(
    query: case_lists.CaseQuery, *, limit: int, offset: int, after: list[Any] | None
) -> RefundPage:
    """One page by creation time (then id), with the count of every match."""
    found = case_lists.page(RefundRequestRow, query, limit=limit, offset=offset, after=after)
    return RefundPage([_record(row) for row in found.rows], found.total, found.next_key)
