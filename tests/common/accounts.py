"""Factories for account tests: users, accounts, money, holds and entries.

Accounts are opened through the API (REST). What the API cannot make yet
(users, balances, holds, history entries) is written straight into the
stack's database, the way the server itself writes it: balances only through
balanced journal transactions, so the ledger stays whole for every other
test sharing the stack.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg2
import requests

from server.domain.ids import new_id
from server.run import Stack
from server.store import limit_usage
from server.store.bootstrap import internal_account_id
from tests.common import envelope

OPENING_EQUITY = internal_account_id("OPENING_EQUITY", "USD")
CASH_VAULT = internal_account_id("CASH_VAULT", "USD")


class Db:
    """A direct connection to the stack's database (SQLite file or PostgreSQL).

    `execute` outside `transaction()` commits at once; inside, the block
    commits as a whole or rolls back.
    """

    def __init__(self, stack: Stack) -> None:
        url = stack.settings.database_url
        self.postgres = bool(url)
        self._depth = 0
        self._conn: Any
        if self.postgres:
            self._conn = psycopg2.connect(url)
        else:
            self._conn = sqlite3.connect(
                str(stack.settings.sqlite_path), timeout=30, isolation_level=None
            )
            self._conn.execute("PRAGMA busy_timeout = 30000")

    def close(self) -> None:
        self._conn.close()

    def _value(self, value: Any) -> Any:
        # SQLite stores timestamps as peewee does: `YYYY-MM-DD HH:MM:SS.ffffff`.
        if isinstance(value, datetime) and not self.postgres:
            return str(value)
        return value

    @contextmanager
    def transaction(self) -> Iterator[Db]:
        if self._depth:
            yield self
            return
        self._depth += 1
        try:
            if self.postgres:
                with self._conn:  # commits, or rolls back on error
                    yield self
            else:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
        finally:
            self._depth -= 1

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        values = [self._value(v) for v in params]
        with self.transaction():
            if self.postgres:
                with self._conn.cursor() as cursor:
                    cursor.execute(sql.replace("?", "%s"), values)
                    return cursor.fetchall() if cursor.description else []
            return self._conn.execute(sql, values).fetchall()  # type: ignore[no-any-return]


def server_now(rest: requests.Session) -> datetime:
    """The server's clock (the sandbox clock moves with other tests)."""
    stamp = envelope.success(rest.get("/v1/sandbox/clock"))["clock"]["now"]
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).replace(tzinfo=None)


def make_user(db: Db, *, status: str = "ACTIVE", role: str = "CUSTOMER") -> tuple[str, str]:
    """A new user; returns (id, name)."""
    user_id = new_id("usr")
    name = f"Test Owner {uuid.uuid4().hex[:8]}"
    stamp = datetime.now(UTC).replace(tzinfo=None)
    db.execute(
        "INSERT INTO users (id, email, name, password_hash, role, status, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (user_id, f"{uuid.uuid4().hex}@example.test", name, "x", role, status, stamp, stamp),
    )
    return user_id, name


def open_account(
    rest: requests.Session, owner_id: str, type_: str = "CHECKING", **fields: Any
) -> dict[str, Any]:
    """Opens an account through REST and returns its JSON resource."""
    body = {"type": type_, "ownerId": owner_id, **fields}
    data = envelope.success(rest.post("/v1/accounts", json=body), 201)
    return data["account"]  # type: ignore[no-any-return]


def _ledger_transaction(db: Db, status: str, amount_minor: int, at: datetime) -> str:
    txn_id = new_id("txn")
    db.execute(
        "INSERT INTO ledger_transactions (id, number, type, status, currency, amount_minor,"
        " fee_minor, description, reference, details, created_at, completed_at)"
        " VALUES (?, ?, ?, ?, 'USD', ?, 0, 'account test', '', '{}', ?, ?)",
        (
            txn_id,
            f"TXNTEST{uuid.uuid4().hex[:16]}",
            "ADJUSTMENT",
            status,
            amount_minor,
            at,
            at if status == "COMPLETED" else None,
        ),
    )
    return txn_id


def _post(db: Db, txn_id: str, account_id: str, amount_minor: int, at: datetime) -> None:
    db.execute(
        "UPDATE accounts SET balance_minor = balance_minor + ? WHERE id = ?",
        (amount_minor, account_id),
    )
    balance = db.execute("SELECT balance_minor FROM accounts WHERE id = ?", (account_id,))[0][0]
    db.execute(
        "INSERT INTO postings (transaction_id, account_id, currency, amount_minor,"
        " balance_after_minor, created_at) VALUES (?, ?, 'USD', ?, ?, ?)",
        (txn_id, account_id, amount_minor, balance, at),
    )


def fund(db: Db, account_id: str, amount_minor: int, at: datetime) -> str:
    """Moves money between the account and OPENING_EQUITY (negative: takes it out)."""
    with db.transaction():
        txn_id = _ledger_transaction(db, "COMPLETED", abs(amount_minor), at)
        _post(db, txn_id, account_id, amount_minor, at)
        _post(db, txn_id, OPENING_EQUITY, -amount_minor, at)
    return txn_id


def add_entry(
    db: Db,
    account_id: str,
    *,
    amount_minor: int,
    limit_class: str,
    at: datetime,
    status: str = "COMPLETED",
    direction: str = "DEBIT",
) -> str:
    """A history entry as the movements write it, with its limit usage (its
    transaction has no postings)."""
    with db.transaction():
        txn_id = _ledger_transaction(db, status, amount_minor, at)
        db.execute(
            "INSERT INTO account_entries (account_id, transaction_id, direction, type, status,"
            " limit_class, currency, amount_minor, created_at)"
            " VALUES (?, ?, ?, 'WITHDRAWAL', ?, ?, 'USD', ?, ?)",
            (account_id, txn_id, direction, status, limit_class, amount_minor, at),
        )
        if limit_usage.counts(direction, limit_class, status):
            for period in (limit_usage.day_key(at), limit_usage.month_key(at)):
                db.execute(
                    "INSERT INTO limit_usage (account_id, limit_class, period, used_minor)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (account_id, limit_class, period)"
                    " DO UPDATE SET used_minor = limit_usage.used_minor + excluded.used_minor",
                    (account_id, limit_class, period, amount_minor),
                )
    return txn_id


def add_hold(
    db: Db,
    account_id: str,
    amount_minor: int,
    at: datetime,
    *,
    reason: str = "CHECK_DEPOSIT",
    status: str = "PENDING",
) -> str:
    """A hold; a PENDING one also counts in the account's held amount."""
    hold_id = new_id("hold")
    with db.transaction():
        db.execute(
            "INSERT INTO holds (id, account_id, amount_minor, currency, reason, status,"
            " description, release_at, created_at, resolved_at)"
            " VALUES (?, ?, ?, 'USD', ?, ?, 'Check #1042', ?, ?, ?)",
            (
                hold_id,
                account_id,
                amount_minor,
                reason,
                status,
                at.replace(hour=0, minute=0, second=0, microsecond=0),
                at,
                None if status == "PENDING" else at,
            ),
        )
        if status == "PENDING":
            db.execute(
                "UPDATE accounts SET held_minor = held_minor + ? WHERE id = ?",
                (amount_minor, account_id),
            )
    return hold_id


def release_hold(db: Db, hold_id: str, at: datetime) -> None:
    with db.transaction():
        account_id, amount = db.execute(
            "SELECT account_id, amount_minor FROM holds WHERE id = ?", (hold_id,)
        )[0]
        db.execute(
            "UPDATE holds SET status = 'RELEASED', resolved_at = ? WHERE id = ?", (at, hold_id)
        )
        db.execute(
            "UPDATE accounts SET held_minor = held_minor - ? WHERE id = ?", (amount, account_id)
        )


def set_pending_debits(db: Db, account_id: str, amount_minor: int) -> None:
    db.execute(
        "UPDATE accounts SET pending_debits_minor = ? WHERE id = ?", (amount_minor, account_id)
    )


def outbox_events(db: Db, account_id: str) -> list[tuple[str, str]]:
    """(type, payload) of the account's outbox events, oldest first."""
    rows = db.execute(
        "SELECT type, payload FROM outbox_events WHERE aggregate_id = ? ORDER BY id",
        (account_id,),
    )
    return [(str(kind), str(payload)) for kind, payload in rows]
