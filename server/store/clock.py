"""The server's notion of now: the wall clock, plus the sandbox offset.

In sandbox mode the offset lives in the `settings` table, so every server
process sees the same time; it only ever grows. In production it is zero.
Inside `call_scope()` (one RPC) the offset is read once and reused, so a
call sees one consistent clock and pays one read for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

from server.store import sql
from server.store.db import database

OFFSET_KEY = "sandbox_clock_offset_seconds"
ADVANCE_SECONDS_MAX = 366 * 24 * 3600

# The offset as read in the current call (None: not read yet, or no call).
_call_offset: ContextVar[list[int] | None] = ContextVar("clock_call_offset", default=None)


@contextlib.contextmanager
def call_scope() -> Iterator[None]:
    """Reads the offset at most once until the scope ends."""
    token = _call_offset.set([])
    try:
        yield
    finally:
        _call_offset.reset(token)


# A row of (NULL, NULL, offset) for a UNION with another read of the call
# (the token's revocations): one round trip for both; see `prime`.
OFFSET_ROW_SQL = 'SELECT NULL, NULL, "value" FROM "settings" WHERE "key" = ?'


def _read_offset() -> int:
    value = sql.scalar('SELECT "value" FROM "settings" WHERE "key" = ?', (OFFSET_KEY,))
    return int(value) if value is not None else 0


def prime(value: str | None) -> None:
    """The offset as another read of this call found it (OFFSET_ROW_SQL)."""
    cached = _call_offset.get()
    if cached is not None and not cached:
        cached.append(int(value) if value is not None else 0)


def offset_seconds() -> int:
    cached = _call_offset.get()
    if cached is None:
        return _read_offset()
    if not cached:
        cached.append(_read_offset())
    return cached[0]


def now(sandbox: bool = True) -> datetime:
    """Naive UTC 'now' as the bank sees it."""
    base = datetime.now(UTC).replace(tzinfo=None)
    return base + timedelta(seconds=offset_seconds()) if sandbox else base


def advance(seconds: int) -> int:
    """Moves the sandbox clock forward; returns the new offset in seconds."""
    assert 0 < seconds <= ADVANCE_SECONDS_MAX
    with database.atomic():
        # One statement, so concurrent advances add up instead of racing.
        sql.execute(
            'INSERT INTO "settings" ("key", "value") VALUES (?, ?) '
            'ON CONFLICT ("key") DO UPDATE SET "value" = '
            'CAST(CAST("settings"."value" AS BIGINT) + ? AS TEXT)',
            (OFFSET_KEY, str(seconds), seconds),
        )
        offset = _read_offset()
    cached = _call_offset.get()
    if cached is not None:
        cached[:] = [offset]
    return offset
