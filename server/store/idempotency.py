"""Stored outcomes of requests made with an Idempotency-Key.

The outcome is written in the same database transaction as the work, so a
crash either loses both (the retry executes) or keeps both (the retry is
answered from here): never one without the other. Keys are per client and
kept for `RETENTION`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain import errors
from server.store.db import database, is_postgres
from server.store.models import IdempotencyKey

RETENTION = timedelta(hours=24)


@dataclass(frozen=True)
class Outcome:
    """What the first request answered."""

    request_hash: str
    response: bytes | None
    http_status: int
    message: str
    error: errors.BankError | None


def lookup(client_id: str, key: str, now: datetime) -> Outcome | None:
    row = IdempotencyKey.get_or_none(
        (IdempotencyKey.client_id == client_id)
        & (IdempotencyKey.key == key)
        & (IdempotencyKey.expires_at > now)
    )
    if row is None:
        return None
    return Outcome(
        request_hash=row.request_hash,
        response=bytes(row.response) if row.response is not None else None,
        http_status=row.http_status,
        message=row.message,
        error=_load_error(row.error) if row.error else None,
    )


def claim(client_id: str, key: str, method: str, request_hash: str, now: datetime) -> bool:
    """Inserts the key inside the caller's transaction; False if another request holds it.

    On PostgreSQL a concurrent claim of the same key waits here until the
    holder commits or rolls back, so two requests with one key never both run.
    """
    IdempotencyKey.delete().where(
        (IdempotencyKey.client_id == client_id)
        & (IdempotencyKey.key == key)
        & (IdempotencyKey.expires_at <= now)
    ).execute()
    param = "%s" if is_postgres() else "?"
    cursor = database.execute_sql(
        "INSERT INTO idempotency_keys (client_id, key, method, request_hash, http_status,"
        " message, created_at, expires_at)"
        f" VALUES ({', '.join([param] * 8)}) ON CONFLICT (client_id, key) DO NOTHING",
        (client_id, key, method, request_hash, 0, "", now, now + RETENTION),
    )
    return bool(cursor.rowcount == 1)


def complete(client_id: str, key: str, response: bytes, http_status: int, message: str) -> None:
    IdempotencyKey.update(response=response, http_status=http_status, message=message).where(
        (IdempotencyKey.client_id == client_id) & (IdempotencyKey.key == key)
    ).execute()


def fail(client_id: str, key: str, error: errors.BankError) -> None:
    """Stores a failure met while executing as the outcome of the key this transaction claimed."""
    IdempotencyKey.update(http_status=error.http_status, error=_dump_error(error)).where(
        (IdempotencyKey.client_id == client_id) & (IdempotencyKey.key == key)
    ).execute()


def _dump_error(error: errors.BankError) -> str:
    return json.dumps(
        {
            "reason": error.reason,
            "grpc_status": error.grpc_status,
            "http_status": error.http_status,
            "message": error.message,
            "field": error.field,
            "details": error.details,
            "metadata": error.metadata,
        }
    )


def _load_error(text: str) -> errors.BankError:
    data = json.loads(text)
    error = errors.BankError(
        data["message"], field=data["field"], details=data["details"], metadata=data["metadata"]
    )
    error.reason = data["reason"]
    error.grpc_status = data["grpc_status"]
    error.http_status = data["http_status"]
    return error
