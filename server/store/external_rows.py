"""External transfers' rows (m0015): the beneficiary sealed, the next step due,
and each status change made conditional on the status it leaves.

The journal row (`ledger_transactions`) keeps the status and, in
`scheduled_for`, when the transfer's next step is due: its submission while
PENDING, its settlement while PROCESSING. The worker claims due transfers
with `FOR UPDATE SKIP LOCKED` on PostgreSQL. Every status change here is
`UPDATE ... WHERE id = ? AND status = <expected>`: zero rows changed means
another process (or a cancel) got there first, and the caller rolls back
rather than move money twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import peewee

from server.crypto.fields import FieldSealer
from server.domain import errors, limits
from server.domain.beneficiaries import Beneficiary
from server.domain.external import ACH
from server.store import limit_usage, sealed, sql
from server.store.db import is_postgres
from server.store.models import AccountEntry, BaseModel, LedgerTransaction

TYPE = "EXTERNAL_TRANSFER"


class ExternalTransfer(BaseModel):
    """What an EXTERNAL_TRANSFER keeps besides its journal row (same id)."""

    id = peewee.TextField(primary_key=True)
    from_account_id = peewee.TextField()
    rail = peewee.TextField()
    purpose = peewee.TextField(null=True)
    beneficiary_name = peewee.TextField()
    beneficiary_account_number = peewee.TextField()  # sealed
    beneficiary_routing_number = peewee.TextField(null=True)  # sealed
    beneficiary_iban = peewee.TextField(null=True)  # sealed
    account_number_last4 = peewee.TextField()
    iban_last4 = peewee.TextField(null=True)
    bank_name = peewee.TextField(null=True)
    account_type = peewee.TextField(null=True)
    bank_country = peewee.TextField()
    swift_code = peewee.TextField(null=True)
    address = peewee.TextField(null=True)
    submission_at = peewee.DateTimeField()
    estimated_completion = peewee.DateTimeField()
    network_return_code = peewee.TextField(null=True)
    created_at = peewee.DateTimeField()

    class Meta:
        table_name = "external_transfers"


@dataclass(frozen=True, slots=True)
class ExternalFacts:
    """An external transfer as responses show it: numbers masked, nothing sealed."""

    transaction_id: str
    rail: str
    purpose: str | None
    beneficiary_name: str
    account_number_last4: str
    iban_last4: str | None
    bank_name: str | None
    account_type: str | None
    bank_country: str
    swift_code: str | None
    address: str | None
    submission_at: datetime
    estimated_completion: datetime
    network_return_code: str | None


def _facts(row: ExternalTransfer) -> ExternalFacts:
    return ExternalFacts(
        transaction_id=row.id,
        rail=row.rail,
        purpose=row.purpose,
        beneficiary_name=row.beneficiary_name,
        account_number_last4=row.account_number_last4,
        iban_last4=row.iban_last4,
        bank_name=row.bank_name,
        account_type=row.account_type,
        bank_country=row.bank_country,
        swift_code=row.swift_code,
        address=row.address,
        submission_at=row.submission_at,
        estimated_completion=row.estimated_completion,
        network_return_code=row.network_return_code,
    )


# -- Reads -------------------------------------------------------------------------------
def facts(transaction_id: str) -> ExternalFacts | None:
    row = ExternalTransfer.get_or_none(ExternalTransfer.id == transaction_id)
    return _facts(row) if row is not None else None


def ach_transfers_this_month(account_id: str, periods: limits.Periods) -> int:
    """The account's ACH transfers made this UTC month that did not end FAILED
    or CANCELLED (they gave their fee back): the free ones they used up."""
    return int(
        ExternalTransfer.select(peewee.fn.COUNT(ExternalTransfer.id))
        .join(LedgerTransaction, on=LedgerTransaction.id == ExternalTransfer.id)
        .where(
            (ExternalTransfer.from_account_id == account_id)
            & (ExternalTransfer.rail == ACH)
            & (ExternalTransfer.created_at >= periods.month_start)
            & (ExternalTransfer.created_at < periods.month_end)
            & LedgerTransaction.status.not_in(sorted(limits.USAGE_EXCLUDED_STATUSES))
        )
        .scalar()
        or 0
    )


def beneficiary_numbers(transaction_id: str, sealer: FieldSealer) -> tuple[str, str, str]:
    """(account number, routing number, IBAN) opened, for the network only."""
    row = ExternalTransfer.get_by_id(transaction_id)
    return (
        sealed.open_value(
            sealer, sealed.BENEFICIARY_ACCOUNT_NUMBER, row.id, row.beneficiary_account_number
        )
        or "",
        sealed.open_value(
            sealer, sealed.BENEFICIARY_ROUTING_NUMBER, row.id, row.beneficiary_routing_number
        )
        or "",
        sealed.open_value(sealer, sealed.BENEFICIARY_IBAN, row.id, row.beneficiary_iban) or "",
    )


def claim_due(now: datetime) -> LedgerTransaction | None:
    """The oldest external transfer whose next step is due at `now`, locked for
    this transaction on PostgreSQL (one another process holds is skipped)."""
    query = (
        LedgerTransaction.select()
        .where(
            LedgerTransaction.status.in_(["PENDING", "PROCESSING"])
            & (LedgerTransaction.scheduled_for <= now)
            & (LedgerTransaction.type == TYPE)
        )
        .order_by(LedgerTransaction.scheduled_for, LedgerTransaction.created_at)
        .limit(1)
    )
    if is_postgres():
        query = query.for_update(skip_locked=True)
    found: LedgerTransaction | None = query.first()
    return found


def reread(transaction_id: str) -> LedgerTransaction:
    return LedgerTransaction.get_by_id(transaction_id)


def entry_created_at(transaction_id: str, account_id: str) -> datetime:
    """When the transfer's debit history row was written (its limit periods)."""
    entry = (
        AccountEntry.select(AccountEntry.created_at)
        .where(
            (AccountEntry.transaction_id == transaction_id)
            & (AccountEntry.account_id == account_id)
        )
        .get()
    )
    found: datetime = entry.created_at
    return found


# -- Writes ------------------------------------------------------------------------------
def insert(
    transaction_id: str,
    from_account_id: str,
    beneficiary: Beneficiary,
    *,
    purpose: str,
    submission_at: datetime,
    estimated_completion: datetime,
    network_return_code: str | None,
    sealer: FieldSealer,
    now: datetime,
) -> ExternalFacts:
    """Writes the transfer's row, the beneficiary's numbers sealed."""
    row_id = transaction_id
    values = {
        "id": row_id,
        "from_account_id": from_account_id,
        "rail": beneficiary.rail,
        "purpose": purpose or None,
        "beneficiary_name": beneficiary.name,
        "beneficiary_account_number": sealed.seal(
            sealer, sealed.BENEFICIARY_ACCOUNT_NUMBER, row_id, beneficiary.account_number
        ),
        "beneficiary_routing_number": sealed.seal(
            sealer, sealed.BENEFICIARY_ROUTING_NUMBER, row_id, beneficiary.routing_number
        ),
        "beneficiary_iban": sealed.seal(sealer, sealed.BENEFICIARY_IBAN, row_id, beneficiary.iban),
        "account_number_last4": beneficiary.account_number[-4:],
        "iban_last4": beneficiary.iban[-4:] or None,
        "bank_name": beneficiary.bank_name or None,
        "account_type": beneficiary.account_type or None,
        "bank_country": beneficiary.bank_country,
        "swift_code": beneficiary.swift_code or None,
        "address": beneficiary.address or None,
        "submission_at": submission_at,
        "estimated_completion": estimated_completion,
        "network_return_code": network_return_code,
        "created_at": now,
    }
    sql.insert(ExternalTransfer, [values], deferred=True)
    return _facts(ExternalTransfer(**values))


def reserve(account_id: str, amount_minor: int) -> None:
    """Moves `amount_minor` into (or, negative, out of) the account's pending debits."""
    sql.defer(
        'UPDATE "accounts" SET "pending_debits_minor" = "pending_debits_minor" + ? WHERE "id" = ?',
        (amount_minor, account_id),
    )


def move_status(
    row: LedgerTransaction,
    expected: str,
    *,
    details: dict[str, object],
    next_due: datetime | None = None,
    completed_at: datetime | None = None,
    failure_reason: str | None = None,
) -> None:
    """Moves the journal row from `expected` to `row.status`, or Conflict (409)
    when it is no longer `expected` (someone else moved it first)."""
    changed = sql.execute(
        'UPDATE "ledger_transactions" SET "status" = ?, "details" = ?, "scheduled_for" = ?,'
        ' "completed_at" = ?, "failure_reason" = ? WHERE "id" = ? AND "status" = ?',
        (
            row.status,
            json.dumps(details, sort_keys=True),
            LedgerTransaction.scheduled_for.db_value(next_due),
            LedgerTransaction.completed_at.db_value(completed_at),
            failure_reason,
            row.id,
            expected,
        ),
    ).rowcount
    if changed != 1:
        raise errors.Conflict(
            f"The external transfer is no longer {expected}",
            metadata={"transaction_id": row.id, "expected_status": expected},
        )


def update_entry(
    row: LedgerTransaction, account_id: str, *, balance_after: int | None = None
) -> None:
    """The debit history row follows the transfer's status (and, once posted,
    shows the balance after it)."""
    if balance_after is None:
        sql.defer(
            'UPDATE "account_entries" SET "status" = ? WHERE "transaction_id" = ?'
            ' AND "account_id" = ?',
            (row.status, row.id, account_id),
        )
        return
    sql.defer(
        'UPDATE "account_entries" SET "status" = ?, "balance_after_minor" = ?'
        ' WHERE "transaction_id" = ? AND "account_id" = ?',
        (row.status, balance_after, row.id, account_id),
    )


def fail_entry(row: LedgerTransaction, account_id: str) -> None:
    """The debit history row of a returned transfer: FAILED, and without a balance
    after it, since the return gave the money back (a FAILED line moves none)."""
    sql.defer(
        'UPDATE "account_entries" SET "status" = ?, "balance_after_minor" = NULL'
        ' WHERE "transaction_id" = ? AND "account_id" = ?',
        (row.status, row.id, account_id),
    )


def give_back_limits(account_id: str, amount_minor: int, entry_at: datetime) -> None:
    """A transfer that ended FAILED no longer counts toward the limits of the
    periods its history row was counted in."""
    limit_usage.count(account_id, limits.CLASS_EXTERNAL_TRANSFER, -amount_minor, entry_at)
