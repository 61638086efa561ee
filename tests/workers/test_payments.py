"""Due work of bill payments: each step runs once, in the order payments were made,
a payment another process holds is skipped, and one a cancel moved first is
left alone (its money untouched)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee
import pytest

from server.crypto import fields
from server.domain.ids import new_id
from server.domain.principal import ADMIN, Principal
from server.services import payments
from server.services.context import RequestContext
from server.store import payment_rows, tx
from server.store.bootstrap import ensure_internal_accounts, internal_account_id
from server.store.db import is_postgres
from server.store.models import Account, AccountEntry, LedgerTransaction, Payee
from server.workers import due_work
from tests.store import rows
from tests.workers.test_due_work import _held_elsewhere, _within

STAFF = RequestContext(principal=Principal(client_id="sandbox-client", role=ADMIN))
CLEARING = internal_account_id("BILL_PAY_CLEARING", "USD")


def _today() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _payee(owner_id: str) -> str:
    payee_id = new_id("payee")
    Payee.create(
        id=payee_id,
        owner=owner_id,
        name="Worker Utility",
        type="UTILITY",
        account_number="WU99887766",  # plaintext, as rows stored before sealing read
        account_number_last4="7766",
        category="",
        created_at=_today(),
    )
    return payee_id


def _schedule(source: str, payee: str, amount: float, keys: Path) -> str:
    tomorrow = (_today() + timedelta(days=1)).date().isoformat()
    request = payments.PaymentInput(
        from_account_id=source, payee_id=payee, amount=amount, payment_date=tomorrow
    )
    result = payments.pay(request, STAFF, fields.load_keyring(keys))
    return result.movement.transaction.id


def _pending(account_id: str) -> int:
    return int(Account.get_by_id(account_id).pending_debits_minor)


def test_scheduled_payments_are_debited_once_then_completed_once(
    database: peewee.Database, tmp_path: Path
) -> None:
    ensure_internal_accounts()
    owner = rows.customer("Payment Worker")
    source, payee = rows.account(owner, 100_00), _payee(owner)
    first = _schedule(source, payee, 60, tmp_path)
    second = _schedule(source, payee, 30, tmp_path)
    assert _pending(source) == 90_00
    clearing_before = Account.get_by_id(CLEARING).balance_minor
    due = datetime.combine((_today() + timedelta(days=2)).date(), datetime.min.time())
    done = due_work.run(due.replace(hour=10))
    assert (done["payments_debited"], done["payments_failed"]) == (2, 0)
    assert due_work.run(due.replace(hour=10))["payments_debited"] == 0  # nothing runs twice
    assert Account.get_by_id(source).balance_minor == 10_00
    assert _pending(source) == 0
    assert Account.get_by_id(CLEARING).balance_minor - clearing_before == 90_00
    later = due + timedelta(days=30)
    assert due_work.run(later)["payments_completed"] == 2
    assert due_work.run(later)["payments_completed"] == 0
    for payment_id in (first, second):
        assert LedgerTransaction.get_by_id(payment_id).status == "COMPLETED"
        assert payment_rows.get(payment_id).due_at is None  # type: ignore[union-attr]
        statuses = {
            entry.status
            for entry in AccountEntry.select().where(AccountEntry.transaction_id == payment_id)
        }
        assert statuses == {"COMPLETED"}


def test_a_payment_a_cancel_moved_first_is_left_alone(
    database: peewee.Database, tmp_path: Path
) -> None:
    ensure_internal_accounts()
    owner = rows.customer("Cancelled Payer")
    source, payee = rows.account(owner, 50_00), _payee(owner)
    payment_id = _schedule(source, payee, 20, tmp_path)
    # What a cancel does in its own transaction: the status and the reservation.
    LedgerTransaction.update(status="CANCELLED").where(LedgerTransaction.id == payment_id).execute()
    Account.update(pending_debits_minor=0).where(Account.id == source).execute()
    done = due_work.run(_today() + timedelta(days=3))
    assert (done["payments_debited"], done["payments_failed"]) == (0, 0)
    assert LedgerTransaction.get_by_id(payment_id).status == "CANCELLED"
    assert Account.get_by_id(source).balance_minor == 50_00 and _pending(source) == 0
    assert payment_rows.get(payment_id).due_at is None  # type: ignore[union-attr]


def test_a_payment_another_process_holds_is_skipped(
    database: peewee.Database, tmp_path: Path
) -> None:
    if not is_postgres():
        pytest.skip("SQLite serialises writers: no row is held by another transaction")
    ensure_internal_accounts()
    owner = rows.customer("Skipped Payer")
    source, payee = rows.account(owner, 100_00), _payee(owner)
    first = _schedule(source, payee, 1, tmp_path)
    second = _schedule(source, payee, 2, tmp_path)
    due = _today() + timedelta(days=3)
    # What a cancel holds: the journal row (server.store.ledger's lock order).
    lock = 'SELECT 1 FROM "ledger_transactions" WHERE "id" = %s FOR UPDATE'
    with _held_elsewhere(database, lock, first):
        claimed = _within(5, lambda: tx.write(lambda: payment_rows.claim_due(due)))
        assert claimed is not None and claimed.id == second
        assert Account.get_by_id(source).balance_minor == 100_00  # claimed, not run
