"""External transfers' worker: each step taken once, never over someone else's.

A step is a conditional status change written with its money: a transfer a
cancel (or another process) already moved is left alone, and on PostgreSQL
a transfer another transaction holds is skipped rather than waited for.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee
import psycopg2
import pytest

from server.crypto.fields import Keyring
from server.domain import errors
from server.domain.beneficiaries import BeneficiaryInput
from server.domain.principal import ADMIN, Principal
from server.services import external
from server.services.context import RequestContext
from server.store import external_rows, tx
from server.store.bootstrap import ensure_internal_accounts
from server.store.db import is_postgres
from server.store.models import Account, LedgerTransaction, Posting
from server.workers import external as worker
from tests.store import rows

STAFF = RequestContext(principal=Principal(client_id="sandbox-client", role=ADMIN), sandbox=True)
SEALER = Keyring({"test": secrets.token_bytes(32)}, "test")
LATER = timedelta(days=15)  # past any rail's settlement, weekends and holidays included


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _send(source: str, amount: float, number: str = "9876543210") -> str:
    accepted = external.create(
        external.ExternalTransferInput(
            from_account_id=source,
            amount=amount,
            beneficiary=BeneficiaryInput(
                name="Jane Smith",
                account_number=number,
                routing_number="021000021",
                account_type="CHECKING",
            ),
        ),
        STAFF,
        SEALER,
    )
    return accepted.movement.transaction.id


def _posted(transaction_id: str) -> int:
    return int(Posting.select().where(Posting.transaction == transaction_id).count())


def _within(seconds: float, work: Callable[[], Any]) -> Any:
    """`work`'s result, failing (instead of hanging) if it waits for a lock."""
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert done, "the worker waited for a row another transaction holds"
    return done[0]


def test_each_step_runs_once_and_a_returned_transfer_fails(database: peewee.Database) -> None:
    ensure_internal_accounts()
    source = rows.account(rows.customer("External Owner"), 1_000_00)
    sent, returned = _send(source, 100), _send(source, 50, number="12340002")
    assert Account.get_by_id(source).pending_debits_minor == 150_00
    done = worker.run_due(_now() + LATER)
    assert done == {"PROCESSING": 2, "COMPLETED": 1, "FAILED": 1}
    assert LedgerTransaction.get_by_id(sent).status == "COMPLETED"
    failed = LedgerTransaction.get_by_id(returned)
    assert failed.status == "FAILED" and '"failure_code": "R02"' in failed.details
    account = Account.get_by_id(source)
    assert (account.balance_minor, account.pending_debits_minor) == (900_00, 0)
    assert worker.run_due(_now() + LATER) == {}  # nothing runs twice


def test_a_transfer_cancelled_before_its_step_is_left_alone(database: peewee.Database) -> None:
    ensure_internal_accounts()
    source = rows.account(rows.customer("Cancel Owner"), 500_00)
    sent = _send(source, 100)
    # What a cancel does to the row (its own use case also gives the reservation back).
    LedgerTransaction.update(status="CANCELLED").where(LedgerTransaction.id == sent).execute()
    assert worker.run_due(_now() + LATER) == {}
    assert _posted(sent) == 0
    assert Account.get_by_id(source).balance_minor == 500_00


def test_a_status_someone_else_changed_is_a_conflict(database: peewee.Database) -> None:
    ensure_internal_accounts()
    source = rows.account(rows.customer("Race Owner"), 500_00)
    sent = _send(source, 100)
    row = LedgerTransaction.get_by_id(sent)
    row.status = "PROCESSING"

    def move_from_processing() -> None:
        external_rows.move_status(row, "PROCESSING", details={})

    with pytest.raises(errors.Conflict):
        tx.write(move_from_processing)
    assert LedgerTransaction.get_by_id(sent).status == "PENDING"


def test_a_transfer_another_process_holds_is_skipped(database: peewee.Database) -> None:
    if not is_postgres():
        pytest.skip("SQLite serialises writers: no row is held by another transaction")
    ensure_internal_accounts()
    worker.run_due(_now() + LATER)  # earlier tests' transfers out of the way
    source = rows.account(rows.customer("Skip Owner"), 500_00)
    first, second = _send(source, 1), _send(source, 2)
    other = psycopg2.connect(dbname=database.database, **database.connect_params)
    try:
        with other.cursor() as cursor:
            cursor.execute(
                'SELECT 1 FROM "ledger_transactions" WHERE "id" = %s FOR UPDATE', (first,)
            )
        claimed = _within(5, lambda: tx.write(lambda: external_rows.claim_due(_now() + LATER)))
        assert claimed is not None and claimed.id == second
    finally:
        other.rollback()
        other.close()
    assert LedgerTransaction.get_by_id(first).status == "PENDING"
