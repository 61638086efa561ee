"""`bank_post_transfers` reads and locks the accounts it names by primary key.

A statement inside the function that the planner misjudges costs every
transfer of a large bank: the lock once gathered its ids with
jsonb_array_elements in its own WHERE, which the planner estimated at 100
rows and answered with a scan of every account (2.5 ms of a 4.8 ms call at
10,000 accounts). auto_explain reports each statement the function runs,
with its plan, as a notice to this session; none may scan `accounts`.
PostgreSQL only.
"""

from __future__ import annotations

from collections.abc import Iterator

import peewee
import pytest

from server.services.context import Posted
from server.store import sql, transfer_function, tx
from server.store.bootstrap import ensure_internal_accounts
from server.store.db import database, is_postgres
from server.store.models import Account
from tests.store.transfer_paths import NOW, Request, account, person

BANK_ACCOUNTS = 3_000


@pytest.fixture(autouse=True)
def _postgres(database: peewee.Database) -> Iterator[None]:
    if not is_postgres():
        pytest.skip("SQLite keeps the Python path: there is no function to plan")
    ensure_internal_accounts()
    yield


def _grow_the_bank(template: str) -> None:
    """BANK_ACCOUNTS more customer accounts like `template`, and fresh statistics."""
    names = [field.column_name for field in Account._meta.sorted_fields]
    replaced = {
        "id": "'acc_plan' || g",
        "account_number": "'7' || lpad(g::text, 9, '0')",
        "code": "NULL",
    }
    picks = ", ".join(replaced.get(name, f'"{name}"') for name in names)
    columns = ", ".join(f'"{name}"' for name in names)
    sql.execute(
        f'INSERT INTO "accounts" ({columns}) SELECT {picks} FROM "accounts",'
        f' generate_series(1, {BANK_ACCOUNTS}) AS g WHERE "id" = ?',
        (template,),
    )
    database.execute_sql('ANALYZE "accounts"')


def _plans(run: object) -> str:
    """The plans of every statement `run` makes, as auto_explain reports them."""
    connection = database.connection()
    for setting in (
        "LOAD 'auto_explain'",
        "SET auto_explain.log_min_duration = 0",
        "SET auto_explain.log_nested_statements = on",
        "SET auto_explain.log_level = 'notice'",
        "SET client_min_messages = 'notice'",
    ):
        database.execute_sql(setting)
    del connection.notices[:]
    try:
        assert callable(run)
        run()
    finally:
        database.execute_sql("SET auto_explain.log_min_duration = -1")
    return "".join(connection.notices)


def test_the_function_never_scans_every_account() -> None:
    owner = person()
    source, destination = account(owner), account(person("Bob Builder"))
    _grow_the_bank(source)
    request = Request(source, destination, 12.34)

    def transfer() -> None:
        with database.atomic() as block:
            [posted] = tx.write(lambda: transfer_function.post_transfers([request.item()], NOW))
            assert isinstance(posted, Posted)
            block.rollback()

    plans = _plans(transfer)
    assert "bank_post_transfers" in plans  # the notices did come
    assert "FOR NO KEY UPDATE OF a" in plans  # the lock's plan is among them
    assert "Seq Scan on accounts" not in plans, plans
