"""Scheduled transfers' rows: stored SCHEDULED, then completed in place,
failed, or cancelled when an account they touch closes.

The worker (server.workers.scheduled) claims a due transfer with `FOR UPDATE
SKIP LOCKED` on PostgreSQL, so several server processes never run one
transfer twice and never queue behind each other for it; SQLite serialises
writers anyway.
"""

from __future__ import annotations

import json
from datetime import datetime

from server.domain import limits
from server.store import limit_usage, outbox, sql
from server.store.db import is_postgres
from server.store.models import AccountEntry, LedgerTransaction
from server.store.movement_rows import event_data


def claim_due(now: datetime) -> LedgerTransaction | None:
    """The oldest SCHEDULED transfer due at `now`, locked for this transaction
    (on PostgreSQL; one another process holds is skipped), or None.

    Transfers due at one moment run in the order they were made, so that of
    two that do not both fit (funds, limits) the earlier one is the one that
    runs.
    """
    query = LedgerTransaction.select().where(
        (LedgerTransaction.status == "SCHEDULED") & (LedgerTransaction.scheduled_for <= now)
    )
    query = query.order_by(
        LedgerTransaction.scheduled_for, LedgerTransaction.created_at, LedgerTransaction.id
    ).limit(1)
    if is_postgres():
        query = query.for_update(skip_locked=True)
    found: LedgerTransaction | None = query.first()
    return found


def reread(transaction_id: str) -> LedgerTransaction:
    return LedgerTransaction.get_by_id(transaction_id)


def complete(row: LedgerTransaction, balances: dict[str, int], now: datetime) -> None:
    """A stored SCHEDULED transfer, now posted: its row and history rows
    completed in place, and the debit counted toward the source's limits.

    The history rows are dated `now`, the moment the money moves (they were
    dated when the transfer was scheduled), and the debit counts in the day
    and month of `now`, the periods its limits were checked in: a history
    filtered by the day of the move finds it, its balance after follows the
    lines before it, and the counters stay the sums of the rows' debits.
    """
    from_id, to_id = str(row.from_account_id), str(row.to_account_id)
    sql.defer(
        'UPDATE "ledger_transactions" SET "status" = ?, "completed_at" = ? WHERE "id" = ?',
        (row.status, LedgerTransaction.completed_at.db_value(now), row.id),
    )
    dated = AccountEntry.created_at.db_value(now)
    for account_id, limit_class in (
        (from_id, limits.CLASS_TRANSFER),
        (to_id, limits.CLASS_NONE),
    ):
        sql.defer(
            'UPDATE "account_entries" SET "status" = ?, "balance_after_minor" = ?,'
            ' "limit_class" = ?, "created_at" = ? WHERE "transaction_id" = ? AND "account_id" = ?',
            ("COMPLETED", balances[account_id], limit_class, dated, row.id, account_id),
        )
    limit_usage.count(from_id, limits.CLASS_TRANSFER, row.amount_minor, now)


def fail(row: LedgerTransaction, code: str, message: str, now: datetime) -> None:
    """A scheduled transfer refused when it came due: FAILED, with why."""
    details = json.loads(row.details or "{}")
    details["failure_code"] = code
    LedgerTransaction.update(
        status="FAILED", failure_reason=message, details=json.dumps(details, sort_keys=True)
    ).where(LedgerTransaction.id == row.id).execute()
    AccountEntry.update(status="FAILED").where(AccountEntry.transaction_id == row.id).execute()
    row.status = "FAILED"
    data = event_data(row, str(row.from_account_id))
    data["failureCode"], data["failureReason"] = code, message
    outbox.emit("transaction.failed", row.id, data, now)


def cancel_on_close(account_id: str, now: datetime) -> None:
    """Closing an account cancels the scheduled transfers that touch it.

    Runs inside CloseAccount's transaction, after the account's lock. A
    transfer the worker is executing right now is skipped (it finds the
    account closed and fails), so the two never wait for each other.
    """
    doomed = LedgerTransaction.select().where(
        (LedgerTransaction.status == "SCHEDULED")
        & (
            (LedgerTransaction.from_account_id == account_id)
            | (LedgerTransaction.to_account_id == account_id)
        )
    )
    if is_postgres():
        doomed = doomed.for_update(skip_locked=True)
    for row in list(doomed):
        LedgerTransaction.update(
            status="CANCELLED", cancelled_at=now, failure_reason="Account closed"
        ).where(LedgerTransaction.id == row.id).execute()
        AccountEntry.update(status="CANCELLED").where(
            AccountEntry.transaction_id == row.id
        ).execute()
        row.status = "CANCELLED"
        outbox.emit("transaction.cancelled", row.id, event_data(row, str(row.from_account_id)), now)
