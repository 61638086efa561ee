"""The server's notion of now: the wall clock, plus the sandbox offset.

In sandbox mode the offset lives in the `settings` table, so every server
process sees the same time; it only ever grows. In production it is zero.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.store.db import database, is_postgres
from server.store.models import Setting

OFFSET_KEY = "sandbox_clock_offset_seconds"
ADVANCE_SECONDS_MAX = 366 * 24 * 3600


def offset_seconds() -> int:
    row = Setting.get_or_none(Setting.key == OFFSET_KEY)
    return int(row.value) if row else 0


def now(sandbox: bool = True) -> datetime:
    """Naive UTC 'now' as the bank sees it."""
    base = datetime.now(UTC).replace(tzinfo=None)
    return base + timedelta(seconds=offset_seconds()) if sandbox else base


def advance(seconds: int) -> int:
    """Moves the sandbox clock forward; returns the new offset in seconds."""
    assert 0 < seconds <= ADVANCE_SECONDS_MAX
    param = "%s" if is_postgres() else "?"
    with database.atomic():
        # One statement, so concurrent advances add up instead of racing.
        database.execute_sql(
            f"INSERT INTO settings (key, value) VALUES ({param}, {param}) "
            "ON CONFLICT (key) DO UPDATE SET value = "
            f"CAST(CAST(settings.value AS BIGINT) + {param} AS TEXT)",
            (OFFSET_KEY, str(seconds), seconds),
        )
        return offset_seconds()
