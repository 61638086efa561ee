"""The server's notion of now: the wall clock, plus the sandbox offset.

In sandbox mode the offset lives in the `settings` table, so every server
process sees the same time; it only ever grows. In production it is zero.
Inside `call_scope()` (one RPC) the offset is found once and reused, so a
call sees one consistent clock. Each process also remembers the offset
until the credential epoch moves (`server.store.credential_changes`: a move
of the clock, by any process, moves it), so in the steady state a call
reads nothing for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

from server.store import credential_changes, sql
from server.store.db import database

OFFSET_KEY = "sandbox_clock_offset_seconds"
ADVANCE_SECONDS_MAX = 366 * 24 * 3600

# The offset as read in the current call (None: not read yet, or no call).
_call_offset: ContextVar[list[int] | None] = ContextVar("clock_call_offset", default=None)
# The offset as this process last read it, valid within its epoch.
_remembered: credential_changes.EpochCache[str, int] = credential_changes.EpochCache(1)


@contextlib.contextmanager
def call_scope() -> Iterator[None]:
    """One call: the offset (and the credential epoch) found at most once until it ends."""
    token = _call_offset.set([])
    try:
        with credential_changes.call_scope():
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
    """The offset as another read of this call found it (OFFSET_ROW_SQL).

    The call's epoch was taken before that read, so the value may be
    remembered for the epoch.
    """
    cached = _call_offset.get()
    if cached is not None and not cached:
        offset = int(value) if value is not None else 0
        cached.append(offset)
        _remembered.put(OFFSET_KEY, credential_changes.epoch(), offset)


def _offset() -> int:
    at = credential_changes.epoch()  # before the read: see EpochCache.put
    offset = _remembered.get(OFFSET_KEY, at)
    if offset is None:
        offset = _read_offset()
        _remembered.put(OFFSET_KEY, at, offset)
    return offset


def offset_seconds() -> int:
    cached = _call_offset.get()
    if cached is None:
        return _offset()
    if not cached:
        cached.append(_offset())
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
        credential_changes.changed()
        offset = _read_offset()
    credential_changes.changed()  # committed (unless an enclosing transaction holds it)
    cached = _call_offset.get()
    if cached is not None:
        cached[:] = [offset]
    return offset
