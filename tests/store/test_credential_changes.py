"""Credential changes: announced by the database, acted on by each process's listener.

"Another process" is a second connection (tests/store/credentials.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee
import psycopg2
import pytest

from server.config import Settings
from server.store import credential_changes, oauth
from server.store.db import is_postgres
from server.store.models import ClientSigningSecret, OAuthClient, Revocation
from tests.common.databases import POSTGRES_ADMIN_URL

# The *_fixture names are the fixtures `other`, `settings` and `listening`.
from tests.store.credentials import (  # noqa: F401
    Other,
    api_key,
    in_call,
    listening_fixture,
    new_client,
    other_fixture,
    refused,
    settings_fixture,
    token_of,
    wait_until,
)


# -- what is announced, and what is not ---------------------------------------------------
def _announced(database: peewee.Database, write: Callable[[], None]) -> bool:
    """Whether `write` (made by another connection) moves the epoch."""
    if is_postgres(database):
        listener = psycopg2.connect(dbname=database.database, **database.connect_params)
        listener.autocommit = True
        try:
            with listener.cursor() as cursor:
                cursor.execute("LISTEN bank_credentials")
            write()
            time.sleep(0.05)
            listener.poll()
            return bool(listener.notifies)
        finally:
            listener.close()
    version = "SELECT version FROM credentials_version WHERE id = 1"
    before = database.execute_sql(version).fetchone()[0]
    write()
    return bool(database.execute_sql(version).fetchone()[0] != before)


@pytest.mark.parametrize(
    ("change", "announced"),
    [
        ("UPDATE oauth_clients SET last_used_at = CURRENT_TIMESTAMP WHERE id = ?", False),
        ("UPDATE oauth_clients SET name = 'renamed' WHERE id = ?", False),
        ("UPDATE api_keys SET last_used_at = CURRENT_TIMESTAMP WHERE client_id = ?", False),
        ("UPDATE oauth_clients SET rate_limits = '{}' WHERE id = ?", True),
        ("UPDATE oauth_clients SET ip_allowlist = '[]' WHERE id = ?", True),
        ("UPDATE oauth_clients SET sandbox = FALSE WHERE id = ?", True),
        ("UPDATE api_keys SET status = 'REVOKED' WHERE client_id = ?", True),
        ("DELETE FROM client_signing_secrets WHERE id = ?", True),
        ("DELETE FROM revocations WHERE key = ?", True),
    ],
)
def test_the_database_announces_exactly_the_changes_that_matter(
    database: peewee.Database, other: Other, change: str, announced: bool
) -> None:
    client = new_client()
    api_key(client)
    now = datetime.now(UTC).replace(tzinfo=None)
    # A row for each DELETE to remove (SQLite's triggers fire per row).
    ClientSigningSecret.create(id=client.id, secret="sealed", created_at=now)
    Revocation.create(key=client.id, revoked_at=now, expires_at=now + timedelta(days=1))
    assert _announced(database, lambda: other.execute(change, (client.id,))) is announced


def test_a_rolled_back_change_is_not_announced(database: peewee.Database) -> None:
    client = new_client()

    def rolled_back() -> None:
        with database.atomic() as transaction:
            OAuthClient.update(scopes="banking.read").where(OAuthClient.id == client.id).execute()
            transaction.rollback()

    assert not _announced(database, rolled_back)


# -- the listener ---------------------------------------------------------------------------
def test_a_lost_listener_means_no_memory_until_it_is_back(database: peewee.Database) -> None:
    if not is_postgres(database):
        pytest.skip("SQLite reads its version on every call: there is nothing to lose")
    wait_until(lambda: credential_changes.epoch() is not None)
    before = credential_changes.epoch()
    admin = psycopg2.connect(POSTGRES_ADMIN_URL)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s AND datname = %s",
                (credential_changes.LISTENER_NAME, database.database),
            )
            assert cursor.fetchone() is not None
    finally:
        admin.close()
    # Found lost at once (the server closes the socket), back within moments,
    # and in a new epoch: notices sent meanwhile were missed.
    wait_until(lambda: credential_changes.epoch() != before)
    wait_until(credential_changes.listening)
    after = credential_changes.epoch()
    assert after is not None and before is not None and after[1] > before[1]


# -- the memory itself -----------------------------------------------------------------------
def test_a_remembered_value_holds_only_within_its_epoch_and_lifetime(
    database: peewee.Database,
) -> None:
    cache: credential_changes.EpochCache[str, int] = credential_changes.EpochCache(2)
    cache.put("a", (1, 1, 0), 10, expires_at=100.0)
    assert cache.get("a", (1, 1, 0), now=99.0) == 10
    assert cache.get("a", (1, 2, 0), now=99.0) is None  # the epoch moved
    assert cache.get("a", (1, 1, 0), now=99.0) is None  # and it is gone
    cache.put("b", (1, 1, 0), 20, expires_at=100.0)
    assert cache.get("b", (1, 1, 0), now=100.0) is None  # expired
    cache.put("c", None, 30)
    assert cache.get("c", None) is None  # no epoch: nothing is remembered


def test_the_memory_is_bounded_least_recently_used_first(database: peewee.Database) -> None:
    cache: credential_changes.EpochCache[str, int] = credential_changes.EpochCache(2)
    at = (1, 1, 0)
    cache.put("a", at, 1)
    cache.put("b", at, 2)
    assert cache.get("a", at) == 1  # a is now the most recent
    cache.put("c", at, 3)
    assert len(cache) == 2
    assert cache.get("b", at) is None
    assert cache.get("a", at) == 1 and cache.get("c", at) == 3


def test_nothing_read_inside_a_transaction_is_remembered(database: peewee.Database) -> None:
    cache: credential_changes.EpochCache[str, int] = credential_changes.EpochCache(2)
    with database.atomic():
        cache.put("a", (1, 1, 0), 1)
    assert cache.get("a", (1, 1, 0)) is None


def test_a_change_made_by_this_process_moves_its_epoch_at_once(
    database: peewee.Database, settings: Settings
) -> None:
    wait_until(credential_changes.listening)
    client = new_client()
    token = token_of(settings, client)
    authority = oauth.authority(settings)
    assert not refused(lambda: authority.principal_from_token(token))
    # The client's creation was announced too: until the listener has read
    # that notice the epoch is None (trust nothing), which would compare equal.
    wait_until(lambda: credential_changes.epoch() is not None)
    before = credential_changes.epoch()
    oauth.revoke_client(client.id)
    assert credential_changes.epoch() != before
    # No wait for any notice: this process knows.
    assert refused(lambda: authority.principal_from_token(token))


# -- a change answers only once every process has acted on it (PostgreSQL) -----------------
def _postgres_only(database: peewee.Database) -> None:
    if not is_postgres(database):
        pytest.skip("SQLite's processes read the version on every call: nothing to wait for")


def _last_change(other: Other) -> int:
    with other.connection.cursor() as cursor:
        cursor.execute(credential_changes._LAST_CHANGE_SQL)
        return int(cursor.fetchone()[0])


def test_a_call_that_revokes_answers_only_once_every_listener_has_acted(
    database: peewee.Database, settings: Settings, other: Other
) -> None:
    _postgres_only(database)
    wait_until(credential_changes.listening)
    client = new_client()
    in_call(lambda: oauth.revoke_client(client.id))()
    # No wait here: the call itself waited.
    with other.connection.cursor() as cursor:
        cursor.execute(
            "SELECT listener.acknowledged FROM credential_listeners AS listener"
            " JOIN pg_stat_activity AS activity ON activity.pid = listener.backend_pid"
            " WHERE activity.application_name = %s",
            (credential_changes.LISTENER_NAME,),
        )
        acknowledged = [row[0] for row in cursor.fetchall()]
    assert acknowledged and min(acknowledged) >= _last_change(other)


def test_a_listener_that_does_not_answer_holds_a_change_back_only_briefly(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgres_only(database)
    wait_until(credential_changes.listening)
    monkeypatch.setattr(credential_changes, "SETTLE_SECONDS_MAX", 0.3)
    # A listener of a hung process: it registers, then never acknowledges.
    hung = psycopg2.connect(
        dbname=database.database,
        application_name=credential_changes.LISTENER_NAME,
        **database.connect_params,
    )
    hung.autocommit = True
    try:
        with hung.cursor() as cursor:
            cursor.execute(
                "INSERT INTO credential_listeners (backend_pid, acknowledged, updated_at)"
                " VALUES (pg_backend_pid(), 0, now())"
            )
        client = new_client()
        started = time.monotonic()
        in_call(lambda: oauth.revoke_client(client.id))()
        assert 0.3 <= time.monotonic() - started < 3.0
    finally:
        hung.close()
    # Gone (its connection closed): it holds nothing back any more.
    wait_until(lambda: not _backend_alive(database, hung))
    started = time.monotonic()
    in_call(lambda: oauth.revoke_client(new_client().id))()
    assert time.monotonic() - started < 0.3


def _backend_alive(database: peewee.Database, connection: Any) -> bool:
    pid = connection.info.backend_pid
    row = database.execute_sql(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %s", (pid,)
    ).fetchone()
    return bool(row[0])
