"""Executing scheduled transfers when they come due.

Called by the due-work worker (server.workers.scheduled) with a transfer it
claimed. The transfer's accounts are locked in sorted order and its row
read again under the locks; a refusal then (funds, limits, a closed
account) makes it FAILED, in the same transaction, with why.
"""

from __future__ import annotations

from datetime import datetime

from server.domain import errors
from server.services import transfers
from server.store import ledger, tx
from server.store import scheduled as scheduled_rows
from server.store.models import LedgerTransaction


def execute_due(row: LedgerTransaction, now: datetime) -> str:
    """Posts one due SCHEDULED transfer, inside the caller's transaction; returns
    its new status (COMPLETED or FAILED; another status when someone else got
    to it first)."""
    locked = ledger.lock_accounts([str(row.from_account_id), str(row.to_account_id)])
    row = scheduled_rows.reread(row.id)  # under the locks
    if row.status != "SCHEDULED":
        return str(row.status)
    try:
        # A savepoint: a refusal undoes only this attempt.
        tx.write(lambda: transfers.execute(row, locked, now, new=False))
    except errors.BankError as refusal:
        scheduled_rows.fail(row, refusal.reason, refusal.message, now)
        return "FAILED"
    return "COMPLETED"
