"""A statement's PREPARE meets a dead connection as every statement does.

`sql._prepared_name` sends PREPARE on the raw connection the first time a
statement shape runs on it. When the server has just gone away, psycopg2's
own OperationalError must come out as peewee's, which the error model
answers UNAVAILABLE (retry with the same key); psycopg2's escaped every
handler and was answered INTERNAL (found by the fault test).
"""

from __future__ import annotations

from typing import Any

import peewee
import psycopg2
import pytest

from server.store import sql


class _DeadCursor:
    def __enter__(self) -> _DeadCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, text: str) -> None:
        raise psycopg2.OperationalError("server closed the connection unexpectedly")


class _DeadConnection:
    def cursor(self) -> Any:
        return _DeadCursor()


def test_a_prepare_on_a_closed_connection_raises_peewees_operational_error() -> None:
    with pytest.raises(peewee.OperationalError, match="server closed the connection"):
        sql._prepared_name(_DeadConnection(), 'SELECT 1 FROM "accounts" WHERE "id" = ?')
