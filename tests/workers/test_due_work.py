"""Due work: scheduled transfers and holds, claimed so that no item runs twice.

On PostgreSQL a worker skips the rows another transaction holds (FOR UPDATE
SKIP LOCKED) instead of waiting for them; SQLite serialises writers anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee
import psycopg2
import pytest

from server.domain.ids import new_id
from server.domain.principal import ADMIN, Principal
from server.services import transfers
from server.services.context import RequestContext
from server.store import holds, tx
from server.store import scheduled as scheduled_rows
from server.store.bootstrap import ensure_internal_accounts
from server.store.db import is_postgres
from server.store.limit_usage import day_key
from server.store.models import Account, AccountEntry, Hold, LedgerTransaction
from server.workers import due_work
from tests.store import rows

STAFF = RequestContext(principal=Principal(client_id="sandbox-client", role=ADMIN))


def _today() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _schedule(source: str, target: str, amount: float) -> str:
    tomorrow = (_today() + timedelta(days=1)).date().isoformat()
    movement = transfers.transfer(
        transfers.TransferInput(
            from_account_id=source,
            to_account_id=target,
            amount=amount,
            scheduled=True,
            scheduled_date=tomorrow,
        ),
        STAFF,
    )
    return movement.transaction.id


def _hold(account_id: str, amount_minor: int, release_at: datetime) -> str:
    """A PENDING hold (of a deposit made elsewhere) on the account."""
    hold_id = new_id("hold")
    Hold.create(
        id=hold_id,
        account_id=account_id,
        transaction_id=None,
        amount_minor=amount_minor,
        currency="USD",
        reason="CHECK_DEPOSIT",
        status="PENDING",
        description="Check hold",
        release_at=release_at,
        created_at=release_at - timedelta(days=2),
    )
    Account.update(held_minor=Account.held_minor + amount_minor).where(
        Account.id == account_id
    ).execute()
    return hold_id


@contextmanager
def _held_elsewhere(database: peewee.Database, statement: str, row_id: str) -> Iterator[None]:
    """Another transaction (another server process) holds a row lock meanwhile."""
    other = psycopg2.connect(dbname=database.database, **database.connect_params)
    try:
        with other.cursor() as cursor:
            cursor.execute(statement, (row_id,))
        yield
    finally:
        other.rollback()
        other.close()


def _within(seconds: float, work: Callable[[], Any]) -> Any:
    """`work`'s result, failing (instead of hanging) if it waits for a lock."""
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert done, "the worker waited for a row another transaction holds"
    return done[0]


def test_due_scheduled_transfers_run_on_the_day_they_execute(database: peewee.Database) -> None:
    ensure_internal_accounts()
    owner = rows.customer("Worker Owner")
    source, target, poor = (
        rows.account(owner, 100_00),
        rows.account(owner, 0),
        rows.account(owner, 1_00),
    )
    ran = _schedule(source, target, 60)
    refused = _schedule(poor, target, 50)
    due = datetime.combine((_today() + timedelta(days=2)).date(), datetime.min.time()).replace(
        hour=10
    )
    done = due_work.run(due)
    assert (done["scheduled_completed"], done["scheduled_failed"]) == (1, 1)
    assert LedgerTransaction.get_by_id(ran).status == "COMPLETED"
    assert LedgerTransaction.get_by_id(refused).status == "FAILED"
    assert Account.get_by_id(source).balance_minor == 40_00
    dated = {
        entry.created_at
        for entry in AccountEntry.select().where(AccountEntry.transaction_id == ran)
    }
    assert dated == {due}
    counted = database.execute_sql(
        'SELECT "period", "used_minor" FROM "limit_usage" WHERE "account_id" = %s'
        if is_postgres()
        else 'SELECT "period", "used_minor" FROM "limit_usage" WHERE "account_id" = ?',
        (source,),
    ).fetchall()
    assert (day_key(due), 60_00) in counted
    assert due_work.run(due)["scheduled_completed"] == 0  # nothing runs twice


def test_a_scheduled_transfer_another_process_holds_is_skipped(database: peewee.Database) -> None:
    if not is_postgres():
        pytest.skip("SQLite serialises writers: no row is held by another transaction")
    owner = rows.customer("Skip Owner")
    source, target = rows.account(owner, 100_00), rows.account(owner, 0)
    first, second = _schedule(source, target, 1), _schedule(source, target, 2)
    due = _today() + timedelta(days=3)
    lock = 'SELECT 1 FROM "ledger_transactions" WHERE "id" = %s FOR UPDATE'
    with _held_elsewhere(database, lock, first):
        claimed = _within(5, lambda: tx.write(lambda: scheduled_rows.claim_due(due)))
        assert claimed is not None and claimed.id == second
        assert Account.get_by_id(source).balance_minor == 100_00  # claimed, not run


def test_a_hold_another_process_releases_is_skipped(database: peewee.Database) -> None:
    account = rows.account(rows.customer("Hold Owner"), 500_00)
    now = _today()
    taken = _hold(account, 100_00, now - timedelta(hours=1))
    free = _hold(account, 50_00, now - timedelta(hours=1))
    later = _hold(account, 25_00, now + timedelta(days=1))
    assert Account.get_by_id(account).held_minor == 175_00
    if is_postgres():
        lock = 'SELECT 1 FROM "holds" WHERE "id" = %s FOR UPDATE'
        with _held_elsewhere(database, lock, taken):
            assert _within(5, lambda: tx.write(lambda: holds.release_due(now, account))) == 1
        assert Hold.get_by_id(free).status == "RELEASED"
        assert Hold.get_by_id(taken).status == "PENDING"
    assert due_work.run(now)["holds_released"] == (1 if is_postgres() else 2)
    assert Hold.get_by_id(taken).status == "RELEASED"
    assert Hold.get_by_id(later).status == "PENDING"
    assert Account.get_by_id(account).held_minor == 25_00
    assert due_work.run(now)["holds_released"] == 0  # nothing released twice
