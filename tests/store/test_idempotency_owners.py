"""m0013: idempotency keys per owner; the keys stored before keep answering their client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path

import peewee
import pytest

from server.store import db as store_db
from server.store import idempotency, migrations, tx
from server.store.db import is_postgres
from tests.common.databases import postgres_database

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NOW = datetime(2026, 12, 5, 12, 0, 0)
ALICE = idempotency.Owner("app", "usr_alice")
BOB = idempotency.Owner("app", "usr_bob")
APP = idempotency.Owner("app")


@pytest.fixture(params=BACKENDS)
def before_m0013(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[peewee.Database]:
    """A database migrated up to m0012, bound to the store."""
    every = migrations.discover()
    monkeypatch.setattr(migrations, "discover", lambda: [m for m in every if m[0] < 13])
    with postgres_database() if request.param == "postgres" else nullcontext("") as url:
        db = store_db.open_database(url, tmp_path / "store.sqlite3", pool_size=2)
        store_db.bind(db)
        migrations.migrate(db)
        monkeypatch.setattr(migrations, "discover", lambda: every)
        db.connect(reuse_if_open=True)
        try:
            yield db
        finally:
            db.close()
            if hasattr(db, "close_all"):
                db.close_all()


def _legacy_key(db: peewee.Database, key: str, expires_at: datetime) -> None:
    mark = "%s" if is_postgres(db) else "?"
    db.execute_sql(
        "INSERT INTO idempotency_keys (client_id, key, method, request_hash, response,"
        f" http_status, message, created_at, expires_at) VALUES ({', '.join([mark] * 9)})",
        ("app", key, "/m", "hash-1", b"answer", 201, "Done", NOW, expires_at),
    )


def _claim(owner: idempotency.Owner, key: str) -> bool:
    def work() -> bool:
        if not idempotency.claim(owner, key, "/m", "hash-2", NOW):
            return False
        idempotency.complete(owner, key, b"mine", 201, "Done")
        return True

    return tx.write(work)


def test_keys_stored_before_answer_every_caller_of_their_client_until_they_expire(
    before_m0013: peewee.Database,
) -> None:
    _legacy_key(before_m0013, "old", NOW + timedelta(hours=1))
    _legacy_key(before_m0013, "expired", NOW - timedelta(seconds=1))
    assert "m0013_idempotency_key_owners" in migrations.migrate(before_m0013)
    # Found before any claim, so a retry from before the upgrade is answered,
    # not run twice (legacy rows are never written again, so none appears
    # between the look-up and a claim).
    for owner in (ALICE, BOB, APP):
        found = idempotency.lookup(owner, "old", NOW)
        assert found is not None and found.response == b"answer"
    # Once expired, the key is anybody's again, each caller's own.
    for owner in (ALICE, BOB):
        assert idempotency.lookup(owner, "expired", NOW) is None
        assert _claim(owner, "expired")
        found = idempotency.lookup(owner, "expired", NOW)
        assert found is not None and found.response == b"mine"


def test_new_keys_belong_to_their_owner(before_m0013: peewee.Database) -> None:
    migrations.migrate(before_m0013)
    assert _claim(ALICE, "k")
    assert idempotency.lookup(BOB, "k", NOW) is None
    assert idempotency.lookup(APP, "k", NOW) is None
    assert _claim(BOB, "k") and _claim(APP, "k")
    assert not _claim(ALICE, "k")
