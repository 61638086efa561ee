"""A migrated database bound to the store's proxy, per backend, per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import peewee
import pytest

from server.store import db as store_db
from server.store import migrations
from tests.common.databases import postgres_database

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[peewee.Database]:
    tmp: Path = tmp_path_factory.mktemp("db")
    if request.param == "postgres":
        with postgres_database() as url:
            db = store_db.open_database(url, tmp / "unused.sqlite3", pool_size=4)
            yield from _migrated(db)
    else:
        db = store_db.open_database("", tmp / "store.sqlite3", pool_size=4)
        yield from _migrated(db)


def _migrated(db: peewee.Database) -> Iterator[peewee.Database]:
    store_db.bind(db)
    migrations.migrate(db)
    db.connect(reuse_if_open=True)
    try:
        yield db
    finally:
        db.close()
        if hasattr(db, "close_all"):
            db.close_all()
