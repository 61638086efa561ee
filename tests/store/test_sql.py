"""Hand-written statements on both databases: prepared once, capped, rows as models."""

from __future__ import annotations

from datetime import datetime

import peewee
import pytest

from server.store import sql
from server.store.db import is_postgres
from server.store.models import Account, User


@pytest.fixture(autouse=True)
def _bound(database: peewee.Database) -> None:
    """Every test here runs on the module's migrated database."""


def _prepared_count(database: peewee.Database) -> int:
    return int(database.execute_sql("SELECT COUNT(*) FROM pg_prepared_statements").fetchone()[0])


def test_a_statement_is_prepared_once_per_connection(database: peewee.Database) -> None:
    if not is_postgres():
        pytest.skip("SQLite has no prepared statements across calls")
    before = _prepared_count(database)
    for value in range(5):
        assert sql.scalar("SELECT ? + 1", (value,)) == value + 1
    assert _prepared_count(database) == before + 1


def test_past_the_cap_new_shapes_run_unprepared(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not is_postgres():
        pytest.skip("SQLite has no prepared statements across calls")
    monkeypatch.setattr(sql, "PREPARED_MAX", _prepared_count(database) + 2)
    before = _prepared_count(database)
    for width in range(1, 7):
        assert (
            sql.scalar(f"SELECT {' + '.join(['CAST(? AS INTEGER)'] * width)}", [1] * width) == width
        )
    assert _prepared_count(database) == before + 2


def test_wrong_number_of_values_is_refused(database: peewee.Database) -> None:
    if not is_postgres():
        pytest.skip("SQLite's driver checks this itself")
    with pytest.raises(AssertionError):
        sql.execute("SELECT ?, ?", (1,))


def test_rows_become_models_and_joined_rows_split_per_model(database: peewee.Database) -> None:
    User.insert(
        id="usr_sqltest",
        email="sqltest@example.com",
        name="Sql Test",
        password_hash="x",
        role="CUSTOMER",
        status="ACTIVE",
        created_at=datetime(2026, 1, 2, 3, 4, 5),
        updated_at=datetime(2026, 1, 2, 3, 4, 5),
    ).execute()
    select = f'SELECT {sql.column_list(User)}, 1 FROM "users" WHERE "id" = ?'
    (user,) = sql.rows(User, select, ("usr_sqltest",))
    assert (user.id, user.email, user.created_at) == (
        "usr_sqltest",
        "sqltest@example.com",
        datetime(2026, 1, 2, 3, 4, 5),
    )
    pairs = sql.joined_rows(
        (User, Account),
        f"SELECT {sql.column_list(User, 'u')}, {sql.column_list(Account, 'a')}"
        ' FROM "users" u JOIN "accounts" a ON a."owner_id" = u."id" WHERE u."id" = ?',
        ("usr_sqltest",),
    )
    assert pairs == []
    twice = sql.joined_rows(
        (User, User),
        f"SELECT {sql.column_list(User, 'u')}, {sql.column_list(User, 'v')}"
        ' FROM "users" u JOIN "users" v ON v."id" = u."id" WHERE u."id" = ?',
        ("usr_sqltest",),
    )
    assert [(left.email, right.created_at) for left, right in twice] == [
        ("sqltest@example.com", datetime(2026, 1, 2, 3, 4, 5))
    ]


class _Shouting(peewee.TextField):
    """A field whose db_value changes str values: it must never be skipped."""

    def db_value(self, value: object) -> object:
        return None if value is None else str(value).upper()


class _Note(peewee.Model):
    id = peewee.TextField(primary_key=True)
    count = peewee.IntegerField(null=True)
    at = peewee.DateTimeField(null=True)
    loud = _Shouting(null=True)

    class Meta:
        table_name = "sql_notes"


def test_insert_binds_each_value_as_its_field_writes_it(database: peewee.Database) -> None:
    with database.bind_ctx([_Note]):
        _Note.create_table()
        try:
            sql.insert(
                _Note,
                [
                    {"id": 7, "count": "12", "at": "2026-12-01 10:30:00", "loud": "quiet"},
                    {"id": "b", "count": 3, "at": datetime(2026, 12, 2, 8, 0), "loud": None},
                ],
            )
            rows = database.execute_sql(
                "SELECT id, count, at, loud FROM sql_notes ORDER BY id"
            ).fetchall()
        finally:
            _Note.drop_table()
    at = [
        row[2] if isinstance(row[2], datetime) else datetime.fromisoformat(row[2]) for row in rows
    ]
    assert [(row[0], row[1], row[3]) for row in rows] == [("7", 12, "QUIET"), ("b", 3, None)]
    assert at == [datetime(2026, 12, 1, 10, 30), datetime(2026, 12, 2, 8, 0)]
