"""Scheduled transactions: when each one is due.

`scheduled_for` is the moment a SCHEDULED transaction executes (09:00 UTC on
its scheduled date); the due-work sweeper reads it through its index.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        "ALTER TABLE ledger_transactions ADD COLUMN scheduled_for TIMESTAMP",
        "CREATE INDEX ledger_transactions_due_idx ON ledger_transactions (status, scheduled_for)",
    ]
