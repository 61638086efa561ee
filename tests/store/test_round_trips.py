"""PostgreSQL round trips: BEGIN with the first statement, deferred writes with the COMMIT.

What a transaction commits must not change, only how many messages it takes;
and a failure anywhere must still undo the whole transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import peewee
import psycopg2
import pytest

from server.store import sql, tx
from server.store.db import defer, is_postgres
from tests.common.databases import POSTGRES_ADMIN_URL


@pytest.fixture(autouse=True)
def _postgres_table(database: peewee.Database) -> Iterator[None]:
    if not is_postgres():
        pytest.skip("SQLite runs every statement at once: nothing travels together")
    database.execute_sql("CREATE TABLE IF NOT EXISTS rt_items (id TEXT PRIMARY KEY, note TEXT)")
    database.execute_sql("DELETE FROM rt_items")
    yield


class _Counter:
    """Counts the messages (cursor.execute calls) the database handle sends."""

    def __init__(self, database: peewee.Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        original = type(database).cursor
        counter = self

        class Cursor:
            def __init__(self, inner: Any) -> None:
                self._inner = inner

            def execute(self, text: str, params: Any = None) -> Any:
                counter.texts.append(text)
                return self._inner.execute(text, params)

            def __iter__(self) -> Iterator[Any]:
                return iter(self._inner)

            def __getattr__(self, name: str) -> Any:
                return getattr(self._inner, name)

        def cursor(db: peewee.Database, *args: Any, **kwargs: Any) -> Any:
            return Cursor(original(db, *args, **kwargs))

        monkeypatch.setattr(type(database), "cursor", cursor)


def _ids(database: peewee.Database) -> list[str]:
    return [row[0] for row in database.execute_sql("SELECT id FROM rt_items ORDER BY id")]


def test_deferred_writes_and_begin_travel_with_the_commit(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _Counter(database, monkeypatch)

    def work() -> None:
        for item in ("a", "b", "c"):
            sql.defer("INSERT INTO rt_items (id, note) VALUES (?, ?)", (item, "100%"))

    tx.write(work)
    assert len(counter.texts) == 1
    assert counter.texts[0].startswith("BEGIN; ") and counter.texts[0].endswith("; COMMIT")
    assert _ids(database) == ["a", "b", "c"]
    notes = {row[0] for row in database.execute_sql("SELECT note FROM rt_items")}
    assert notes == {"100%"}


def test_a_read_sees_the_writes_deferred_before_it(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _Counter(database, monkeypatch)

    def work() -> int:
        defer("INSERT INTO rt_items (id, note) VALUES (%s, %s)", ("x", "deferred"))
        # A peewee-built statement with a literal-looking % in its value.
        return int(
            database.execute_sql(
                "SELECT COUNT(*) FROM rt_items WHERE note LIKE %s", ("defer%",)
            ).fetchone()[0]
        )

    assert tx.write(work) == 1
    assert len(counter.texts) == 2  # BEGIN + write + read; COMMIT
    assert _ids(database) == ["x"]


def test_a_deferred_write_that_fails_undoes_the_whole_transaction(
    database: peewee.Database,
) -> None:
    database.execute_sql("INSERT INTO rt_items (id, note) VALUES ('taken', 'before')")

    def work() -> None:
        sql.execute("INSERT INTO rt_items (id, note) VALUES (?, ?)", ("sent-at-once", ""))
        sql.defer("INSERT INTO rt_items (id, note) VALUES (?, ?)", ("deferred-ok", ""))
        sql.defer("INSERT INTO rt_items (id, note) VALUES (?, ?)", ("taken", "duplicate"))

    with pytest.raises(peewee.IntegrityError):
        tx.write(work)
    assert _ids(database) == ["taken"]
    # The connection is usable afterwards: nothing is left queued or open.
    tx.write(lambda: sql.defer("INSERT INTO rt_items (id, note) VALUES (?, ?)", ("next", "")))
    assert _ids(database) == ["next", "taken"]


def test_work_that_raises_sends_nothing_it_deferred(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _Counter(database, monkeypatch)

    def work() -> None:
        sql.defer("INSERT INTO rt_items (id, note) VALUES (?, ?)", ("never", ""))
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        tx.write(work)
    assert counter.texts == []  # not even BEGIN: nothing had been sent
    assert _ids(database) == []


def test_a_savepoint_rolled_back_undoes_only_its_own_deferred_writes(
    database: peewee.Database,
) -> None:
    def work() -> None:
        sql.defer("INSERT INTO rt_items (id, note) VALUES (?, ?)", ("outer", ""))
        try:
            with database.atomic():
                sql.defer("INSERT INTO rt_items (id, note) VALUES (?, ?)", ("inner", ""))
                raise RuntimeError("refused")
        except RuntimeError:
            pass

    tx.write(work)
    assert _ids(database) == ["outer"]


def test_checkout_replaces_a_connection_the_server_terminated(
    database: peewee.Database,
) -> None:
    database.close()
    database.close_all()  # type: ignore[attr-defined]
    with database.connection_context():  # the pool's only connection
        pid = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    admin = psycopg2.connect(POSTGRES_ADMIN_URL)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
            for _ in range(100):
                cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.05)
    finally:
        admin.close()
    # Checked out again: found dead without a round trip, replaced, and the
    # call's first statement succeeds.
    with database.connection_context():
        new_pid = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    assert new_pid != pid
    database.connect(reuse_if_open=True)


def test_a_savepoint_travels_with_the_statements_around_it(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = _Counter(database, monkeypatch)

    def work() -> None:
        sql.defer("INSERT INTO rt_items (id, note) VALUES (?, ?)", ("outer", ""))
        with database.atomic():
            sql.defer("INSERT INTO rt_items (id, note) VALUES (?, ?)", ("inner", ""))

    tx.write(work)
    assert len(counter.texts) == 1
    assert "SAVEPOINT" in counter.texts[0] and "RELEASE SAVEPOINT" in counter.texts[0]
    assert _ids(database) == ["inner", "outer"]
