"""Running limit counters (m0012): the migration fills them from the history there is."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg2
import pytest

from server.store import limit_usage
from server.store.migrations import m0012_limit_usage_counters as m0012
from tests.common.databases import postgres_database

# (account, direction, limit class, status, amount, created_at)
HISTORY = [
    ("acc_1", "DEBIT", "TRANSFER", "COMPLETED", 100, "2026-11-30 23:59:59.5"),
    ("acc_1", "DEBIT", "TRANSFER", "COMPLETED", 50, "2026-12-01 00:00:00"),
    ("acc_1", "DEBIT", "TRANSFER", "COMPLETED", 25, "2026-12-01 18:30:00"),
    ("acc_1", "DEBIT", "ATM", "FAILED", 70, "2026-12-01 10:00:00"),
    ("acc_1", "DEBIT", "ATM", "CANCELLED", 70, "2026-12-01 10:00:00"),
    ("acc_1", "CREDIT", "TRANSFER", "COMPLETED", 9, "2026-12-01 10:00:00"),
    ("acc_1", "DEBIT", "", "COMPLETED", 9, "2026-12-01 10:00:00"),
    ("acc_1", "DEBIT", "ATM", "PENDING", 7, "2026-12-01 11:00:00"),
    ("acc_2", "DEBIT", "ATM", "COMPLETED", 3, "2026-12-01 11:00:00"),
]
EXPECTED = [
    ("acc_1", "ATM", "D2026-12-01", 7),
    ("acc_1", "ATM", "M2026-12", 7),
    ("acc_1", "TRANSFER", "D2026-11-30", 100),
    ("acc_1", "TRANSFER", "D2026-12-01", 75),
    ("acc_1", "TRANSFER", "M2026-11", 100),
    ("acc_1", "TRANSFER", "M2026-12", 75),
    ("acc_2", "ATM", "D2026-12-01", 3),
    ("acc_2", "ATM", "M2026-12", 3),
]
ENTRIES = (
    "CREATE TABLE account_entries (account_id TEXT, direction TEXT, limit_class TEXT,"
    " status TEXT, amount_minor BIGINT, created_at TIMESTAMP)"
)


def _backfill(execute: Callable[..., Any], dialect: str, mark: str) -> None:
    execute("CREATE TABLE accounts (id TEXT PRIMARY KEY)")
    execute(f"INSERT INTO accounts VALUES ({mark}), ({mark})", ("acc_1", "acc_2"))
    execute(ENTRIES)
    for row in HISTORY:
        execute(f"INSERT INTO account_entries VALUES ({', '.join([mark] * 6)})", row)
    for statement in m0012.statements(dialect):
        execute(statement)


def test_the_migration_counts_the_history_on_sqlite() -> None:
    connection = sqlite3.connect(":memory:")
    _backfill(connection.execute, "sqlite", "?")
    assert sorted(connection.execute("SELECT * FROM limit_usage").fetchall()) == EXPECTED


@pytest.mark.postgres
def test_the_migration_counts_the_history_on_postgres() -> None:
    with postgres_database() as url:
        connection = psycopg2.connect(url)
        try:
            cursor = connection.cursor()
            _backfill(cursor.execute, "postgres", "%s")
            cursor.execute("SELECT * FROM limit_usage")
            assert sorted(cursor.fetchall()) == EXPECTED
        finally:
            connection.close()


def test_keys_are_the_utc_day_and_month_of_the_history_row() -> None:
    moment = datetime(2026, 3, 9, 23, 59, 59, 999_999)
    assert (limit_usage.day_key(moment), limit_usage.month_key(moment)) == (
        "D2026-03-09",
        "M2026-03",
    )
    assert limit_usage.counts("DEBIT", "ATM", "PENDING")
    assert not limit_usage.counts("DEBIT", "ATM", "FAILED")
    assert not limit_usage.counts("DEBIT", "", "COMPLETED")
    assert not limit_usage.counts("CREDIT", "TRANSFER", "COMPLETED")
