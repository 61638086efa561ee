"""Work that becomes due as time passes: deposit holds, scheduled transfers,
audit events past their retention.

Run by a background sweeper in every server process, and at once when the
sandbox clock moves. Each step is its own short write transaction and is safe
to run concurrently in several processes (a hold is released by a
conditional update, so only one process wins it).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from server.store import audit, clock, tx
from server.store.db import per_use_connection
from server.store.movements import (
    due_scheduled_transfers,
    release_due_holds,
    run_scheduled_transfer,
)

log = logging.getLogger(__name__)
SWEEP_INTERVAL_SECONDS = 30.0


def run(now: datetime) -> dict[str, int]:
    """Does everything due at `now`; returns counts per kind of work."""
    done = {
        "holds_released": tx.write(lambda: release_due_holds(now)),
        "scheduled_completed": 0,
        "scheduled_failed": 0,
    }
    seen: set[str] = set()
    while batch := [t for t in due_scheduled_transfers(now) if t not in seen]:
        for transaction_id in batch:
            seen.add(transaction_id)
            status = run_scheduled_transfer(transaction_id, now)
            key = "scheduled_completed" if status == "COMPLETED" else "scheduled_failed"
            done[key] += 1
    # Retention is counted in real time, not on the sandbox clock (`now`).
    done["audit_events_pruned"] = audit.prune_expired()
    return done


def start_sweeper(stop: threading.Event, sandbox: bool) -> threading.Thread:
    """A daemon thread running `run` every SWEEP_INTERVAL_SECONDS until `stop`."""

    def sweep() -> None:
        while not stop.wait(SWEEP_INTERVAL_SECONDS):
            try:
                with per_use_connection():
                    done = run(clock.now(sandbox))
                if any(done.values()):
                    log.info("due work done", extra=done)
            except Exception:
                log.exception("due work failed; retrying at the next sweep")

    thread = threading.Thread(target=sweep, name="due-work", daemon=True)
    thread.start()
    return thread
