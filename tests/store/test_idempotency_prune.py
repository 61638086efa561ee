"""Idempotency keys past their 24 hours are removed by the due work, in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import peewee

from server.store import idempotency as keys
from server.store.models import IdempotencyKey
from server.workers import due_work


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _key(name: str, expires_at: datetime) -> None:
    IdempotencyKey.create(
        client_id="prune-client",
        user_id="",
        key=name,
        method="/backoffice.v1.TransactionService/CreateTransfer",
        request_hash="h",
        http_status=201,
        message="",
        created_at=expires_at - keys.RETENTION,
        expires_at=expires_at,
    )


def _left() -> list[str]:
    rows = IdempotencyKey.select().where(IdempotencyKey.client_id == "prune-client")
    return sorted(row.key for row in rows)


def test_only_keys_past_their_time_go_in_batches(database: peewee.Database) -> None:
    now = _now()
    for index in range(5):
        _key(f"old-{index}", now - timedelta(minutes=index + 1))
    _key("live", now + timedelta(hours=1))
    _key("edge", now)  # its time is up at `now`
    assert keys.prune_expired(now, batch=2) == 6  # three full batches and a short one
    assert _left() == ["live"]
    assert keys.prune_expired(now, batch=2) == 0
    assert keys.lookup(keys.Owner("prune-client", ""), "live", now) is not None


def test_the_due_work_prunes_by_real_time(database: peewee.Database) -> None:
    _key("stale", _now() - timedelta(seconds=5))
    _key("fresh", _now() + timedelta(hours=23))
    # The sandbox clock a year on does not age keys: only real time does.
    done = due_work.run(_now() + timedelta(days=365))
    assert done["idempotency_keys_pruned"] >= 1
    assert "stale" not in _left() and "fresh" in _left()
