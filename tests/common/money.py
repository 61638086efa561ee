"""Factories for money tests: fresh funded accounts, movements, ledger checks."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2

from server.run import Stack
from server.store import sandbox
from server.store.migrations import m0012_limit_usage_counters as m0012
from tests.common import envelope
from tests.conftest import Rest

ALICE = sandbox.user_id("alice")
BOB = sandbox.user_id("bob")
ALICE_CHECKING = sandbox.account_id("alice", "CHECKING")
BOB_CHECKING = sandbox.account_id("bob", "CHECKING")
ALICE_CARD = ("4111111111111111", "1234")
BOB_CARD = ("4000056655665556", "4321")


def open_account(
    rest: Rest,
    *,
    owner: str = ALICE,
    type_: str = "CHECKING",
    funded: float = 0,
    overdraft: float | None = None,
) -> str:
    """A new account of `owner`, funded by a CASH deposit (available at once)."""
    body: dict[str, Any] = {
        "type": type_,
        "currency": "USD",
        "ownerId": owner,
        "nickname": f"test {uuid.uuid4().hex[:6]}",
    }
    if overdraft is not None:
        body["overdraftLimit"] = overdraft
    account_id: str = envelope.success(rest.post("/v1/accounts", json=body), 201)["account"]["id"]
    if funded:
        deposit(rest, account_id, funded)
    return account_id


def deposit(rest: Rest, account_id: str, amount: float, method: str = "CASH") -> dict[str, Any]:
    body = {"accountId": account_id, "amount": amount, "method": method, "location": "Branch A"}
    data = envelope.success(rest.post("/v1/transactions/deposit", json=body), 201)
    return data["transaction"]  # type: ignore[no-any-return]


def transfer(rest: Rest, source: str, target: str, amount: float, **extra: Any) -> Any:
    body = {"fromAccountId": source, "toAccountId": target, "amount": amount, **extra}
    return rest.post("/v1/transactions/transfer", json=body)


def account(rest: Rest, account_id: str) -> dict[str, Any]:
    data = envelope.success(rest.get(f"/v1/accounts/{account_id}"))
    return data["account"]  # type: ignore[no-any-return]


def balance(rest: Rest, account_id: str) -> float:
    return float(account(rest, account_id)["balance"])


@contextmanager
def database(stack: Stack) -> Iterator[Any]:
    """A DB-API connection to the stack's database, for ledger-level checks."""
    if stack.settings.database_url:
        connection = psycopg2.connect(stack.settings.database_url)
    else:
        connection = sqlite3.connect(stack.settings.sqlite_path)
    try:
        yield connection
    finally:
        connection.close()


def query(stack: Stack, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if not stack.settings.database_url:
        sql = sql.replace("%s", "?")
    with database(stack) as connection:
        cursor = connection.cursor()
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def assert_ledger_consistent(stack: Stack) -> None:
    """Every transaction balances; every balance equals the sum of its postings."""
    unbalanced = query(
        stack,
        "SELECT transaction_id, currency, SUM(amount_minor) FROM postings"
        " GROUP BY transaction_id, currency HAVING SUM(amount_minor) <> 0",
    )
    assert unbalanced == []
    drift = query(
        stack,
        "SELECT a.id, a.balance_minor, COALESCE(SUM(p.amount_minor), 0) FROM accounts a"
        " LEFT JOIN postings p ON p.account_id = a.id GROUP BY a.id, a.balance_minor"
        " HAVING a.balance_minor <> COALESCE(SUM(p.amount_minor), 0)",
    )
    assert drift == []
    foreign = query(
        stack,
        "SELECT p.id, p.account_id, p.currency, a.currency FROM postings p"
        " JOIN accounts a ON a.id = p.account_id WHERE p.currency <> a.currency",
    )
    assert foreign == [], "a posting's currency differs from its account's"
    totals = query(stack, "SELECT currency, SUM(balance_minor) FROM accounts GROUP BY currency")
    assert {currency: int(total) for currency, total in totals if int(total) != 0} == {}, (
        "money was created or destroyed"
    )
    assert_limit_usage_consistent(stack)


def assert_limit_usage_consistent(stack: Stack) -> None:
    """The running limit counters (m0012) equal the sums of the debits they count."""
    dialect = "postgres" if stack.settings.database_url else "sqlite"
    expected: dict[tuple[str, str, str], int] = {}
    for sums in m0012.counted_sums(dialect):
        for account_id, limit_class, key, used in query(stack, sums):
            expected[(account_id, limit_class, key)] = int(used)
    counted = {
        (account_id, limit_class, key): int(used)
        for account_id, limit_class, key, used in query(
            stack, "SELECT account_id, limit_class, period, used_minor FROM limit_usage"
        )
        if int(used) != 0
    }
    assert counted == expected
