"""Executing the scheduled transfers that have come due, one per transaction."""

from __future__ import annotations

from datetime import datetime

from server.services import scheduled
from server.store import scheduled as scheduled_rows
from server.store import tx

RUN_MAX = 10_000  # transfers per run; the rest wait for the next sweep


def run_due(now: datetime) -> tuple[int, int]:
    """Executes the transfers due at `now`; returns (completed, failed).

    Each is claimed (skipping one another process holds) and executed in
    one transaction, so a crash leaves it either done or still SCHEDULED.
    """
    completed = failed = 0
    for _ in range(RUN_MAX):
        status = tx.write(lambda: _claim_and_run(now))
        if status is None:
            break
        if status == "COMPLETED":
            completed += 1
        elif status == "FAILED":
            failed += 1
    return completed, failed


def _claim_and_run(now: datetime) -> str | None:
    """Claims the oldest due transfer and executes it; its new status (None: none due).

    An executed transfer leaves SCHEDULED (COMPLETED or FAILED) in the same
    transaction, so the next claim never finds it again.
    """
    row = scheduled_rows.claim_due(now)
    return None if row is None else scheduled.execute_due(row, now)
