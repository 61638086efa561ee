"""Work that becomes due as time passes: deposit holds, scheduled transfers,
monthly statements of closed months, audit events past their retention,
idempotency keys past their 24 hours.

Run by a background sweeper (in server process 0), and at once when the
sandbox clock moves. Each item is claimed and done in a short write
transaction of its own, safe to run in several processes at once (see
server.workers).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from server.crypto.fields import FieldSealer
from server.store import audit, audit_log, clock, idempotency
from server.store.db import per_use_connection
from server.workers import (
    disputes,
    external,
    holds,
    payments,
    recurring,
    risk_alerts,
    scheduled,
    statements,
)

log = logging.getLogger(__name__)
SWEEP_INTERVAL_SECONDS = 30.0


def run(now: datetime, sandbox: bool = False, sealer: FieldSealer | None = None) -> dict[str, int]:
    """Does everything due at `now` (in sandbox mode with the sandbox's
    scripted outcomes); returns counts per kind of work. `sealer`: customers
    are told of what concerns them (a dispute's provisional credit)."""
    released = holds.release_due(now)
    completed, failed = scheduled.run_due(now)
    # External transfers by the status each step left them in (PROCESSING: submitted).
    external_steps = {f"external_{s.lower()}": n for s, n in external.run_due(now).items()}
    recurring_executed, recurring_failed = recurring.run_due(now)
    return {
        "holds_released": released,
        "scheduled_completed": completed,
        "scheduled_failed": failed,
        **payments.run_due(now, sandbox),
        "recurring_executed": recurring_executed,
        "recurring_failed": recurring_failed,
        "dispute_credits_posted": disputes.run_due(now, sealer),
        "risk_alerts_expired": risk_alerts.run_due(now),
        # After the movements above: a month's statements read its last postings.
        "statements_made": statements.run_due(now),
        # Retention is counted in real time, not on the sandbox clock (`now`).
        "audit_events_pruned": audit_log.prune_expired(),
        "idempotency_keys_pruned": idempotency.prune_expired(audit.now()),
        **external_steps,
    }


def start_sweeper(
    stop: threading.Event, sandbox: bool, sealer: FieldSealer | None = None
) -> threading.Thread:
    """A daemon thread running `run` every SWEEP_INTERVAL_SECONDS until `stop`."""

    def sweep() -> None:
        while not stop.wait(SWEEP_INTERVAL_SECONDS):
            try:
                with per_use_connection():
                    done = run(clock.now(sandbox), sandbox, sealer)
                if any(done.values()):
                    log.info("due work done", extra=done)
            except Exception:
                log.exception("due work failed; retrying at the next sweep")

    thread = threading.Thread(target=sweep, name="due-work", daemon=True)
    thread.start()
    return thread
