"""Reports' sums, computed by the database (GROUP BY), never rows summed here.

Every read of one report runs in one read-only snapshot (`snapshot`), so the
balances, the period's postings and the postings after it agree even while
money moves. The period's postings are found by `postings_created_idx`
(m0028); an account's by `postings_account_created_idx` (m0027).

Scope: `Scope.account_ids` empty means every customer account (of
`currencies`), else exactly those accounts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from server.domain.money import CURRENCY_EXPONENTS
from server.store.bootstrap import internal_account_id
from server.store.db import database, is_postgres
from server.store.models import Account, Posting

_stamp_value: Callable[[Any], Any] = Posting.created_at.db_value


@dataclass(frozen=True, slots=True)
class Scope:
    start: datetime
    end: datetime  # exclusive
    as_of: datetime
    currencies: tuple[str, ...] = ()  # empty: every currency
    account_ids: tuple[str, ...] = ()  # empty: every customer account
    types: tuple[str, ...] = ()  # empty: every type


@dataclass(frozen=True, slots=True)
class Sums:
    """Sums of one group of postings: amounts in minor units, counts."""

    debit_minor: int
    credit_minor: int
    debits: int
    credits: int
    transactions: int


@dataclass(frozen=True, slots=True)
class AccountFacts:
    id: str
    owner_id: str | None
    currency: str
    kind: str


@dataclass(frozen=True, slots=True)
class Extras:
    """Per currency: failed and cancelled counts, holds at as_of, accounts opened/closed."""

    failed: int = 0
    cancelled: int = 0
    holds_count: int = 0
    holds_minor: int = 0
    new_accounts: int = 0
    closed_accounts: int = 0


def _run(text: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    values = [_stamp_value(v) if isinstance(v, datetime) else v for v in params]
    if is_postgres():
        text = text.replace("?", "%s")
    return list(database.execute_sql(text, values).fetchall())


@contextlib.contextmanager
def snapshot() -> Iterator[None]:
    """One consistent, read-only view of the ledger for the block."""
    fresh = not database.in_transaction()
    with database.atomic():
        if fresh and is_postgres():
            # Room to sum a day of a million postings in memory (hash
            # aggregates of a million transactions take ~370 MB: hash tables
            # get 3 x work_mem), and no JIT compilation (it costs more than
            # it saves on these statements).
            database.execute_sql(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;"
                " SET LOCAL work_mem = '128MB'; SET LOCAL hash_mem_multiplier = 3;"
                " SET LOCAL jit = off"
            )
        yield


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _posting_scope(scope: Scope, alias: str = "p") -> tuple[str, list[Any]]:
    """WHERE conditions on postings `alias` (joined to accounts `a` and transactions `t`)."""
    where = [f"{alias}.created_at >= ?", f"{alias}.created_at < ?"]
    params: list[Any] = [scope.start, scope.end]
    where.extend(_account_scope(scope, f"{alias}.account_id", params))
    if scope.currencies:
        where.append(f"{alias}.currency IN ({_marks(len(scope.currencies))})")
        params.extend(scope.currencies)
    if scope.types:
        where.append(f"t.type IN ({_marks(len(scope.types))})")
        params.extend(scope.types)
    return " AND ".join(where), params


def _account_scope(scope: Scope, column: str, params: list[Any]) -> list[str]:
    if scope.account_ids:
        params.extend(scope.account_ids)
        return [f"{column} IN ({_marks(len(scope.account_ids))})"]
    return [f"{column} IN (SELECT id FROM accounts WHERE kind = 'CUSTOMER')"]


def _day(column: str) -> str:
    return f"CAST({column} AS DATE)" if is_postgres() else f"substr({column}, 1, 10)"


def _as_day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _sums(row: Sequence[Any]) -> Sums:
    return Sums(*(int(v or 0) for v in row))


_PER_TRANSACTION = (
    "SUM(CASE WHEN p.amount_minor < 0 THEN -p.amount_minor ELSE 0 END) AS debit_minor,"
    " SUM(CASE WHEN p.amount_minor > 0 THEN p.amount_minor ELSE 0 END) AS credit_minor,"
    " SUM(CASE WHEN p.amount_minor < 0 THEN 1 ELSE 0 END) AS debits,"
    " SUM(CASE WHEN p.amount_minor > 0 THEN 1 ELSE 0 END) AS credits"
)


def _summed(scope: Scope, key: str) -> list[tuple[Any, ...]]:
    """Rows (currency, key, debit_minor, credit_minor, debits, credits, transactions)
    of the period's postings in scope; `key`: "type", "day" or "account".

    Two levels, so that no COUNT(DISTINCT) sorts the period's postings: the
    postings are summed per (currency, key, transaction) first (one hash
    aggregate, no join), then each transaction's sums meet its type (when
    asked for) once, and every group counts as one transaction. A
    transaction has one type, so the figures are exactly those of summing
    the postings by (currency, key) with COUNT(DISTINCT transaction_id).
    """
    where, params = _posting_scope(replace(scope, types=()))
    inner = {"type": "", "day": f", {_day('p.created_at')}", "account": ", p.account_id"}[key]
    outer = {"type": "t.type", "day": "x.k", "account": "x.k"}[key]
    join = " JOIN ledger_transactions t ON t.id = x.transaction_id"
    if key != "type" and not scope.types:
        join = ""
    if scope.types:
        join += f" WHERE t.type IN ({_marks(len(scope.types))})"
        params.extend(scope.types)
    return _run(
        f"SELECT x.currency, {outer}, SUM(x.debit_minor), SUM(x.credit_minor),"
        " SUM(x.debits), SUM(x.credits), COUNT(*)"
        f" FROM (SELECT p.currency{inner + ' AS k' if inner else ''}, p.transaction_id,"
        f" {_PER_TRANSACTION} FROM postings p WHERE {where}"
        f" GROUP BY p.currency{inner}, p.transaction_id) x{join}"
        f" GROUP BY x.currency, {outer}",
        params,
    )


def by_type(scope: Scope) -> dict[tuple[str, str], Sums]:
    """(currency, transaction type) -> sums of the period's postings in scope."""
    return {(str(r[0]), str(r[1])): _sums(r[2:]) for r in _summed(scope, "type")}


def by_day(scope: Scope) -> dict[tuple[str, date], Sums]:
    """(currency, UTC day) -> sums; a transaction counts once per day it posted on."""
    return {(str(r[0]), _as_day(r[1])): _sums(r[2:]) for r in _summed(scope, "day")}


def net_by_day(scope: Scope) -> dict[tuple[str, date], int]:
    """(currency, UTC day) -> net of every posting in scope, whatever its type (balances)."""
    where, params = _posting_scope(replace(scope, types=()))
    day = _day("p.created_at")
    rows = _run(
        f"SELECT p.currency, {day}, SUM(p.amount_minor) FROM postings p"
        f" WHERE {where} GROUP BY p.currency, {day}",
        params,
    )
    return {(str(r[0]), _as_day(r[1])): int(r[2] or 0) for r in rows}


def by_account(scope: Scope) -> dict[str, Sums]:
    """account id -> sums of its postings in the period (an account has one currency)."""
    return {str(r[1]): _sums(r[2:]) for r in _summed(scope, "account")}


def fees(scope: Scope, key: str = "") -> dict[tuple[str, str], int]:
    """(currency, key) -> what fee income received from transactions paid by the scope.

    `key`: "" (none), "DAY", "TYPE" or "ACCOUNT" (the paying account).
    """
    currencies = scope.currencies or tuple(_all_currencies())
    incomes = [internal_account_id("FEE_INCOME", c) for c in currencies]
    params: list[Any] = [*incomes, scope.start, scope.end]
    where = [
        f"p.account_id IN ({_marks(len(incomes))})",
        "p.created_at >= ?",
        "p.created_at < ?",
        *_account_scope(scope, "t.from_account_id", params),
    ]
    if scope.types:
        where.append(f"t.type IN ({_marks(len(scope.types))})")
        params.extend(scope.types)
    column = {
        "": "''",
        "DAY": _day("p.created_at"),
        "TYPE": "t.type",
        "ACCOUNT": "t.from_account_id",
    }[key]
    rows = _run(
        f"SELECT p.currency, {column}, SUM(p.amount_minor) FROM postings p"
        " JOIN ledger_transactions t ON t.id = p.transaction_id"
        f" WHERE {' AND '.join(where)} GROUP BY p.currency{', ' + column if key else ''}",
        params,
    )
    found: dict[tuple[str, str], int] = {}
    for currency, value, amount in rows:
        label = _as_day(value).isoformat() if key == "DAY" else str(value)
        found[(str(currency), label)] = int(amount or 0)
    return found


def _all_currencies() -> list[str]:
    return sorted(CURRENCY_EXPONENTS)


def closing_balances(scope: Scope, per_account: bool = False) -> dict[str, int]:
    """Balances at `scope.end` (or now, for a period not ended): per currency, or
    per account: today's balances less every posting made since."""
    params: list[Any] = []
    where = ["a.kind = 'CUSTOMER'" if not scope.account_ids else "1 = 1"]
    if scope.account_ids:
        where = [f"a.id IN ({_marks(len(scope.account_ids))})"]
        params.extend(scope.account_ids)
    if scope.currencies:
        where.append(f"a.currency IN ({_marks(len(scope.currencies))})")
        params.extend(scope.currencies)
    key = "a.id" if per_account else "a.currency"
    now_rows = _run(
        f"SELECT {key}, SUM(a.balance_minor) FROM accounts a"
        f" WHERE {' AND '.join(where)} GROUP BY {key}",
        params,
    )
    balances = {str(k): int(v or 0) for k, v in now_rows}
    later_params: list[Any] = [scope.end]
    later_where = ["p.created_at >= ?", *_account_scope(scope, "p.account_id", later_params)]
    if scope.currencies:
        later_where.append(f"p.currency IN ({_marks(len(scope.currencies))})")
        later_params.extend(scope.currencies)
    later_key = "p.account_id" if per_account else "p.currency"
    for k, moved in _run(
        f"SELECT {later_key}, SUM(p.amount_minor) FROM postings p"
        f" WHERE {' AND '.join(later_where)} GROUP BY {later_key}",
        later_params,
    ):
        balances[str(k)] = balances.get(str(k), 0) - int(moved or 0)
    return balances


def extras(scope: Scope) -> dict[str, Extras]:
    """Per currency: failed, cancelled, holds outstanding at as_of, accounts opened/closed."""
    found: dict[str, dict[str, int]] = {}

    def put(currency: Any, name: str, value: Any) -> None:
        found.setdefault(str(currency), {})[name] = int(value or 0)

    params: list[Any] = [scope.start, scope.end, scope.start, scope.end]
    own: list[str] = []
    if scope.account_ids:
        marks = _marks(len(scope.account_ids))
        own.append(f"(t.from_account_id IN ({marks}) OR t.to_account_id IN ({marks}))")
        params.extend([*scope.account_ids, *scope.account_ids])
    else:
        customers = "SELECT id FROM accounts WHERE kind = 'CUSTOMER'"
        own.append(f"(t.from_account_id IN ({customers}) OR t.to_account_id IN ({customers}))")
    if scope.types:
        own.append(f"t.type IN ({_marks(len(scope.types))})")
        params.extend(scope.types)
    for currency, status, count in _run(
        "SELECT t.currency, t.status, COUNT(*) FROM ledger_transactions t WHERE"
        " ((t.status = 'FAILED' AND t.created_at >= ? AND t.created_at < ?)"
        " OR (t.status = 'CANCELLED' AND COALESCE(t.cancelled_at, t.created_at) >= ?"
        " AND COALESCE(t.cancelled_at, t.created_at) < ?))"
        f" AND {' AND '.join(own)} GROUP BY t.currency, t.status",
        params,
    ):
        put(currency, "failed" if status == "FAILED" else "cancelled", count)
    hold_params: list[Any] = [scope.as_of, scope.as_of]
    hold_where = _account_scope(scope, "h.account_id", hold_params)
    for currency, count, amount in _run(
        "SELECT h.currency, COUNT(*), SUM(h.amount_minor) FROM holds h"
        " WHERE h.created_at < ? AND (h.resolved_at IS NULL OR h.resolved_at >= ?)"
        f" AND {' AND '.join(hold_where)} GROUP BY h.currency",
        hold_params,
    ):
        put(currency, "holds_count", count)
        put(currency, "holds_minor", amount)
    account_params: list[Any] = [scope.start, scope.end, scope.start, scope.end]
    account_where = ["kind = 'CUSTOMER'"]
    if scope.account_ids:
        account_where.append(f"id IN ({_marks(len(scope.account_ids))})")
        account_params.extend(scope.account_ids)
    for currency, opened, closed in _run(
        "SELECT currency,"
        " SUM(CASE WHEN created_at >= ? AND created_at < ? THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN closed_at >= ? AND closed_at < ? THEN 1 ELSE 0 END)"
        f" FROM accounts WHERE {' AND '.join(account_where)} GROUP BY currency",
        account_params,
    ):
        put(currency, "new_accounts", opened)
        put(currency, "closed_accounts", closed)
    return {currency: Extras(**values) for currency, values in found.items()}


def accounts(ids: Sequence[str]) -> dict[str, AccountFacts]:
    """The customer accounts among `ids` (internal accounts are not reported on)."""
    if not ids:
        return {}
    query: Any = (
        Account.select(Account.id, Account.owner, Account.currency, Account.kind)
        .where(Account.id.in_(list(ids)) & (Account.kind == "CUSTOMER"))
        .tuples()
    )
    rows: list[tuple[Any, ...]] = list(query)
    return {str(r[0]): AccountFacts(str(r[0]), r[1], str(r[2]), str(r[3])) for r in rows}


def currencies_held(account_ids: Sequence[str] = ()) -> list[str]:
    """Currencies of the customer accounts (of `account_ids` when given)."""
    query: Any = Account.select(Account.currency).where(Account.kind == "CUSTOMER").distinct()
    if account_ids:
        query = query.where(Account.id.in_(list(account_ids)))
    rows: list[tuple[Any, ...]] = list(query.tuples())
    return sorted(str(r[0]) for r in rows)
