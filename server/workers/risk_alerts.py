"""Fraud-review alerts nobody decided (risk.proto): an OPEN alert raised more
than risk.ALERT_EXPIRY_DAYS ago is rejected, as staff would reject it (the
reservation released, the movement CANCELLED with failureCode RISK_REJECTED,
the alert REJECTED by `expiry`). Each alert is claimed by the same
conditional OPEN -> REJECTED update as a staff decision, in a transaction of
its own, so a staff decision at the same moment and the sweep decide once.
Run by the due-work sweeper (server.workers.due_work).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server.domain import risk
from server.services import risk_reviews
from server.store import risk_rows

RUN_MAX = 1_000  # alerts per run; the rest wait for the next sweep


def run_due(now: datetime) -> int:
    """Rejects the alerts past their expiry at `now`; returns how many."""
    cutoff = now - timedelta(days=risk.ALERT_EXPIRY_DAYS)
    return sum(
        risk_reviews.expire(alert_id, now)
        for alert_id in risk_rows.open_alerts_before(cutoff, RUN_MAX)
    )
