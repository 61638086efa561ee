"""An account's transaction history: filters, totals, offset and keyset pages.

History reads `account_entries` (one row per account and transaction) through
the index (account_id, created_at, id), so a keyset page costs the same at
any depth. Totals cover every row that matches the filters, not just the page:
the count and both sums come from one pass (on PostgreSQL an index-only scan,
m0011), made once per query: a continuation page is handed the totals its
query's first page counted (`known`) instead of counting again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast

import peewee

from server.store.models import AccountEntry, LedgerTransaction

SORT_COLUMNS: dict[str, peewee.Field] = {
    "date": AccountEntry.created_at,
    "amount": AccountEntry.amount_minor,
}


@dataclass(frozen=True)
class HistoryQuery:
    account_id: str
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    amount_min_minor: int | None = None
    amount_max_minor: int | None = None
    keywords: tuple[str, ...] = ()
    sort: str = "date"
    order: str = "desc"

    def filters(self) -> dict[str, Any]:
        """What a page token is bound to."""
        return {
            "a": self.account_id,
            "t": self.types,
            "s": self.statuses,
            "df": self.date_from,
            "dt": self.date_to,
            "min": self.amount_min_minor,
            "max": self.amount_max_minor,
            "k": self.keywords,
            "o": [self.sort, self.order],
        }


@dataclass(frozen=True)
class Totals:
    """Over every row matching a query: how many, and the money out and in."""

    count: int
    debits_minor: int
    credits_minor: int


@dataclass
class HistoryPage:
    rows: list[tuple[AccountEntry, LedgerTransaction]]
    totals: Totals
    next_key: list[Any] | None = field(default=None)

    @property
    def total(self) -> int:
        return self.totals.count

    @property
    def debits_minor(self) -> int:
        return self.totals.debits_minor

    @property
    def credits_minor(self) -> int:
        return self.totals.credits_minor


def _where(query: HistoryQuery) -> peewee.Expression:
    condition = AccountEntry.account_id == query.account_id
    if query.types:
        condition &= AccountEntry.type.in_(query.types)
    if query.statuses:
        condition &= AccountEntry.status.in_(query.statuses)
    if query.date_from:
        condition &= AccountEntry.created_at >= datetime.combine(query.date_from, time.min)
    if query.date_to:
        end = datetime.combine(query.date_to + timedelta(days=1), time.min)
        condition &= AccountEntry.created_at < end
    if query.amount_min_minor is not None:
        condition &= AccountEntry.amount_minor >= query.amount_min_minor
    if query.amount_max_minor is not None:
        condition &= AccountEntry.amount_minor <= query.amount_max_minor
    if query.keywords:
        matches = [AccountEntry.search_text.contains(word.lower()) for word in query.keywords]
        any_match = matches[0]
        for match in matches[1:]:
            any_match |= match
        condition &= any_match
    return condition


def totals(query: HistoryQuery) -> Totals:
    """Count, debits (with fees) and credits of the rows matching `query`, in one pass.

    FAILED and CANCELLED rows are counted but move no money.
    """
    where = _where(query)
    moved = AccountEntry.status.not_in(["FAILED", "CANCELLED"])
    debit = (AccountEntry.direction == "DEBIT") & moved
    credit = (AccountEntry.direction == "CREDIT") & moved
    row = cast(
        "tuple[int, int | None, int | None]",
        AccountEntry.select(
            peewee.fn.COUNT(peewee.SQL("*")),
            peewee.fn.SUM(
                peewee.Case(None, [(debit, AccountEntry.amount_minor + AccountEntry.fee_minor)], 0)
            ),
            peewee.fn.SUM(peewee.Case(None, [(credit, AccountEntry.amount_minor)], 0)),
        )
        .where(where)
        .tuples()
        .get(),
    )
    return Totals(int(row[0]), int(row[1] or 0), int(row[2] or 0))


def read(
    query: HistoryQuery,
    offset: int,
    limit: int,
    after: list[Any] | None,
    known: Totals | None = None,
) -> HistoryPage:
    """One page; `known`: the totals the query's first page counted (not counted again)."""
    where = _where(query)
    summary = known if known is not None else totals(query)
    column = SORT_COLUMNS[query.sort]
    descending = query.order == "desc"
    page_where = where
    if after is not None:
        key = peewee.Tuple(column, AccountEntry.id)
        bound = peewee.Tuple(_decode_sort_value(query.sort, after[0]), int(after[1]))
        page_where &= key < bound if descending else key > bound
    ordering = [column.desc(), AccountEntry.id.desc()] if descending else [column, AccountEntry.id]
    selected = (
        AccountEntry.select(AccountEntry, LedgerTransaction)
        .join(
            LedgerTransaction, on=(AccountEntry.transaction_id == LedgerTransaction.id), attr="txn"
        )
        .where(page_where)
        .order_by(*ordering)
        .limit(limit + 1)
    )
    if after is None:
        selected = selected.offset(offset)
    entries: list[AccountEntry] = list(selected)
    has_more = len(entries) > limit
    entries = entries[:limit]
    next_key = None
    if has_more and entries:
        last = entries[-1]
        next_key = [_encode_sort_value(getattr(last, column.name)), last.id]
    return HistoryPage(
        rows=[(entry, entry.txn) for entry in entries],  # type: ignore[attr-defined]
        totals=summary,
        next_key=next_key,
    )


def _encode_sort_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode_sort_value(sort: str, value: Any) -> Any:
    return datetime.fromisoformat(value) if sort == "date" else int(value)
