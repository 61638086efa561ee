"""Stored outcomes of requests made with an Idempotency-Key.

The outcome is written in the same database transaction as the work, so a
crash either loses both (the retry executes) or keeps both (the retry is
answered from here): never one without the other. Keys are kept for
`RETENTION`.

A key belongs to its owner: the client and, when the token is a person's,
that person (`user_id`, empty for a client acting for itself), so one
caller's key never replays or blocks another's. A key stored before owners
were recorded (m0013) reads `LEGACY_OWNER` there and still answers any
caller of its client, as it did, until it expires (24 h at most): running a
retry again instead would move the money twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain import errors
from server.store import sql, tx
from server.store.db import is_postgres
from server.store.models import IdempotencyKey

RETENTION = timedelta(hours=24)
LEGACY_OWNER = "*"
# Failures kept as a key's outcome: those met while executing (not found,
# conflicts, business rules). Others (malformed input, an unavailable
# database) give the key up, so a retry runs again.
STORED_FAILURE_STATUSES = frozenset({404, 409, 422})


def kept(error: errors.BankError) -> bool:
    """True when `error` is kept as the outcome of the key its request claimed."""
    return error.http_status in STORED_FAILURE_STATUSES and not isinstance(
        error, errors.IdempotencyKeyReused | errors.IdempotencyRequestInProgress
    )


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose key: the client, and the person when the token is a person's."""

    client_id: str
    user_id: str = ""


@dataclass(frozen=True)
class Outcome:
    """What the first request answered."""

    request_hash: str
    response: bytes | None
    http_status: int
    message: str
    error: errors.BankError | None


def lookup(owner: Owner, key: str, now: datetime) -> Outcome | None:
    """The stored outcome of `owner`'s live key; None when there is none (or it expired)."""
    # The owner's row first; a legacy row (m0013) only when the owner has none.
    row = sql.execute(
        'SELECT "request_hash", "response", "http_status", "message", "error", "expires_at"'
        ' FROM "idempotency_keys" WHERE "client_id" = ? AND "key" = ? AND "user_id" IN (?, ?)'
        ' ORDER BY "user_id" = ? LIMIT 1',
        (owner.client_id, key, owner.user_id, LEGACY_OWNER, LEGACY_OWNER),
    ).fetchone()
    if row is None or IdempotencyKey.expires_at.python_value(row[5]) <= now:
        return None
    request_hash, response, http_status, message, error, _ = row
    return Outcome(
        request_hash=request_hash,
        response=bytes(response) if response is not None else None,
        http_status=http_status,
        message=message,
        error=errors.loads(error) if error else None,
    )


def claim(owner: Owner, key: str, method: str, request_hash: str, now: datetime) -> bool:
    """Inserts the key inside the caller's transaction; False if another request holds it.

    On PostgreSQL a concurrent claim of the same key waits here until the
    holder commits or rolls back, so two requests with one key never both run.
    An expired row of the same key is removed first (a legacy one too).
    """
    # Sent with the INSERT (one round trip on PostgreSQL), before it.
    sql.defer(
        'DELETE FROM "idempotency_keys" WHERE "client_id" = ? AND "key" = ?'
        ' AND "user_id" IN (?, ?) AND "expires_at" <= ?',
        (
            owner.client_id,
            key,
            owner.user_id,
            LEGACY_OWNER,
            IdempotencyKey.expires_at.db_value(now),
        ),
    )
    cursor = sql.execute(
        'INSERT INTO "idempotency_keys" ("client_id", "user_id", "key", "method", "request_hash",'
        ' "http_status", "message", "created_at", "expires_at")'
        f' VALUES ({sql.marks(9)}) ON CONFLICT ("client_id", "key", "user_id") DO NOTHING',
        (owner.client_id, owner.user_id, key, method, request_hash, 0, "", now, now + RETENTION),
    )
    return bool(cursor.rowcount == 1)


@dataclass(frozen=True, slots=True)
class Claim:
    """One key a request of a batch asks for."""

    owner: Owner
    key: str
    method: str
    request_hash: str


def claim_many(claims: Sequence[Claim], now: datetime) -> set[tuple[Owner, str]]:
    """`claim` for several keys in two statements (one round trip on PostgreSQL);
    the (owner, key) pairs this transaction now holds. A key a live legacy
    row holds (see the module) is not claimed: `lookup` answers from it.

    Claimed in sorted order, so two batches never wait for each other's keys
    in a cycle. A key another request holds is not in the answer (on
    PostgreSQL, after waiting for that request's transaction to end). The
    keys must be distinct.
    """
    ordered = sorted(claims, key=lambda c: (c.owner.client_id, c.key, c.owner.user_id))
    if not ordered:
        return set()
    expired: list[object] = []
    for claim_ in ordered:
        expired += [claim_.owner.client_id, claim_.key, claim_.owner.user_id, LEGACY_OWNER]
    sql.defer(
        'DELETE FROM "idempotency_keys" WHERE "expires_at" <= ? AND ('
        + " OR ".join(['("client_id" = ? AND "key" = ? AND "user_id" IN (?, ?))'] * len(ordered))
        + ")",
        (IdempotencyKey.expires_at.db_value(now), *expired),
    )
    values: list[object] = []
    for claim_ in ordered:
        values += [
            claim_.owner.client_id,
            claim_.owner.user_id,
            claim_.key,
            claim_.method,
            claim_.request_hash,
            0,
            "",
            IdempotencyKey.created_at.db_value(now),
            IdempotencyKey.expires_at.db_value(now + RETENTION),
        ]
    # PostgreSQL types a VALUES list from its values: say what the literals are.
    row = (
        "(?, ?, ?, ?, ?, CAST(? AS INTEGER), ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP))"
        if is_postgres()
        else f"({sql.marks(9)})"
    )
    rows = sql.execute(
        'INSERT INTO "idempotency_keys" ("client_id", "user_id", "key", "method", "request_hash",'
        ' "http_status", "message", "created_at", "expires_at")'
        " SELECT * FROM (VALUES " + ", ".join([row] * len(ordered)) + ") AS v"
        # A live key stored before owners were recorded (m0013) holds the key
        # for every caller of its client, as `lookup` reads it.
        ' WHERE NOT EXISTS (SELECT 1 FROM "idempotency_keys" AS l'
        ' WHERE l."client_id" = v.column1 AND l."key" = v.column3 AND l."user_id" = ?'
        ' AND l."expires_at" > ?)'
        ' ON CONFLICT ("client_id", "key", "user_id") DO NOTHING'
        ' RETURNING "client_id", "user_id", "key"',
        [*values, LEGACY_OWNER, IdempotencyKey.expires_at.db_value(now)],
    ).fetchall()
    return {(Owner(row[0], row[1]), row[2]) for row in rows}


def complete(owner: Owner, key: str, response: bytes, http_status: int, message: str) -> None:
    """Stores the answer; it travels with the transaction's COMMIT."""
    sql.defer(
        'UPDATE "idempotency_keys" SET "response" = ?, "http_status" = ?, "message" = ?'
        ' WHERE "client_id" = ? AND "key" = ? AND "user_id" = ?',
        (
            IdempotencyKey.response.db_value(response),
            http_status,
            message,
            owner.client_id,
            key,
            owner.user_id,
        ),
    )


def fail(owner: Owner, key: str, error: errors.BankError) -> None:
    """Stores a failure met while executing as the outcome of the key this transaction claimed."""
    sql.defer(
        'UPDATE "idempotency_keys" SET "http_status" = ?, "error" = ?'
        ' WHERE "client_id" = ? AND "key" = ? AND "user_id" = ?',
        (error.http_status, errors.dumps(error), owner.client_id, key, owner.user_id),
    )


def release(owner: Owner, key: str) -> None:
    """Gives up the key this transaction claimed: its request failed in a way that
    is not stored (a batch item refused as malformed), so a retry runs again."""
    sql.defer(
        'DELETE FROM "idempotency_keys" WHERE "client_id" = ? AND "key" = ? AND "user_id" = ?',
        (owner.client_id, key, owner.user_id),
    )


PRUNE_BATCH = 5_000


def prune_expired(now: datetime, batch: int = PRUNE_BATCH) -> int:
    """Removes the keys past their RETENTION (real time, `now`), at most `batch`
    per transaction so that no sweep holds many rows at once; how many.

    A key past its time already answers as absent (`lookup`) and is taken
    over by the next claim of it; this only keeps the table to about a day
    of keys.
    """
    rowid = '"ctid"' if is_postgres() else '"rowid"'
    text = (
        f'DELETE FROM "idempotency_keys" WHERE {rowid} IN (SELECT {rowid}'
        ' FROM "idempotency_keys" WHERE "expires_at" <= ? LIMIT ?)'
    )
    expired = IdempotencyKey.expires_at.db_value(now)
    total = 0
    while True:
        removed = int(tx.write(lambda: sql.execute(text, (expired, batch)).rowcount))
        total += removed
        if removed < batch:
            return total
