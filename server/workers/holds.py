"""Releasing deposit holds whose time has come."""

from __future__ import annotations

from datetime import datetime

from server.store import holds, tx

BATCHES_MAX = 1_000  # per run: 100,000 holds; the rest wait for the next sweep


def release_due(now: datetime) -> int:
    """Releases every hold due at `now`, a batch per transaction; returns how many."""
    released = 0
    for _ in range(BATCHES_MAX):
        count = tx.write(lambda: holds.release_due(now))
        released += count
        if count < holds.RELEASE_BATCH_MAX:
            break
    return released
