"""Factories and database peeks for UserService tests.

Every user made here has a unique email (uuid), so that tests never depend on
what else the shared stack holds. `db_rows`/`db_execute` reach the stack's
database directly, for what the API does not show (outbox rows, hashes).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from typing import Any

import grpc
import psycopg2

from backoffice.v1 import user_pb2
from backoffice.v1 import user_service_pb2 as pb
from backoffice.v1 import user_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.conftest import Rest

PASSWORD = "Vault-Lamp-Orbit-93"
OTHER_PASSWORD = "Quiet-Harbor-Kite-47"
ADDRESS = {
    "line1": "1 Market Street",
    "line2": "Suite 200",
    "city": "San Francisco",
    "state": "CA",
    "postalCode": "94105",
    "country": "US",
}


def tag() -> str:
    """A unique word to find this test's users by search."""
    return f"t{uuid.uuid4().hex[:12]}"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:12]}@example.com"


def user_body(**overrides: Any) -> dict[str, Any]:
    """A valid CreateUser JSON body (lowerCamelCase), with overrides."""
    body: dict[str, Any] = {"email": unique_email(), "name": "Test User", "password": PASSWORD}
    body.update(overrides)
    return body


def create_rest(rest: Rest, **overrides: Any) -> dict[str, Any]:
    """Creates a user through REST; returns the `user` of the envelope's data."""
    data = envelope.success(rest.post("/v1/users", json=user_body(**overrides)), 201)
    return data["user"]  # type: ignore[no-any-return]


def stub(channel: grpc.Channel) -> pb_grpc.UserServiceStub:
    return pb_grpc.UserServiceStub(channel)


def create_grpc(channel: grpc.Channel, **fields: Any) -> user_pb2.User:
    values: dict[str, Any] = {"email": unique_email(), "name": "Test User", "password": PASSWORD}
    values.update(fields)
    reply = stub(channel).CreateUser(pb.CreateUserRequest(**values), timeout=30)
    return reply.user


def _connect(stack: Stack) -> Any:
    if stack.settings.database_url:
        return psycopg2.connect(stack.settings.database_url)
    return sqlite3.connect(stack.settings.sqlite_path, timeout=30)


def _sql(stack: Stack, statement: str) -> str:
    """Statements are written with %s; SQLite wants ?."""
    return statement if stack.settings.database_url else statement.replace("%s", "?")


def db_rows(stack: Stack, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    connection = _connect(stack)
    try:
        cursor = connection.cursor()
        cursor.execute(_sql(stack, statement), params)
        return list(cursor.fetchall())
    finally:
        connection.close()


def db_execute(stack: Stack, statement: str, params: tuple[Any, ...] = ()) -> int:
    connection = _connect(stack)
    try:
        cursor = connection.cursor()
        cursor.execute(_sql(stack, statement), params)
        connection.commit()
        return int(cursor.rowcount)
    finally:
        connection.close()


def outbox_events(stack: Stack, aggregate_id: str, event_type: str) -> list[dict[str, Any]]:
    """Payloads of the outbox events of one user and type, oldest first."""
    rows = db_rows(
        stack,
        "SELECT payload FROM outbox_events WHERE aggregate_id = %s AND type = %s ORDER BY id",
        (aggregate_id, event_type),
    )
    return [json.loads(row[0]) for row in rows]


def raw_outbox_payloads(stack: Stack, aggregate_id: str) -> str:
    rows = db_rows(
        stack, "SELECT payload FROM outbox_events WHERE aggregate_id = %s", (aggregate_id,)
    )
    return "\n".join(row[0] for row in rows)


def stored_user(stack: Stack, user_id: str) -> dict[str, Any]:
    rows = db_rows(
        stack,
        "SELECT password_hash, tax_id, status, deactivated_at, tax_id_last4, phone,"
        " date_of_birth FROM users WHERE id = %s",
        (user_id,),
    )
    assert len(rows) == 1
    password_hash, tax_id, status, deactivated_at, last4, phone, date_of_birth = rows[0]
    return {
        "password_hash": password_hash,
        "tax_id": tax_id,
        "status": status,
        "deactivated_at": deactivated_at,
        "tax_id_last4": last4,
        "phone": phone,
        "date_of_birth": date_of_birth,
    }


def expire_reset_token(stack: Stack, token: str) -> None:
    """Moves a reset token's expiry to its creation time (as if 30 minutes passed)."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    changed = db_execute(
        stack,
        "UPDATE password_reset_tokens SET expires_at = created_at WHERE token_hash = %s",
        (digest,),
    )
    assert changed == 1
