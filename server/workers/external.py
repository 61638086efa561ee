"""Moving external transfers along when their next step comes due."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from server.services import external_settlement
from server.store import external_rows, tx

RUN_MAX = 10_000  # steps per run; the rest wait for the next sweep


def run_due(now: datetime) -> dict[str, int]:
    """Takes every external transfer step due at `now`; returns how many ended
    in each status (PROCESSING: submitted, COMPLETED, FAILED).

    Each step is claimed (skipping a transfer another process holds) and
    taken in one transaction, so a crash leaves it either done or still due.
    A transfer submitted and already due to settle (the sandbox clock moved
    past both) takes both steps in one run, in order.
    """
    done: Counter[str] = Counter()
    for _ in range(RUN_MAX):
        status = tx.write(lambda: _claim_and_step(now))
        if status is None:
            break
        done[status] += 1
    return dict(done)


def _claim_and_step(now: datetime) -> str | None:
    row = external_rows.claim_due(now)
    return None if row is None else external_settlement.step(row, now)
