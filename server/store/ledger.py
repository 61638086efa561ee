"""Writing journal transactions: balanced postings and balances in one go.

Callers run inside `database.atomic()`. Accounts are locked in sorted id
order (so two movements over the same accounts never deadlock) and balances
move through SQL expressions, never read-modify-write in Python: each
posting's balance_after_minor is read back by the INSERT itself, after the
UPDATE that moved it. Every transfer runs these statements, so they are
written out once (server.store.sql) and deferred: on PostgreSQL a movement's
writes travel together with its COMMIT (server.store.db).

Lock order (PostgreSQL), the same on every path, so that no two
transactions ever wait for each other in a cycle:
1. the journal row (`ledger_transactions`) of an existing transaction the
   path moves on: cancel and reversal (`correction_rows.lock_transaction`),
   a refund (its original), and the workers' claims of scheduled transfers,
   external transfers and bill payments, which lock the journal row (`FOR
   UPDATE SKIP LOCKED`), never the kind's own row first;
2. the row that decides the path's own work, when there is one: a refund
   request (after its original), a recurring schedule (its run's movement is
   a new transaction, whose rows nobody else holds yet);
3. the accounts, all at once, in sorted id order (`lock_accounts*`);
4. after the accounts, only writes (the kind's rows: `bill_payments`,
   `external_transfers`, history rows, counters, outbox) and rows taken
   with `SKIP LOCKED`, never waited for: due holds (the holds worker locks
   holds before their accounts), the scheduled transfers an account's
   closing cancels.
`tests/workers/test_lock_order.py` races a cancel against the payments
worker; the fault test fails on any deadlock PostgreSQL logs.

Account locks are FOR NO KEY UPDATE (the strength PostgreSQL's own UPDATE of
a non-key column takes), never FOR UPDATE: an insert elsewhere that
references accounts (a recurring schedule's from and to accounts, a payee,
a card) takes FOR KEY SHARE on each referenced row, one after the other in
the order of its foreign keys, not sorted; FOR UPDATE would make it wait
for a movement holding one account while that movement waits for the other,
a deadlock. FOR NO KEY UPDATE still excludes every other movement (it
conflicts with itself) and lets the key checks pass (migration m0026 moves
`bank_post_transfers` to it; `tests/store/test_account_lock_strength.py`).

The callers' locked rows (`lock_accounts`) are kept current: posting to a
locked account moves the row's balance_minor in memory as the UPDATE moves
it in the database, so the balances a movement reports are the ones it wrote
without reading them back.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from server.domain import limits
from server.store import limit_usage as usage
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


def _lock_text(count: int, numbered: bool) -> str:
    number = ", (SELECT nextval('transaction_numbers'))" if numbered else ""
    text = (
        f'SELECT {sql.column_list(Account)}{number} FROM "accounts"'
        f' WHERE "id" IN ({sql.marks(count)}) ORDER BY "id"'
    )
    return text + " FOR NO KEY UPDATE" if is_postgres() else text


def lock_accounts(account_ids: Iterable[str]) -> dict[str, Account]:
    """Locks the accounts (sorted order) for this DB transaction and returns them."""
    ordered = sorted(set(account_ids))
    return {
        account.id: account
        for account in sql.rows(Account, _lock_text(len(ordered), False), ordered)
    }


def lock_accounts_numbered(account_ids: Iterable[str]) -> tuple[dict[str, Account], int]:
    """`lock_accounts`, and a fresh value of the transaction-number sequence.

    On PostgreSQL the number comes with the lock (one round trip); a value
    taken by a transaction that then rolls back is skipped, as sequences are.
    """
    ordered = sorted(set(account_ids))
    if not is_postgres():
        return lock_accounts(ordered), next_sequence()
    rows = sql.execute(_lock_text(len(ordered), True), ordered).fetchall()
    accounts = sql.instances(Account, rows)
    if not rows:
        return {}, next_sequence()
    return {account.id: account for account in accounts}, int(rows[0][-1])


class LockedAccounts(NamedTuple):
    """What `lock_accounts_with_owners` gives a movement."""

    accounts: dict[str, Account]  # the locked rows, by id
    sequence: int  # a fresh value of the transaction-number sequence
    owners: dict[str, str | None]  # each locked account's owner's name (None: no owner)
    # The `usage_of` account's limit counters read after the lock (None: not
    # asked for, or that account is not locked).
    usage: dict[str, int] | None


def lock_accounts_with_owners(
    account_ids: Iterable[str],
    kind: str,
    *,
    usage_of: str | None = None,
    periods: limits.Periods | None = None,
) -> LockedAccounts:
    """`lock_accounts_numbered` for the accounts of one `kind`, with their owners' names.

    The rows of other kinds and unknown ids are neither returned nor locked.
    With `usage_of` (one of the accounts) and `periods`, also that account's
    limit counters of those periods (`limit_usage`), read once the lock is
    held, so they count every debit committed before it.

    On PostgreSQL one round trip: the lock (FOR NO KEY UPDATE, see the
    module's doc) travels with BEGIN
    and a second statement that reads the locked rows, the owners' names, a
    transaction number and the counters. Two statements because one would
    read the counters in the snapshot it took before waiting for the lock
    (READ COMMITTED re-reads only the locked rows themselves); each statement
    of a message takes its own snapshot.
    """
    assert (usage_of is None) == (periods is None), "usage_of and periods go together"
    ordered = sorted(set(account_ids))
    where = f' WHERE a."id" IN ({sql.marks(len(ordered))}) AND a."kind" = ?'
    params: list[object] = [*ordered, kind]
    postgres = is_postgres()
    extra, extra_params = "", list[object]()
    if postgres:
        sql.defer(f'SELECT 1 FROM "accounts" a{where} ORDER BY a."id" FOR NO KEY UPDATE', params)
        extra = ", (SELECT nextval('transaction_numbers'))"
    if periods is not None:
        counters, counter_params = usage.counters_column('a."id"', periods)
        extra += f', CASE WHEN a."id" = ? THEN {counters} END'
        extra_params = [usage_of, *counter_params]
    rows = sql.execute(
        f'SELECT {sql.column_list(Account, "a")}, u."name"{extra} FROM "accounts" a'
        f' LEFT JOIN "users" u ON u."id" = a."owner_id"{where} ORDER BY a."id"',
        (*extra_params, *params),
    ).fetchall()
    width = len(Account._meta.sorted_fields)
    locked = {account.id: account for account in sql.instances(Account, rows)}
    row_of = dict(zip(locked, rows, strict=True))
    owners = {account_id: row[width] for account_id, row in row_of.items()}
    # On SQLite, BEGIN IMMEDIATE has locked the whole database already.
    sequence = int(rows[0][width + 1]) if rows and postgres else next_sequence()
    counted = None
    if periods is not None and usage_of in row_of:
        counted = usage.counters_from(row_of[usage_of][-1], periods)
    return LockedAccounts(locked, sequence, owners, counted)


def next_sequence() -> int:
    """A fresh value of the transaction-number sequence; never serialises writers."""
    if is_postgres():
        return int(sql.scalar("SELECT nextval('transaction_numbers')"))
    return int(database.execute_sql("INSERT INTO transaction_numbers DEFAULT VALUES").lastrowid)


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
    locked: Mapping[str, Account] | None = None,
) -> LedgerTransaction:
    """Writes the transaction, its postings and the balance updates.

    The callers lock the accounts first (`lock_accounts`) and pass the
    locked rows as `locked`. `balances_after`, when given, receives each
    locked account's balance after its posting; `columns` sets further
    columns of the transaction row.
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
    balances = post_legs(transaction_id, legs, now, locked or {})
    if balances_after is not None:
        balances_after.update(balances)
    return row


def _postings_text(count: int) -> str:
    row = '(?, ?, ?, ?, (SELECT "balance_minor" FROM "accounts" WHERE "id" = ?), ?)'
    return (
        'INSERT INTO "postings" ("transaction_id", "account_id", "currency", "amount_minor",'
        ' "balance_after_minor", "created_at") VALUES ' + ", ".join([row] * count)
    )


_MOVE_BALANCE = 'UPDATE "accounts" SET "balance_minor" = "balance_minor" + ? WHERE "id" = ?'


def post_legs(
    transaction_id: str, legs: Sequence[Leg], now: datetime, locked: Mapping[str, Account]
) -> dict[str, int]:
    """Writes the postings of an existing transaction and moves the balances.

    Returns the balance after its posting of each leg's account that is in
    `locked` (the rows `lock_accounts` gave this transaction), and moves
    those rows' balance_minor with it. Accounts not in `locked` (the bank's
    own: clearing, fee income) are moved without being read.
    """
    assert_balanced(legs)
    # One leg per account: each posting reads its account's balance after the
    # UPDATEs, which is its own balance-after only if no other leg moves it.
    assert len({leg.account_id for leg in legs}) == len(legs), "one leg per account"
    balances: dict[str, int] = {}
    ordered = sorted(legs, key=lambda item: item.account_id)
    for leg in ordered:
        sql.defer(_MOVE_BALANCE, (leg.amount_minor, leg.account_id))
        account = locked.get(leg.account_id)
        if account is not None:
            account.balance_minor += leg.amount_minor
            balances[leg.account_id] = account.balance_minor
    stamp = Posting.created_at.db_value(now)
    params: list[object] = []
    for leg in ordered:
        params += [
            transaction_id,
            leg.account_id,
            leg.currency,
            leg.amount_minor,
            leg.account_id,
            stamp,
        ]
    sql.defer(_postings_text(len(ordered)), params)
    return balances


def create_transaction(**values: object) -> LedgerTransaction:
    """Inserts a journal transaction row; returns it as a model instance."""
    sql.insert(LedgerTransaction, [values], deferred=True)
    return LedgerTransaction(**values)


__all__ = [
    "Leg",
    "LockedAccounts",
    "assert_balanced",
    "create_transaction",
    "database",
    "lock_accounts",
    "lock_accounts_numbered",
    "lock_accounts_with_owners",
    "next_sequence",
    "post",
    "post_legs",
]
