"""Provisional credits of open disputes that fall due (dispute.proto).

A dispute not about an unauthorized transaction gets its provisional credit
when its investigation deadline (10 business days) arrives while it is still
OPEN. The due-work sweeper runs this every 30 s and at once when the sandbox
clock moves. Each dispute is credited in a transaction of its own that locks
the disputed transaction and the dispute and re-checks that the credit is
still due, so several processes may run it at once and a dispute resolved
meanwhile is never credited.
"""

from __future__ import annotations

from datetime import datetime

from server.crypto.fields import FieldSealer
from server.services import dispute_postings


def run_due(now: datetime, sealer: FieldSealer | None = None) -> int:
    """Posts the provisional credits due at `now` (each owner told when
    `sealer` is given); returns how many posted."""
    return dispute_postings.credit_due(now, sealer)
