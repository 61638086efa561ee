"""A movement's account lock lets inserts that reference its accounts pass.

A recurring schedule (or a payee, a card) references accounts by foreign
key; PostgreSQL checks each key with FOR KEY SHARE on the referenced row, in
the order of the keys. Had movements locked FOR UPDATE, such an insert would
wait for a movement holding one of its accounts while holding the other, and
the movement, wanting that other one, would wait for it: a deadlock (the
fault test saw one). Movements lock FOR NO KEY UPDATE instead, on both paths
(server.store.ledger, bank_post_transfers since m0026), and still exclude
each other. PostgreSQL only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import peewee
import psycopg2
import pytest

from server.store import clock, ledger, transfer_function, tx
from server.store.bootstrap import ensure_internal_accounts
from server.store.db import is_postgres
from tests.store.transfer_paths import NOW, Request, account, person

HOLD_SECONDS = 10


@pytest.fixture(autouse=True)
def _postgres(database: peewee.Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not is_postgres():
        pytest.skip("SQLite serialises writers: no row locks to compare")
    ensure_internal_accounts()
    # A table with foreign keys to two accounts, made before any lock is held
    # (adding a foreign key locks the referenced table).
    database.execute_sql(
        "CREATE TABLE IF NOT EXISTS lock_strength_refs (a TEXT REFERENCES accounts (id),"
        " b TEXT REFERENCES accounts (id))"
    )
    monkeypatch.setattr(clock, "now", lambda sandbox=True: NOW)
    yield


def _other(database: peewee.Database) -> Any:
    connection = psycopg2.connect(dbname=database.database, **database.connect_params)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '3s'")
        cursor.execute("SET lock_timeout = '3s'")
    return connection


def _holding(lock: Callable[[], object], then: Callable[[], None]) -> None:
    """Runs `lock` in a write transaction of another thread, and `then` while it holds."""
    held, done = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def work() -> None:
        lock()
        held.set()
        done.wait(HOLD_SECONDS)

    def run() -> None:
        try:
            tx.write(work)
        except BaseException as error:  # reported by the caller
            failures.append(error)
            held.set()

    holder = threading.Thread(target=run)
    holder.start()
    try:
        assert held.wait(HOLD_SECONDS), "the lock was never taken"
        assert not failures, failures
        then()
    finally:
        done.set()
        holder.join(HOLD_SECONDS)
    assert not failures, failures


def _reference_both(database: peewee.Database, first: str, second: str) -> None:
    """An insert with foreign keys to both accounts, from another connection."""
    connection = _other(database)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("INSERT INTO lock_strength_refs VALUES (%s, %s)", (first, second))
    finally:
        connection.close()


def _movement_waits(database: peewee.Database, account_id: str) -> bool:
    """Whether another movement's lock of `account_id` has to wait."""
    connection = _other(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
            try:
                cursor.execute(
                    "SELECT 1 FROM accounts WHERE id = %s FOR NO KEY UPDATE", (account_id,)
                )
            except psycopg2.errors.LockNotAvailable:
                return True
            return False
    finally:
        connection.rollback()
        connection.close()


def test_the_python_paths_lock_lets_key_checks_pass_and_excludes_movements(
    database: peewee.Database,
) -> None:
    source, target = account(person("Ada Holder")), account(person("Bo Holder"))

    def check() -> None:
        _reference_both(database, target, source)  # would time out under FOR UPDATE
        assert _movement_waits(database, source)

    _holding(lambda: ledger.lock_accounts([source, target]), check)


def test_the_functions_lock_lets_key_checks_pass_and_excludes_movements(
    database: peewee.Database,
) -> None:
    source, target = account(person("Cy Holder")), account(person("Di Holder"))
    item = Request(source, target, 1).item()

    def check() -> None:
        _reference_both(database, target, source)
        assert _movement_waits(database, target)

    _holding(lambda: transfer_function.post_transfers([item], NOW), check)
