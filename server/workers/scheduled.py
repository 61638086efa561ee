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
    seen: set[str] = set()
    for _ in range(RUN_MAX):

        def claim_and_run() -> tuple[str, str] | None:
            row = scheduled_rows.claim_due(now, frozenset(seen))
            if row is None:
                return None
            return row.id, scheduled.execute_due(row, now)

        done = tx.write(claim_and_run)
        if done is None:
            break
        transaction_id, status = done
        seen.add(transaction_id)  # whatever became of it, once per run
        if status == "COMPLETED":
            completed += 1
        elif status == "FAILED":
            failed += 1
    return completed, failed
