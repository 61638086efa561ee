"""Bill payments' rows (m0016): what a PAYMENT pays and when its next step is due.

The journal row (`ledger_transactions`) keeps the status, amount and account;
`bill_payments` keeps the payee as it was when paid, the customer's number at
the payee (sealed, server.store.sealed.BILL_PAYMENT_ACCOUNT_NUMBER), the memo,
the dates, and `due_at`, the next moment the worker (server.workers.payments)
must act. Typed records out, never ORM rows.

Every status change is a conditional UPDATE (`... WHERE status = expected`):
zero rows changed means a cancel or another process got there first, and the
caller rolls back instead of moving money twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import peewee

from server.crypto.fields import FieldSealer
from server.domain import limits
from server.domain.transaction_states import FAILED, PENDING, PROCESSING, SCHEDULED
from server.store import limit_usage, sealed, sql
from server.store.db import is_postgres
from server.store.models import AccountEntry, BaseModel, LedgerTransaction

# Statuses in which a payment still has to reach its payee (DeletePayee refuses).
OPEN_STATUSES = (SCHEDULED, PENDING, PROCESSING)


class BillPayment(BaseModel):
    id = peewee.TextField(primary_key=True)  # the PAYMENT transaction's id
    payee_id = peewee.TextField()
    payee_name = peewee.TextField()
    payee_type = peewee.TextField()
    payee_account_number = peewee.TextField()  # sealed
    payee_account_last4 = peewee.TextField()
    memo = peewee.TextField()
    payment_date = peewee.TextField()  # YYYY-MM-DD
    send_date = peewee.TextField()
    estimated_delivery = peewee.TextField()
    due_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "bill_payments"


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """A bill payment's own facts (the full account number is not in here)."""

    id: str
    payee_id: str
    payee_name: str
    payee_type: str
    payee_account_last4: str
    memo: str
    payment_date: date
    send_date: date
    estimated_delivery: date
    due_at: datetime | None


def _record(row: BillPayment) -> PaymentRecord:
    return PaymentRecord(
        id=row.id,
        payee_id=row.payee_id,
        payee_name=row.payee_name,
        payee_type=row.payee_type,
        payee_account_last4=row.payee_account_last4,
        memo=row.memo,
        payment_date=date.fromisoformat(row.payment_date),
        send_date=date.fromisoformat(row.send_date),
        estimated_delivery=date.fromisoformat(row.estimated_delivery),
        due_at=row.due_at,
    )


def insert(record: PaymentRecord, account_number: str, sealer: FieldSealer) -> None:
    """Writes a new payment's row, its number at the payee sealed to the row."""
    stored = sealed.seal(sealer, sealed.BILL_PAYMENT_ACCOUNT_NUMBER, record.id, account_number)
    assert stored is not None, "a payment always carries the number at the payee"
    BillPayment.insert(
        id=record.id,
        payee_id=record.payee_id,
        payee_name=record.payee_name,
        payee_type=record.payee_type,
        payee_account_number=stored,
        payee_account_last4=record.payee_account_last4,
        memo=record.memo,
        payment_date=record.payment_date.isoformat(),
        send_date=record.send_date.isoformat(),
        estimated_delivery=record.estimated_delivery.isoformat(),
        due_at=record.due_at,
    ).execute()


def get(transaction_id: str) -> PaymentRecord | None:
    row = BillPayment.get_or_none(BillPayment.id == transaction_id)
    return _record(row) if row is not None else None


def claim_due(now: datetime) -> PaymentRecord | None:
    """The payment whose next step is the oldest due at `now`, its journal row
    locked for this transaction (on PostgreSQL one another process holds is
    skipped), or None.

    The journal row is what is locked, not `bill_payments`: it comes first
    in the lock order (server.store.ledger), before the accounts, as a
    cancel takes it; the payment's own row is written last.

    Steps due at one moment run in the order the payments were made, so that
    of two that do not both fit (funds, the day's limit) the earlier one runs.
    """
    query = (
        BillPayment.select()
        .join(LedgerTransaction, on=(LedgerTransaction.id == BillPayment.id))
        .where(BillPayment.due_at <= now)
        .order_by(BillPayment.due_at, LedgerTransaction.created_at, BillPayment.id)
        .limit(1)
    )
    if is_postgres():
        query = query.for_update(of=LedgerTransaction, skip_locked=True)
    row = query.first()
    return _record(row) if row is not None else None


def set_due(transaction_id: str, due_at: datetime | None) -> None:
    BillPayment.update(due_at=due_at).where(BillPayment.id == transaction_id).execute()


def transaction_row(transaction_id: str) -> LedgerTransaction:
    return LedgerTransaction.get_by_id(transaction_id)


def names_open_payment(payee_id: str) -> bool:
    """Whether a payment still on its way (OPEN_STATUSES) names the payee."""
    query = (
        BillPayment.select(BillPayment.id)
        .join(LedgerTransaction, on=(LedgerTransaction.id == BillPayment.id))
        .where((BillPayment.payee_id == payee_id) & LedgerTransaction.status.in_(OPEN_STATUSES))
    )
    return query.exists()


def move_status(transaction_id: str, expected: str, target: str, **columns: object) -> bool:
    """The conditional status change; False when the row was not in `expected`."""
    changed = (
        LedgerTransaction.update(status=target, **columns)
        .where((LedgerTransaction.id == transaction_id) & (LedgerTransaction.status == expected))
        .execute()
    )
    return bool(changed)


def move_pending_debits(account_id: str, amount_minor: int) -> None:
    """Reserves (> 0) or releases (< 0) money promised by a SCHEDULED payment."""
    sql.defer(
        'UPDATE "accounts" SET "pending_debits_minor" = "pending_debits_minor" + ? WHERE "id" = ?',
        (amount_minor, account_id),
    )


def debited_entry(
    transaction_id: str, account_id: str, balance_after: int, amount_minor: int, now: datetime
) -> None:
    """A scheduled payment's history row, now debited: PROCESSING, dated `now`,
    with its balance after, and counted toward the day's bill-payment limit
    (the day its limit was checked in)."""
    sql.defer(
        'UPDATE "account_entries" SET "status" = ?, "balance_after_minor" = ?,'
        ' "limit_class" = ?, "created_at" = ? WHERE "transaction_id" = ? AND "account_id" = ?',
        (
            PROCESSING,
            balance_after,
            limits.CLASS_BILL_PAYMENT,
            AccountEntry.created_at.db_value(now),
            transaction_id,
            account_id,
        ),
    )
    limit_usage.count(account_id, limits.CLASS_BILL_PAYMENT, amount_minor, now)


def failed_entry(transaction_id: str, account_id: str) -> None:
    """The debit history row of a payment the payee returned: FAILED, without
    a balance after it (the return gave the money back: the line moves none)."""
    sql.defer(
        'UPDATE "account_entries" SET "status" = ?, "balance_after_minor" = NULL'
        ' WHERE "transaction_id" = ? AND "account_id" = ?',
        (FAILED, transaction_id, account_id),
    )


def entries_status(transaction_id: str, status: str) -> None:
    AccountEntry.update(status=status).where(
        AccountEntry.transaction_id == transaction_id
    ).execute()
