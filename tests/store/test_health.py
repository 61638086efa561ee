"""The server's health follows what its calls would meet: the database, the audit log."""

from __future__ import annotations

from typing import Any

import peewee
import pytest
from grpc_health.v1 import health_pb2

from server.app import Health
from server.store import audit
from server.store import db as store_db
from tests.store import rows

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
NAMES = ["", "backoffice.v1.TransactionService"]


def _statuses(health: Health) -> list[int]:
    return [
        health.Check(health_pb2.HealthCheckRequest(service=name), None).status for name in NAMES
    ]


@pytest.fixture(autouse=True)
def _reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with the database marked reachable and no audit backlog."""
    monkeypatch.setattr(store_db, "_unreachable", type(store_db._unreachable)())
    monkeypatch.setattr(audit, "_backlog", audit._Backlog())


def test_a_database_out_of_reach_is_not_serving_until_it_answers(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    health = Health(NAMES)
    assert health.look() and _statuses(health) == [SERVING, SERVING]
    store_db.mark_unreachable()  # as a call that met an OperationalError does
    real = type(database).execute_sql

    def down(self: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        if sql == "SELECT 1":
            raise peewee.OperationalError("server closed the connection unexpectedly")
        return real(self, sql, *args, **kwargs)

    monkeypatch.setattr(type(database), "execute_sql", down)
    assert not health.look() and _statuses(health) == [NOT_SERVING, NOT_SERVING]
    assert not health.look()  # still down: still not serving
    monkeypatch.setattr(type(database), "execute_sql", real)
    assert health.look() and _statuses(health) == [SERVING, SERVING]
    assert not store_db.seems_unreachable()


def test_an_audit_backlog_is_not_serving_until_it_is_written(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    health = Health(NAMES)
    monkeypatch.setattr(audit, "RETRY_SECONDS", 0.0)
    real_append = audit._append
    failing = True

    def flaky(entries: list[Any]) -> None:
        if failing:
            raise peewee.OperationalError("database unavailable")
        real_append(entries)

    monkeypatch.setattr(audit, "_append", flaky)
    audit.record(rows.audit_entry())
    assert audit.backlog_size() == 1
    assert not health.look() and _statuses(health) == [NOT_SERVING, NOT_SERVING]
    failing = False
    assert health.look() and _statuses(health) == [SERVING, SERVING]
    assert audit.backlog_size() == 0
