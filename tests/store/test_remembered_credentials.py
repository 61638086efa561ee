"""Credentials remembered per process: no read per call, and a change elsewhere seen at once.

"Another process" is a second connection (tests/store/credentials.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import peewee
import pytest

from server.config import Settings
from server.store import client_policy, clock, credential_changes, oauth

# The *_fixture names are the fixtures `other`, `settings` and `listening`.
from tests.store.credentials import (  # noqa: F401
    Other,
    Statements,
    api_key,
    in_call,
    listening_fixture,
    new_client,
    other_fixture,
    per_call_statements,
    refused,
    settings_fixture,
    token_of,
    wait_for_notice,
)


# -- the cache avoids the reads ----------------------------------------------------------
@pytest.mark.usefixtures("listening")
def test_a_remembered_token_costs_no_read_beyond_the_version(
    database: peewee.Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = new_client()
    token = token_of(settings, client)
    authority = oauth.authority(settings)

    def call() -> object:
        principal = authority.principal_from_token(token)
        client_policy.policy(principal.client_id, settings)
        return clock.now()

    statements = Statements(database, monkeypatch)
    first = statements.during(in_call(call))
    # The first call reads the revocations (a prepared statement on PostgreSQL).
    assert len(first) > per_call_statements(database), first
    for _ in range(3):
        steady = statements.during(in_call(call))
        assert len(steady) == per_call_statements(database), steady
        assert not any("revocations" in text or "settings" in text for text in steady)


@pytest.mark.usefixtures("listening")
def test_a_remembered_api_key_costs_no_read_beyond_the_version(
    database: peewee.Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = new_client()
    key = api_key(client)
    authority = oauth.authority(settings)
    statements = Statements(database, monkeypatch)
    first = statements.during(in_call(lambda: authority.principal_from_api_key(key)))
    assert any("api_keys" in text for text in first), first
    steady = statements.during(in_call(lambda: authority.principal_from_api_key(key)))
    assert len(steady) == per_call_statements(database), steady


def test_without_an_epoch_every_call_reads_as_before(
    database: peewee.Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = new_client()
    token = token_of(settings, client)
    authority = oauth.authority(settings)
    monkeypatch.setattr(credential_changes, "_current", lambda: None)
    statements = Statements(database, monkeypatch)
    for _ in range(2):
        texts = statements.during(in_call(lambda: authority.principal_from_token(token)))
        assert len(texts) == 1, texts  # the revocations and the clock, as before


# -- a change made elsewhere is seen by the next call --------------------------------------
@pytest.mark.usefixtures("listening")
@pytest.mark.parametrize(
    "revocation",
    ["sub", "cli", "jti"],
)
def test_a_token_revoked_by_another_process_stops_working_at_once(
    database: peewee.Database, settings: Settings, other: Other, revocation: str
) -> None:
    client = new_client()
    token = token_of(settings, client)
    authority = oauth.authority(settings)
    claims = authority._checked_claims(token)
    assert claims is not None
    assert not refused(lambda: authority.principal_from_token(token))
    assert not refused(lambda: authority.principal_from_token(token))  # remembered now
    key = {"sub": claims["sub"], "cli": claims["client_id"], "jti": claims["jti"]}[revocation]
    now = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1)
    other.execute(
        "INSERT INTO revocations (key, revoked_at, expires_at) VALUES (?, ?, ?)",
        (f"{revocation}:{key}", now, now + timedelta(days=1)),
    )
    wait_for_notice(database)
    assert refused(lambda: authority.principal_from_token(token))


@pytest.mark.usefixtures("listening")
@pytest.mark.parametrize(
    "change",
    [
        "UPDATE api_keys SET status = 'REVOKED' WHERE client_id = ?",
        "UPDATE oauth_clients SET active = FALSE WHERE id = ?",
        "DELETE FROM api_keys WHERE client_id = ?",
    ],
)
def test_an_api_key_revoked_by_another_process_stops_working_at_once(
    database: peewee.Database, settings: Settings, other: Other, change: str
) -> None:
    client = new_client()
    key = api_key(client)
    authority = oauth.authority(settings)
    assert not refused(lambda: authority.principal_from_api_key(key))
    assert not refused(lambda: authority.principal_from_api_key(key))
    other.execute(change, (client.id,))
    wait_for_notice(database)
    assert refused(lambda: authority.principal_from_api_key(key))


@pytest.mark.usefixtures("listening")
def test_a_scope_change_made_elsewhere_is_seen_by_the_next_api_key_call(
    database: peewee.Database, settings: Settings, other: Other
) -> None:
    client = new_client("banking.read banking.write")
    key = api_key(client)
    authority = oauth.authority(settings)
    assert in_call(lambda: authority.principal_from_api_key(key))().scopes == {  # type: ignore[attr-defined]
        "banking.read",
        "banking.write",
    }
    other.execute("UPDATE oauth_clients SET scopes = 'banking.read' WHERE id = ?", (client.id,))
    wait_for_notice(database)
    principal = in_call(lambda: authority.principal_from_api_key(key))()
    assert principal.scopes == {"banking.read"}  # type: ignore[attr-defined]


@pytest.mark.usefixtures("listening")
def test_a_clock_move_made_elsewhere_is_seen_by_the_next_call(
    database: peewee.Database, other: Other
) -> None:
    before = in_call(clock.offset_seconds)()
    assert in_call(clock.offset_seconds)() == before
    other.execute(
        "INSERT INTO settings (key, value) VALUES (?, '86400') ON CONFLICT (key) DO UPDATE"
        " SET value = CAST(CAST(settings.value AS BIGINT) + 86400 AS TEXT)",
        (clock.OFFSET_KEY,),
    )
    wait_for_notice(database)
    assert in_call(clock.offset_seconds)() == before + 86400


@pytest.mark.usefixtures("listening")
def test_a_policy_change_made_elsewhere_is_seen_by_the_next_call(
    database: peewee.Database, settings: Settings, other: Other
) -> None:
    client = new_client()
    assert not in_call(lambda: client_policy.policy(client.id, settings))().require_signing  # type: ignore[attr-defined]
    other.execute("UPDATE oauth_clients SET require_signing = TRUE WHERE id = ?", (client.id,))
    wait_for_notice(database)
    assert in_call(lambda: client_policy.policy(client.id, settings))().require_signing  # type: ignore[attr-defined]
