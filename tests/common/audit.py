"""Reading the audit log in tests: through the API, and straight from the stack's database."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2

from server.run import Stack
from server.store.migrations import m0007_audit_log
from tests.common import envelope
from tests.common.users import db_rows
from tests.conftest import Rest

HASH_RE = re.compile(r"^[0-9a-f]{64}$")
SEARCH_PAGES_MAX = 20


def request_id(label: str = "audit") -> str:
    return f"{label}-{uuid.uuid4().hex}"


def events(rest: Rest, **params: Any) -> dict[str, Any]:
    """The data of one ListAuditEvents page."""
    return envelope.success(rest.get("/v1/audit-events", params=params))


def find(rest: Rest, wanted_request_id: str, **filters: Any) -> dict[str, Any]:
    """The event of the call made with `wanted_request_id` (searching newest first)."""
    token = ""
    for _ in range(SEARCH_PAGES_MAX):
        params = {"limit": 100, **filters}
        if token:
            params["page_token"] = token
        data = events(rest, **params)
        for event in data["events"]:
            if event.get("requestId") == wanted_request_id:
                return event  # type: ignore[no-any-return]
        token = data["pagination"].get("nextPageToken", "")
        if not token:
            break
    raise AssertionError(f"no audit event with request id {wanted_request_id}")


def verify(rest: Rest, **body: Any) -> dict[str, Any]:
    return envelope.success(rest.post("/v1/audit-events:verify", json=body))


def stored_event(stack: Stack, event_id: str) -> dict[str, Any]:
    rows = db_rows(
        stack,
        "SELECT sequence, outcome_code, resource_ids, hash FROM audit_events WHERE id = %s",
        (event_id,),
    )
    assert len(rows) == 1
    sequence, outcome, resource_ids, hash_ = rows[0]
    return {
        "sequence": int(sequence),
        "outcome": outcome,
        "resource_ids": resource_ids,
        "hash": hash_,
    }


@contextmanager
def owner_session(stack: Stack) -> Iterator[Any]:
    """A database session that writes past the append-only triggers, as an owner can.

    PostgreSQL: the replica role skips triggers for this session. SQLite: the
    triggers are dropped, and made again (from the migration) on the way out.
    Each statement commits at once, so the running server sees it.
    """
    if stack.settings.database_url:
        connection = psycopg2.connect(stack.settings.database_url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
                yield cursor
        finally:
            connection.close()
        return
    import sqlite3  # noqa: PLC0415 (only this branch needs it)

    connection = sqlite3.connect(stack.settings.sqlite_path, timeout=30, isolation_level=None)
    guards = [s for s in m0007_audit_log.statements("sqlite") if s.startswith("CREATE TRIGGER")]
    names = [re.search(r"CREATE TRIGGER (\w+)", s).group(1) for s in guards]  # type: ignore[union-attr]
    try:
        for name in names:
            connection.execute(f"DROP TRIGGER {name}")
        cursor = connection.cursor()
        yield _SqliteCursor(cursor)
    finally:
        for statement in guards:
            connection.execute(statement)
        connection.close()


class _SqliteCursor:
    """A sqlite3 cursor that takes %s placeholders, as the psycopg2 one does."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        self._cursor.execute(statement.replace("%s", "?"), params)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._cursor.fetchall())
