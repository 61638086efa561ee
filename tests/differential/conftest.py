"""The backends a differential example runs on, migrated and seeded once per session.

SQLite with the Python path; PostgreSQL with the Python path (the stored
function switched off); PostgreSQL with the stored function, once
server.store.transfer_function exists and says it is available. With
CI=true PostgreSQL must be reachable (tests.common.databases fails the run
otherwise); locally its absence skips these tests, since a comparison with
one backend proves nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from server.api import idempotency
from server.store import db as store_db
from tests.common.databases import postgres_database
from tests.differential import backends as backend_setup
from tests.differential.backends import Backend


def function_available(backend: Backend) -> bool:
    """True when the stored transfer function exists; then it must be usable
    on `backend` (a function that quietly stays out would leave one path
    untested)."""
    try:
        module = importlib.import_module("server.store.transfer_function")
    except ModuleNotFoundError:
        return False
    with backend_setup.active(backend):
        if not module.available():
            pytest.fail("server.store.transfer_function says the function is not available")
    return True


@pytest.fixture(scope="session")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Backend]]:
    tmp: Path = tmp_path_factory.mktemp("differential")
    idempotency.configure(os.urandom(32))
    sqlite = store_db.open_database("", tmp / "differential.sqlite3", pool_size=2)
    with postgres_database() as url:
        _without_commit_flush(url)
        postgres = store_db.open_database(url, tmp / "unused.sqlite3", pool_size=2)
        try:
            found = [
                backend_setup.prepare("sqlite", sqlite),
                backend_setup.prepare("postgres-python", postgres, function_switch="off"),
            ]
            function = backend_setup.share("postgres-function", found[1], "on")
            if function_available(function):
                found.append(function)
            yield found
        finally:
            sqlite.close()
            postgres.close_all()


def _without_commit_flush(url: str) -> None:
    """A throwaway database need not wait for the disk at each commit
    (synchronous_commit off): what is committed, and in which order, is
    the same; only a crash could lose it, and nothing here survives one."""
    with contextlib.closing(psycopg2.connect(url)) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            name = connection.get_dsn_parameters()["dbname"]
            cursor.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
