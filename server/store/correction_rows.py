"""The rows cancellations and reversals read and change.

Both correct a transaction another use case wrote, whatever its kind, so
they read it through what every kind shares: its journal row, its postings
and its history rows (`account_entries`). The journal row is locked first
(`lock_transaction`), in the order every path takes its locks (the row,
then its accounts, then the kind's rows: server.store.ledger), so that a
cancel and a worker never wait for each other in a cycle; every status
change is conditional on the status read (`move_status`), so that a change
another process made first is refused instead of being made twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from server.domain.postings import Leg
from server.store import limit_usage
from server.store.db import is_postgres
from server.store.models import Account, AccountEntry, LedgerTransaction, Posting


@dataclass(frozen=True, slots=True)
class PostedLeg:
    """One posting of a transaction, as written."""

    account_id: str
    amount_minor: int
    currency: str
    created_at: datetime

    def leg(self) -> Leg:
        return Leg(self.account_id, self.amount_minor, self.currency)


@dataclass(frozen=True, slots=True)
class CountedDebit:
    """A history row of the transaction that counts toward a periodic limit."""

    account_id: str
    limit_class: str
    amount_minor: int
    created_at: datetime


def lock_transaction(transaction_id: str) -> LedgerTransaction | None:
    """The journal row, locked for this database transaction on PostgreSQL.

    Unlike a worker's claim this waits for a row another process holds, and
    then reads the row as that process left it (READ COMMITTED re-reads a
    row it locks), so a cancel that raced a worker sees the worker's status.
    SQLite's BEGIN IMMEDIATE has serialised every writer already.
    """
    query = LedgerTransaction.select().where(LedgerTransaction.id == transaction_id)
    if is_postgres():
        query = query.for_update()
    found: LedgerTransaction | None = query.first()
    return found


def postings_of(transaction_id: str) -> list[PostedLeg]:
    """Every posting of the transaction, oldest first."""
    query = (
        Posting.select(Posting.account, Posting.amount_minor, Posting.currency, Posting.created_at)
        .where(Posting.transaction == transaction_id)
        .order_by(Posting.id)
        .tuples()
    )
    found: list[tuple[str, int, str, datetime]] = list(query)  # type: ignore[arg-type]
    return [
        PostedLeg(str(account), int(amount), str(currency), created_at)
        for account, amount, currency, created_at in found
    ]


def net_legs(posted: list[PostedLeg]) -> list[Leg]:
    """The postings summed per account and currency (one leg each, as the
    ledger writes a transaction), without the accounts they leave unmoved."""
    totals: dict[tuple[str, str], int] = {}
    for leg in posted:
        key = (leg.account_id, leg.currency)
        totals[key] = totals.get(key, 0) + leg.amount_minor
    return [
        Leg(account, amount, currency) for (account, currency), amount in totals.items() if amount
    ]


def customer_account_ids(account_ids: list[str]) -> list[str]:
    """Those of `account_ids` that are customer accounts (the bank's own are left out)."""
    if not account_ids:
        return []
    query = Account.select(Account.id).where(
        Account.id.in_(account_ids) & (Account.kind == "CUSTOMER")
    )
    return sorted(str(row.id) for row in query)


def move_status(
    row: LedgerTransaction,
    expected: str,
    new: str,
    details: dict[str, object],
    *,
    cancelled_at: datetime | None = None,
) -> bool:
    """Moves the row from `expected` to `new`, with its new details.

    False when the row no longer is `expected` (another process moved it
    first): the caller refuses, and its transaction rolls back.
    """
    values: dict[str, object] = {
        "status": new,
        "details": json.dumps(details, sort_keys=True, default=str),
    }
    if cancelled_at is not None:
        values["cancelled_at"] = cancelled_at
    changed = (
        LedgerTransaction.update(values)
        .where((LedgerTransaction.id == row.id) & (LedgerTransaction.status == expected))
        .execute()
    )
    if changed != 1:
        return False
    row.status = new
    row.details = str(values["details"])
    if cancelled_at is not None:
        row.cancelled_at = cancelled_at
    return True


def counted_debits(transaction_id: str) -> list[CountedDebit]:
    """The transaction's history rows that count toward a limit now."""
    query = AccountEntry.select().where(AccountEntry.transaction_id == transaction_id)
    return [
        CountedDebit(
            str(entry.account_id),
            str(entry.limit_class),
            int(entry.amount_minor),
            entry.created_at,
        )
        for entry in query
        if limit_usage.counts(str(entry.direction), str(entry.limit_class), str(entry.status))
    ]


def set_entries_status(transaction_id: str, status: str) -> None:
    """The transaction's history rows follow its status."""
    AccountEntry.update(status=status).where(
        AccountEntry.transaction_id == transaction_id
    ).execute()


def uncount(debits: list[CountedDebit]) -> None:
    """Takes debits that no longer count (their rows are CANCELLED now) off
    the counters of their own day and month, so that the counters stay the
    sums of the rows that count."""
    for debit in debits:
        limit_usage.count(
            debit.account_id, debit.limit_class, -debit.amount_minor, debit.created_at
        )


def release_pending_debit(account_id: str, amount_minor: int) -> None:
    """Drops a reservation from the account's pending debits.

    The reservation was added when the transaction was made; a pending
    debits total smaller than it means a kind broke the shared convention,
    and releasing it anyway would make the total negative: that is a bug,
    not a client error.
    """
    changed = (
        Account.update(pending_debits_minor=Account.pending_debits_minor - amount_minor)
        .where((Account.id == account_id) & (Account.pending_debits_minor >= amount_minor))
        .execute()
    )
    assert changed == 1, f"{account_id} does not reserve {amount_minor}"


def refunded_minor(transaction_id: str) -> int:
    """The sum of the REFUND transactions posted against the transaction."""
    query = (
        LedgerTransaction.select(LedgerTransaction.amount_minor)
        .where(
            (LedgerTransaction.original_transaction_id == transaction_id)
            & (LedgerTransaction.type == "REFUND")
            & (LedgerTransaction.status == "COMPLETED")
        )
        .tuples()
    )
    found: list[tuple[int]] = list(query)  # type: ignore[arg-type]
    return sum(int(amount) for (amount,) in found)
