"""tx.write_lasting: a write that stays when the blocks around it roll back."""

from __future__ import annotations

from datetime import datetime

import peewee
import pytest

from server.domain import errors
from server.store import tx
from server.store.models import RateLimitCounter

# Any small table does: rate-limit counters have a text key and an integer.
KEY = "test:lasting"


def _count(key: str) -> int:
    row = RateLimitCounter.get_or_none(RateLimitCounter.key == key)
    return int(row.count) if row is not None else 0


def _bump(key: str) -> None:
    updated = (
        RateLimitCounter.update(count=RateLimitCounter.count + 1)
        .where(RateLimitCounter.key == key)
        .execute()
    )
    if not updated:
        RateLimitCounter.create(key=key, count=1, granted=1, expires_at=datetime(2100, 1, 1))


class Refused(errors.ValidationFailed):
    pass


def test_it_stays_when_the_whole_transaction_rolls_back(database: peewee.Database) -> None:
    key = f"{KEY}:outer"

    def work() -> None:
        tx.write_lasting(lambda: _bump(key))
        raise Refused("no")

    with pytest.raises(Refused):
        tx.write(work)
    assert _count(key) == 1


def test_it_stays_when_its_savepoint_rolls_back_and_the_rest_commits(
    database: peewee.Database,
) -> None:
    """An idempotent request: the work's savepoint fails, the stored failure commits."""
    key, kept = f"{KEY}:savepoint", f"{KEY}:kept"

    def behavior() -> None:
        tx.write_lasting(lambda: _bump(key))
        raise Refused("no")

    def request() -> None:
        _bump(kept)
        with pytest.raises(Refused):
            tx.write(behavior)

    tx.write(request)
    assert (_count(key), _count(kept)) == (1, 1)


def test_it_is_made_once_when_nothing_fails(database: peewee.Database) -> None:
    key = f"{KEY}:once"

    def request() -> None:
        tx.write(lambda: tx.write_lasting(lambda: _bump(key)))

    tx.write(request)
    assert _count(key) == 1


def test_it_stays_through_two_rolled_back_levels(database: peewee.Database) -> None:
    key = f"{KEY}:nested"

    def inner() -> None:
        tx.write_lasting(lambda: _bump(key))
        raise Refused("inner")

    def middle() -> None:
        tx.write(inner)

    with pytest.raises(Refused):
        tx.write(lambda: tx.write(middle))
    assert _count(key) == 1


def test_ordinary_writes_still_roll_back(database: peewee.Database) -> None:
    key = f"{KEY}:ordinary"

    def work() -> None:
        _bump(key)
        raise Refused("no")

    with pytest.raises(Refused):
        tx.write(work)
    assert _count(key) == 0
