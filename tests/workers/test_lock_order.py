"""A cancel and a worker's step on the same transaction never deadlock
(PostgreSQL): both take the journal row first, then the accounts, then the
kind's own rows (server.store.ledger's lock order).

Each round makes one scheduled bill payment, then runs the payments worker
and a cancel of that payment at once; in the held rounds another connection
holds the payer's account until both wait, so that the worker, which comes
first, is granted it first: the interleaving in which the old order (the
payment's row, the account, then the journal row) deadlocked every time.
Exactly one of them moves the payment; no transaction is retried.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import peewee
import psycopg2
import pytest

from server.crypto import fields
from server.domain import errors
from server.domain.ids import new_id
from server.domain.principal import ADMIN, Principal
from server.services import cancellation, payments
from server.services.context import RequestContext
from server.store import db as store_db
from server.store.bootstrap import ensure_internal_accounts
from server.store.db import is_postgres
from server.store.models import Account, LedgerTransaction, Payee, Posting
from server.workers import payments as payment_worker
from tests.store import rows

STAFF = RequestContext(principal=Principal(client_id="sandbox-client", role=ADMIN))
ROUNDS = 20
HELD_ROUNDS = 6


def _today() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _scheduled_payment(keys: Path) -> tuple[str, str]:
    owner = rows.customer("Racing Payer")
    source = rows.account(owner, 100_00)
    payee = new_id("payee")
    Payee.create(
        id=payee,
        owner=owner,
        name="Race Utility",
        type="UTILITY",
        account_number="RU11223344",
        account_number_last4="3344",
        category="",
        created_at=_today(),
    )
    request = payments.PaymentInput(
        from_account_id=source,
        payee_id=payee,
        amount=25,
        payment_date=(_today() + timedelta(days=1)).date().isoformat(),
    )
    paid = payments.pay(request, STAFF, fields.load_keyring(keys))
    return source, paid.movement.transaction.id


def _waiting(database: peewee.Database) -> int:
    """Backends of this database waiting for a lock."""
    cursor = database.execute_sql(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return int(cursor.fetchone()[0])


def _until(condition: Callable[[], bool], seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


class _Racer(threading.Thread):
    def __init__(self, work: Callable[[], Any], start_line: threading.Barrier | None) -> None:
        super().__init__(daemon=True)
        self.work, self.start_line = work, start_line
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        if self.start_line is not None:
            self.start_line.wait()
        try:
            self.result = self.work()
        except BaseException as exc:
            self.error = exc
        finally:
            store_db.database.close()  # the thread's connection back to the pool


def _race(database: peewee.Database, source: str, payment_id: str, held: bool) -> tuple[Any, Any]:
    due = _today() + timedelta(days=2)
    worker_work = lambda: payment_worker.run_due(due)  # noqa: E731
    cancel_work = lambda: cancellation.cancel(  # noqa: E731
        cancellation.CancelInput(payment_id, reason="NO_LONGER_NEEDED"), STAFF
    )
    if not held:
        line = threading.Barrier(2)
        racers = [_Racer(worker_work, line), _Racer(cancel_work, line)]
        for racer in racers:
            racer.start()
    else:
        other = psycopg2.connect(dbname=database.database, **database.connect_params)
        try:
            with other.cursor() as cursor:
                cursor.execute('SELECT 1 FROM "accounts" WHERE "id" = %s FOR UPDATE', (source,))
            racers = [_Racer(worker_work, None)]
            racers[0].start()
            assert _until(lambda: _waiting(database) >= 1), "the worker never waited"
            racers.append(_Racer(cancel_work, None))
            racers[1].start()
            assert _until(lambda: _waiting(database) >= 2), (
                f"the cancel never waited: {racers[1].error!r} {racers[1].result!r}"
            )
        finally:
            other.rollback()
            other.close()
    for racer in racers:
        racer.join(30)
        assert not racer.is_alive(), "a racer hung"
    worker, cancel = racers
    assert worker.error is None, worker.error
    if cancel.error is not None:
        # The worker moved it first: only a refusal of the cancel is an answer.
        assert isinstance(cancel.error, errors.BankError), cancel.error
        assert not isinstance(cancel.error, errors.Unavailable), cancel.error
    return worker.result, cancel.error


def _postings(transaction_id: str, account_id: str | None = None) -> list[int]:
    query = Posting.select(Posting.amount_minor).where(Posting.transaction == transaction_id)
    if account_id is not None:
        query = query.where(Posting.account == account_id)
    return [int(row.amount_minor) for row in query]


@pytest.mark.postgres
def test_a_cancel_and_the_payments_worker_never_deadlock(
    database: peewee.Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if not is_postgres():
        pytest.skip("SQLite serialises writers: nothing waits for a row lock")
    ensure_internal_accounts()
    caplog.set_level(logging.WARNING, logger="server.store.tx")
    for round_ in range(ROUNDS):
        source, payment_id = _scheduled_payment(tmp_path)
        _, refused = _race(database, source, payment_id, held=round_ < HELD_ROUNDS)
        status = LedgerTransaction.get_by_id(payment_id).status
        account = Account.get_by_id(source)
        assert sum(_postings(payment_id)) == 0
        assert account.pending_debits_minor == 0
        moved = sum(_postings(payment_id, source))
        if refused is None:  # the cancel won, or cancelled the fresh debit
            assert status == "CANCELLED" and moved == 0 and account.balance_minor == 100_00
        else:  # the worker won; the cancel saw its PROCESSING and refused
            assert status == "PROCESSING" and moved == -25_00
            assert account.balance_minor == 75_00
    retried = [r for r in caplog.records if r.getMessage() == "retrying transaction"]
    # On PostgreSQL only a deadlock (or a serialization failure, which READ
    # COMMITTED never raises) is retried.
    assert not retried, f"{len(retried)} transactions retried after a deadlock"
