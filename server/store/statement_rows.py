"""An account's statement read from the ledger: its header and its lines, streamed.

A statement covers whole UTC days, `start` to `end` included. Its lines are
the account's postings of the period in posting order (by id: the order the
account's balance moved in, under its lock), each with the balance after
it, so `check_continuity` holds by construction:

- the period's first and last postings are found by date (the index
  (account_id, created_at, id), m0027), and every posting between them by
  id is a line;
- the opening balance is the balance after the posting just before the
  first line (0 for an account with no earlier posting); the closing
  balance the balance after the last line (the opening one when the period
  has no line).

Lines are one statement, read CHUNK_ROWS at a time: on PostgreSQL through
a server-side cursor (DECLARE ... CURSOR, FETCH FORWARD; psycopg2's plain
cursors would fetch the whole result at once), on SQLite with fetchmany (it
steps through the result as it is read). So any number of lines streams
with the memory of one chunk, and the statement is planned and run once,
whatever the planner thinks of the account (a statement per chunk was
re-planned per chunk: with a freshly loaded account's stale statistics
each chunk read the account's whole period, 200,000 lines took minutes).
A posting written while a statement streams has a higher id than the
period's last line, so it never shows up half-way; `snapshot()` makes
`header` and `lines` read the same instant (the closing balance of a
period ending today then matches its last line). On PostgreSQL `lines`
runs in a transaction (a cursor lives in one): the caller's, else its own.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from server.domain.masking import mask_account_number
from server.domain.statements import StatementHeader, StatementLine
from server.store import clock, sql
from server.store.db import database, is_postgres
from server.store.models import Posting

CHUNK_ROWS = 1000


class _Span(NamedTuple):
    """The period's first and last posting ids (None: no posting in the period)."""

    first_id: int | None
    last_id: int | None


def _stamp(day: date) -> Any:
    return Posting.created_at.db_value(datetime.combine(day, time.min))


def _span(account_id: str, start: date, end: date) -> _Span:
    bounds = (account_id, _stamp(start), _stamp(end + timedelta(days=1)))
    where = 'WHERE "account_id" = ? AND "created_at" >= ? AND "created_at" < ?'
    first = sql.scalar(
        f'SELECT "id" FROM "postings" {where} ORDER BY "created_at", "id" LIMIT 1', bounds
    )
    if first is None:
        return _Span(None, None)
    last = sql.scalar(
        f'SELECT "id" FROM "postings" {where} ORDER BY "created_at" DESC, "id" DESC LIMIT 1',
        bounds,
    )
    return _Span(int(first), int(last))


def _opening(account_id: str, start: date, span: _Span) -> int:
    if span.first_id is not None:
        value = sql.scalar(
            'SELECT "balance_after_minor" FROM "postings" WHERE "account_id" = ? AND "id" < ?'
            ' ORDER BY "id" DESC LIMIT 1',
            (account_id, span.first_id),
        )
    else:
        value = sql.scalar(
            'SELECT "balance_after_minor" FROM "postings" WHERE "account_id" = ?'
            ' AND "created_at" < ? ORDER BY "created_at" DESC, "id" DESC LIMIT 1',
            (account_id, _stamp(start)),
        )
    return int(value or 0)


def header(account_id: str, start: date, end: date) -> StatementHeader:
    """The statement's header; KeyError when there is no such account."""
    found = sql.execute(
        'SELECT a."account_number", a."type", a."currency", a."name", u."name"'
        ' FROM "accounts" a LEFT JOIN "users" u ON u."id" = a."owner_id" WHERE a."id" = ?',
        (account_id,),
    ).fetchone()
    if found is None:
        raise KeyError(account_id)
    number, account_type, currency, account_name, holder = found
    span = _span(account_id, start, end)
    opening = _opening(account_id, start, span)
    closing = opening
    if span.last_id is not None:
        closing = int(
            sql.scalar(
                'SELECT "balance_after_minor" FROM "postings" WHERE "id" = ?', (span.last_id,)
            )
        )
    return StatementHeader(
        account_id=account_id,
        masked_account_number=mask_account_number(number or ""),
        holder_name=holder or account_name or "",
        account_type=account_type,
        currency=currency,
        period_start=start,
        period_end=end,
        opening_balance_minor=opening,
        closing_balance_minor=closing,
        generated_at=clock.now(),
    )


def count(account_id: str, start: date, end: date) -> int:
    """How many lines the period has (an index range count)."""
    span = _span(account_id, start, end)
    if span.first_id is None:
        return 0
    return int(
        sql.scalar(
            'SELECT COUNT(*) FROM "postings" WHERE "account_id" = ? AND "id" >= ? AND "id" <= ?',
            (account_id, span.first_id, span.last_id),
        )
    )


# Each line's history row (for its counterparty) is a subquery of its own,
# by transaction id (one or two rows), checked for the account: `|| ''`
# keeps the account's whole history index out of it. A join let PostgreSQL,
# misjudging a freshly loaded account (stale statistics), filter the
# history by the account and scan all of it per line or per chunk.
_LINES = (
    'SELECT p."id", p."created_at", p."amount_minor", p."balance_after_minor",'
    ' t."id", t."number", t."type", t."description",'
    ' (SELECT e."counterparty" FROM "account_entries" e'
    ' WHERE e."transaction_id" = p."transaction_id"'
    ' AND e."account_id" || \'\' = p."account_id" LIMIT 1)'
    ' FROM "postings" p'
    ' JOIN "ledger_transactions" t ON t."id" = p."transaction_id"'
    ' WHERE p."account_id" = %s AND p."id" >= %s AND p."id" <= %s'
    ' ORDER BY p."id"'
)


def _chunks(values: tuple[str, int, int]) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of _LINES, CHUNK_ROWS at a time."""
    if not is_postgres():
        cursor = database.execute_sql(_LINES.replace("%s", "?"), values)
        while rows := cursor.fetchmany(CHUNK_ROWS):
            yield rows
        return
    name = f"statement_{uuid.uuid4().hex}"
    with database.atomic():  # the caller's transaction, or one of its own
        database.execute_sql(f"DECLARE {name} NO SCROLL CURSOR FOR {_LINES}", values)
        while rows := database.execute_sql(f"FETCH FORWARD {CHUNK_ROWS} FROM {name}").fetchall():
            yield rows
        database.execute_sql(f"CLOSE {name}")


def lines(account_id: str, start: date, end: date) -> Iterator[StatementLine]:
    """The period's lines in posting order, read CHUNK_ROWS at a time."""
    span = _span(account_id, start, end)
    if span.first_id is None or span.last_id is None:
        return
    parse: Callable[[Any], datetime] | None = (
        None if is_postgres() else Posting.created_at.python_value
    )
    for rows in _chunks((account_id, span.first_id, span.last_id)):
        for _, created, amount, balance, txn_id, number, kind, text, other in rows:
            yield StatementLine(
                transaction_id=txn_id,
                reference=number,
                posted_at=parse(created) if parse else created,
                type=kind,
                description=text or "",
                counterparty=other or "",
                amount_minor=int(amount),
                balance_after_minor=int(balance),
            )


@contextlib.contextmanager
def snapshot() -> Iterator[None]:
    """One read-only instant for `header` and `lines` (a read transaction:
    REPEATABLE READ on PostgreSQL; SQLite's WAL keeps the first read's)."""
    with database.atomic():
        if is_postgres():
            database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield
