"""The rows every movement writes besides its postings: the journal row of a
transfer, the customer-facing history rows (`account_entries`) with the limit
usage of their debits, and the holder names those rows show.

Every write here is deferred (server.store.db): on PostgreSQL it travels
with the movement's COMMIT.
"""

from __future__ import annotations

from datetime import datetime

from server.domain import limits
from server.domain.movement_events import transaction_data
from server.store import limit_usage, sql
from server.store.models import Account, AccountEntry, LedgerTransaction


def customer_account(account_id: str) -> Account | None:
    """The customer account with this id, unlocked (None: no such account)."""
    found = sql.rows(
        Account,
        f'SELECT {sql.column_list(Account)} FROM "accounts" WHERE "id" = ? AND "kind" = ?',
        (account_id, "CUSTOMER"),
    )
    return found[0] if found else None


def insert_transaction(row: LedgerTransaction) -> None:
    """Writes a journal row built in memory (a transfer's, once its checks passed)."""
    sql.insert(LedgerTransaction, [row.__data__], deferred=True)


def entry(
    transaction: LedgerTransaction,
    account: Account,
    *,
    direction: str,
    amount_minor: int,
    fee_minor: int,
    balance_after: int | None,
    limit_class: str,
    counterparty: str,
    now: datetime,
) -> dict[str, object]:
    """One history row (account_entries) of `account` for the transaction."""
    words = (transaction.number, transaction.description, transaction.reference, counterparty)
    return {
        "account_id": account.id,
        "transaction_id": transaction.id,
        "direction": direction,
        "type": transaction.type,
        "status": transaction.status,
        "limit_class": limit_class,
        "currency": transaction.currency,
        "amount_minor": amount_minor,
        "fee_minor": fee_minor,
        "balance_after_minor": balance_after,
        "counterparty": counterparty,
        "search_text": " ".join(part for part in words if part).lower(),
        "created_at": now,
    }


def write_entries(*records: dict[str, object]) -> None:
    """History rows, and the limit usage of the debits among them."""
    sql.insert(AccountEntry, records, deferred=True)
    limit_usage.count_entries(records)


def write_unposted_pair(
    row: LedgerTransaction,
    source: Account,
    destination: Account,
    *,
    amount_minor: int,
    holders: dict[str, str],
    now: datetime,
) -> None:
    """History rows of a transfer not posted yet (scheduled, or held for
    review): a DEBIT and a CREDIT without a balance after, counting no limit."""
    write_entries(
        *(
            entry(
                row,
                account,
                direction=direction,
                amount_minor=amount_minor,
                fee_minor=0,
                balance_after=None,
                limit_class=limits.CLASS_NONE,
                counterparty=holders[other.id],
                now=now,
            )
            for account, other, direction in (
                (source, destination, "DEBIT"),
                (destination, source, "CREDIT"),
            )
        )
    )


def holder(account: Account, owner_name: str | None) -> str:
    """An account's holder: its owner's name, or its own name for the bank's accounts."""
    return str(account.name) if account.owner_id is None else str(owner_name or "")


def holder_names(accounts: list[Account]) -> dict[str, str]:
    """Each account's holder (`holder`), its owners' names read in one query."""
    owners = sorted({str(a.owner_id) for a in accounts if a.owner_id is not None})
    found: dict[str, str] = {}
    if owners:
        found = dict(
            sql.execute(
                f'SELECT "id", "name" FROM "users" WHERE "id" IN ({sql.marks(len(owners))})',
                owners,
            ).fetchall()
        )
    return {a.id: holder(a, found.get(str(a.owner_id))) for a in accounts}


def event_data(row: LedgerTransaction, account_id: str) -> dict[str, object]:
    """The transaction.* outbox payload of a journal row, seen from `account_id`."""
    return transaction_data(
        transaction_id=row.id,
        number=row.number,
        account_id=account_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        type_=row.type,
        status=row.status,
    )
