"""Helpers of the credential-memory store tests: statement counts, another connection.

"Another process" here is a second connection of its own (psycopg2 or
sqlite3) writing as another server process or an operator would; the API
tests (tests/api/test_auth_cache.py) use real extra server processes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import peewee
import psycopg2
import pytest

from server.config import Settings
from server.domain import errors
from server.store import clients, clock, credential_changes, oauth
from server.store.db import is_postgres
from server.store.models import ApiKeyRecord, OAuthClient


class Statements:
    """Counts what the store's database handle sends."""

    def __init__(self, database: peewee.Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        original = type(database).cursor
        counter = self

        class Cursor:
            def __init__(self, inner: Any) -> None:
                self._inner = inner

            def execute(self, text: str, params: Any = None) -> Any:
                counter.texts.append(text)
                if params is None:
                    return self._inner.execute(text)
                return self._inner.execute(text, params)

            def __getattr__(self, name: str) -> Any:
                return getattr(self._inner, name)

        def cursor(db: peewee.Database, *args: Any, **kwargs: Any) -> Any:
            return Cursor(original(db, *args, **kwargs))

        monkeypatch.setattr(type(database), "cursor", cursor)

    def during(self, action: Callable[[], object]) -> list[str]:
        self.texts.clear()
        action()
        return list(self.texts)


class Other:
    """A second connection to the same database: another process, or an operator."""

    def __init__(self, database: peewee.Database) -> None:
        self.postgres = is_postgres(database)
        if self.postgres:
            self.connection: Any = psycopg2.connect(
                dbname=database.database, **database.connect_params
            )
            self.connection.autocommit = True
        else:
            self.connection = sqlite3.connect(database.database, isolation_level=None)

    def execute(self, text: str, params: tuple[Any, ...] = ()) -> None:
        if self.postgres:
            with self.connection.cursor() as cursor:
                cursor.execute(text.replace("?", "%s"), params)
        else:
            self.connection.execute(text, params)

    def close(self) -> None:
        self.connection.close()


@pytest.fixture(name="other")
def other_fixture(database: peewee.Database) -> Iterator[Other]:
    connection = Other(database)
    yield connection
    connection.close()


@pytest.fixture(name="settings", scope="module")
def settings_fixture(
    database: peewee.Database, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("credential-changes")
    return Settings.from_env({"BANK_DATA_DIR": str(data_dir)})


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.01)


@pytest.fixture(name="listening")
def listening_fixture(database: peewee.Database) -> None:
    """This process trusts its memory (on PostgreSQL: once its listener is connected)."""
    wait_until(credential_changes.listening)


def new_client(scopes: str = "banking.read banking.write") -> OAuthClient:
    row, _ = clients.create(clients.NewClient(name="Cache test", scopes=tuple(scopes.split())))
    # A new client is a change too: this process acts on it before the test goes on.
    credential_changes.settle()
    return row


def token_of(settings: Settings, client: OAuthClient) -> str:
    return oauth.authority(settings).issue_for_client(client, client.scopes).access_token


def api_key(client: OAuthClient) -> str:
    key, key_hash, prefix = oauth.new_api_key()
    ApiKeyRecord.create(
        id=f"key_{prefix}{key[-6:]}",
        client_id=client.id,
        slot="PRIMARY",
        prefix=prefix,
        key_hash=key_hash,
        last4=key[-4:],
        description="cache test",
        status="ACTIVE",
        created_at=datetime.now(UTC).replace(tzinfo=None),
    )
    return key


def in_call(action: Callable[[], object]) -> Callable[[], object]:
    """`action` as one API call runs it: inside the call's scope."""

    def run() -> object:
        with clock.call_scope():
            return action()

    return run


def refused(action: Callable[[], object]) -> bool:
    try:
        in_call(action)()
    except errors.Unauthenticated:
        return True
    return False


def wait_for_notice(database: peewee.Database) -> None:
    """PostgreSQL delivers a notice at commit, to a socket: a few microseconds later.

    The test asserts on the very next call; this only gives the kernel the
    time a network round trip of any real caller would.
    """
    if is_postgres(database):
        time.sleep(0.005)


def per_call_statements(database: peewee.Database) -> int:
    """What a call must read in the steady state: nothing (PostgreSQL), the version (SQLite)."""
    return 0 if is_postgres(database) else 1
