"""Writing journal transactions: balanced postings and balances in one go.

Callers run inside `database.atomic()`. Accounts are locked in sorted id
order (so two movements over the same accounts never deadlock) and balances
move through SQL expressions, never read-modify-write in Python. Every
transfer runs these statements, so they are written out once (server.store.sql).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from server.store import sql
from server.store.db import database, is_postgres
from server.store.models import Account, LedgerTransaction, Posting


@dataclass(frozen=True, slots=True)
class Leg:
    """One posting to write: `amount_minor` > 0 raises the account's balance."""

    account_id: str
    amount_minor: int
    currency: str


def assert_balanced(legs: Sequence[Leg]) -> None:
    """Programmer check: two or more non-zero legs summing to zero per currency."""
    assert len(legs) >= 2, "a journal transaction needs two or more postings"
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        assert leg.amount_minor != 0, "a posting moves money"
        totals[leg.currency] += leg.amount_minor
    assert all(total == 0 for total in totals.values()), f"unbalanced postings: {dict(totals)}"


def lock_accounts(account_ids: Iterable[str]) -> dict[str, Account]:
    """Locks the accounts (sorted order) for this DB transaction and returns them."""
    ordered = sorted(set(account_ids))
    text = (
        f'SELECT {sql.column_list(Account)} FROM "accounts"'
        f' WHERE "id" IN ({sql.marks(len(ordered))}) ORDER BY "id"'
    )
    if is_postgres():
        text += " FOR UPDATE"
    return {account.id: account for account in sql.rows(Account, text, ordered)}


def post(
    *,
    balances_after: dict[str, int] | None = None,
    transaction_id: str,
    number: str,
    type_: str,
    status: str,
    currency: str,
    amount_minor: int,
    legs: Sequence[Leg],
    now: datetime,
    description: str = "",
    reference: str = "",
    fee_minor: int = 0,
    details: dict[str, object] | None = None,
    columns: dict[str, object] | None = None,
) -> LedgerTransaction:
    """Writes the transaction, its postings and the balance updates.

    The callers lock the accounts first (`lock_accounts`). `balances_after`,
    when given, receives each touched account's balance after its posting;
    `columns` sets further columns of the transaction row.
    """
    assert_balanced(legs)
    row = create_transaction(
        id=transaction_id,
        number=number,
        type=type_,
        status=status,
        currency=currency,
        amount_minor=amount_minor,
        fee_minor=fee_minor,
        description=description,
        reference=reference,
        details=json.dumps(details or {}, sort_keys=True),
        created_at=now,
        completed_at=now if status == "COMPLETED" else None,
        **(columns or {}),
    )
    balances = post_legs(transaction_id, legs, now)
    if balances_after is not None:
        balances_after.update(balances)
    return row


def post_legs(transaction_id: str, legs: Sequence[Leg], now: datetime) -> dict[str, int]:
    """Writes the postings of an existing transaction and moves the balances.

    Returns each touched account's balance after its posting.
    """
    assert_balanced(legs)
    balances: dict[str, int] = {}
    ordered = sorted(legs, key=lambda item: item.account_id)
    for leg in ordered:
        # updated_at tracks changes to the account itself, not its balance.
        found = sql.execute(
            'UPDATE "accounts" SET "balance_minor" = "balance_minor" + ?'
            ' WHERE "id" = ? RETURNING "balance_minor"',
            (leg.amount_minor, leg.account_id),
        ).fetchall()
        assert len(found) == 1, f"account {leg.account_id} missing"
        balances[leg.account_id] = int(found[0][0])
    sql.insert(
        Posting,
        (
            {
                "transaction": transaction_id,
                "account": leg.account_id,
                "currency": leg.currency,
                "amount_minor": leg.amount_minor,
                "balance_after_minor": balances[leg.account_id],
                "created_at": now,
            }
            for leg in ordered
        ),
    )
    return balances


def create_transaction(**values: object) -> LedgerTransaction:
    """Inserts a journal transaction row; returns it as a model instance."""
    sql.insert(LedgerTransaction, [values])
    return LedgerTransaction(**values)


__all__ = [
    "Leg",
    "assert_balanced",
    "create_transaction",
    "database",
    "lock_accounts",
    "post",
    "post_legs",
]
