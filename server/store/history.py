"""An account's transaction history: filters, totals, offset and keyset pages.

History reads `account_entries` (one row per account and transaction) through
the index (account_id, created_at, id), so a keyset page costs the same at
any depth. Totals cover every row that matches the filters, not just the page:
the count and both sums come from one pass (on PostgreSQL an index-only scan,
m0011), made once per query: a continuation page is handed the totals its
query's first page counted (`known`) instead of counting again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from server.store import sql, text_match
from server.store.models import AccountEntry

# sort name -> account_entries column
SORT_COLUMNS: dict[str, str] = {"date": "created_at", "amount": "amount_minor"}


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


class HistoryRow(NamedTuple):
    """One history line: the account's entry and its transaction's columns."""

    entry_id: int
    created_at: datetime  # the entry's (the sort key of the date order)
    amount_minor: int
    fee_minor: int
    direction: str
    account_id: str
    currency: str
    counterparty: str
    balance_after_minor: int | None
    transaction_id: str
    number: str
    type: str
    status: str
    description: str
    reference: str
    details: str
    transaction_created_at: datetime
    completed_at: datetime | None


# Selected in HistoryRow's order.
_ROW_COLUMNS = (
    'e."id", e."created_at", e."amount_minor", e."fee_minor", e."direction", e."account_id",'
    ' e."currency", e."counterparty", e."balance_after_minor", t."id", t."number", t."type",'
    ' t."status", t."description", t."reference", t."details", t."created_at",'
    ' t."completed_at"'
)
_ENTRY_CREATED = HistoryRow._fields.index("created_at")
_TXN_CREATED = HistoryRow._fields.index("transaction_created_at")
_COMPLETED = HistoryRow._fields.index("completed_at")


@dataclass
class HistoryPage:
    rows: list[HistoryRow]
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


def _where(query: HistoryQuery) -> tuple[str, list[Any]]:
    """The WHERE text (`?` placeholders) and its values; one text per filter shape."""
    parts = ['e."account_id" = ?']
    params: list[Any] = [query.account_id]
    if query.types:
        parts.append(f'e."type" IN ({sql.marks(len(query.types))})')
        params.extend(query.types)
    if query.statuses:
        parts.append(f'e."status" IN ({sql.marks(len(query.statuses))})')
        params.extend(query.statuses)
    if query.date_from:
        parts.append('e."created_at" >= ?')
        params.append(_stamp(datetime.combine(query.date_from, time.min)))
    if query.date_to:
        parts.append('e."created_at" < ?')
        params.append(_stamp(datetime.combine(query.date_to + timedelta(days=1), time.min)))
    if query.amount_min_minor is not None:
        parts.append('e."amount_minor" >= ?')
        params.append(query.amount_min_minor)
    if query.amount_max_minor is not None:
        parts.append('e."amount_minor" <= ?')
        params.append(query.amount_max_minor)
    if query.keywords:
        # search_text is stored lower-cased; a keyword matches as a plain
        # substring (LIKE's own wildcards in it are escaped).
        matches = " OR ".join(["e.\"search_text\" LIKE ? ESCAPE '\\'"] * len(query.keywords))
        parts.append(f"({matches})")
        params.extend(f"%{text_match.escape_like(word.lower())}%" for word in query.keywords)
    return " AND ".join(parts), params


def _stamp(moment: datetime) -> Any:
    return AccountEntry.created_at.db_value(moment)


def totals(query: HistoryQuery) -> Totals:
    """Count, debits (with fees) and credits of the rows matching `query`, in one pass.

    FAILED and CANCELLED rows are counted but move no money.
    """
    where, params = _where(query)
    moved = """e."status" NOT IN ('FAILED', 'CANCELLED')"""
    row = sql.execute(
        "SELECT COUNT(*),"
        f""" SUM(CASE WHEN e."direction" = 'DEBIT' AND {moved}"""
        ' THEN e."amount_minor" + e."fee_minor" ELSE 0 END),'
        f""" SUM(CASE WHEN e."direction" = 'CREDIT' AND {moved}"""
        ' THEN e."amount_minor" ELSE 0 END)'
        f' FROM "account_entries" e WHERE {where}',
        params,
    ).fetchone()
    return Totals(int(row[0]), int(row[1] or 0), int(row[2] or 0))


def read(
    query: HistoryQuery,
    offset: int,
    limit: int,
    after: list[Any] | None,
    known: Totals | None = None,
) -> HistoryPage:
    """One page; `known`: the totals the query's first page counted (not counted again)."""
    where, params = _where(query)
    summary = known if known is not None else totals(query)
    column = SORT_COLUMNS[query.sort]
    descending = query.order == "desc"
    if after is not None:
        where += f' AND (e."{column}", e."id") {"<" if descending else ">"} (?, ?)'
        params.extend([_decode_sort_value(query.sort, after[0]), int(after[1])])
    direction = "DESC" if descending else "ASC"
    text = (
        f"SELECT {_ROW_COLUMNS}"
        ' FROM "account_entries" e'
        ' JOIN "ledger_transactions" t ON t."id" = e."transaction_id"'
        f' WHERE {where} ORDER BY e."{column}" {direction}, e."id" {direction} LIMIT ?'
    )
    params.append(limit + 1)
    if after is None:
        text += " OFFSET ?"
        params.append(offset)
    found = [_row(values) for values in sql.execute(text, params).fetchall()]
    has_more = len(found) > limit
    found = found[:limit]
    next_key = None
    if has_more and found:
        last = found[-1]
        sort_value = last.created_at if query.sort == "date" else last.amount_minor
        next_key = [_encode_sort_value(sort_value), last.entry_id]
    return HistoryPage(rows=found, totals=summary, next_key=next_key)


_read_time: Callable[[Any], Any] = AccountEntry.created_at.python_value


def _row(values: tuple[Any, ...]) -> HistoryRow:
    """A HistoryRow from the driver's values (SQLite gives times as text)."""
    if isinstance(values[_ENTRY_CREATED], str):
        listed = list(values)
        for index in (_ENTRY_CREATED, _TXN_CREATED, _COMPLETED):
            listed[index] = _read_time(listed[index])
        values = tuple(listed)
    return HistoryRow._make(values)


def _encode_sort_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode_sort_value(sort: str, value: Any) -> Any:
    return _stamp(datetime.fromisoformat(value)) if sort == "date" else int(value)
