"""Stored monthly statements (m0030): making one, reading them back.

A statement's figures are read by the rules of the reads its PDF is
written from (`statement_rows.header` and `lines`), so the stored opening
and closing balances are the ones every download prints
(tests/workers/test_statements.py compares them). Its id is derived from
(account, month), and the insert ignores a row already there: two
processes closing the same month make one statement with one id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import peewee

from server.domain import statement_months as rules
from server.domain.ids import stable_id
from server.domain.masking import mask_account_number
from server.store import statement_rows
from server.store.db import database, is_postgres
from server.store.models import Account, BaseModel, Posting


class AccountStatementRow(BaseModel):
    id = peewee.TextField(primary_key=True)
    account_id = peewee.TextField()
    period = peewee.TextField()  # YYYY-MM
    period_start = peewee.DateField()
    period_end = peewee.DateField()
    currency = peewee.TextField()
    opening_balance_minor = peewee.BigIntegerField()
    closing_balance_minor = peewee.BigIntegerField()
    credit_count = peewee.IntegerField()
    credit_total_minor = peewee.BigIntegerField()
    debit_count = peewee.IntegerField()
    debit_total_minor = peewee.BigIntegerField()
    created_at = peewee.DateTimeField()

    class Meta:
        table_name = "account_statements"


def statement_id(account_id: str, month: rules.Month) -> str:
    return stable_id("stm", f"statement:{account_id}:{month.label}")


# --- making -----------------------------------------------------------------------------


# The figures of many accounts' statements of one month in one statement,
# by the same rules as `statement_rows.header` and `lines`: the period's
# first and last postings by (created_at, id); the opening balance is the
# balance after the posting before the first (by id), or without one, after
# the last posting before the period; the closing balance after the last;
# the lines are the postings from the first to the last by id.
_BATCH_FIGURES = """
WITH span AS (
  SELECT a.id AS account_id, a.currency AS currency,
    (SELECT p.id FROM postings p WHERE p.account_id = a.id
      AND p.created_at >= ? AND p.created_at < ? ORDER BY p.created_at, p.id LIMIT 1) AS first_id,
    (SELECT p.id FROM postings p WHERE p.account_id = a.id
      AND p.created_at >= ? AND p.created_at < ?
      ORDER BY p.created_at DESC, p.id DESC LIMIT 1) AS last_id
  FROM accounts a WHERE a.id IN ({marks})
)
SELECT s.account_id, s.currency,
  COALESCE(CASE WHEN s.first_id IS NULL THEN
      (SELECT p.balance_after_minor FROM postings p WHERE p.account_id = s.account_id
        AND p.created_at < ? ORDER BY p.created_at DESC, p.id DESC LIMIT 1)
    ELSE
      (SELECT p.balance_after_minor FROM postings p WHERE p.account_id = s.account_id
        AND p.id < s.first_id ORDER BY p.id DESC LIMIT 1)
    END, 0),
  (SELECT p.balance_after_minor FROM postings p WHERE p.id = s.last_id),
  (SELECT COUNT(*) FROM postings p WHERE p.account_id = s.account_id
    AND p.id >= s.first_id AND p.id <= s.last_id AND p.amount_minor > 0),
  (SELECT COALESCE(SUM(p.amount_minor), 0) FROM postings p WHERE p.account_id = s.account_id
    AND p.id >= s.first_id AND p.id <= s.last_id AND p.amount_minor > 0),
  (SELECT COUNT(*) FROM postings p WHERE p.account_id = s.account_id
    AND p.id >= s.first_id AND p.id <= s.last_id AND p.amount_minor < 0),
  (SELECT COALESCE(-SUM(p.amount_minor), 0) FROM postings p WHERE p.account_id = s.account_id
    AND p.id >= s.first_id AND p.id <= s.last_id AND p.amount_minor < 0)
FROM span s
"""


def make_many(account_ids: list[str], month: rules.Month, now: datetime) -> tuple[int, list[str]]:
    """Makes the statements of `month` of many accounts at once (the sweeper's
    batches): (how many this call wrote, the accounts whose postings do not
    add up, left without one: a ledger fault)."""
    if not account_ids:
        return 0, []
    start = Posting.created_at.db_value(datetime.combine(month.start, datetime.min.time()))
    end = Posting.created_at.db_value(datetime.combine(month.next().start, datetime.min.time()))
    text = _BATCH_FIGURES.format(marks=", ".join("?" * len(account_ids)))
    if is_postgres():
        text = text.replace("?", "%s")
    params = [start, end, start, end, *account_ids, start]
    values, broken = [], []
    for (
        account_id,
        currency,
        opening,
        closing,
        credits,
        credit_total,
        debits,
        debit_total,
    ) in database.execute_sql(text, params).fetchall():
        closing_minor = int(opening if closing is None else closing)
        if int(opening) + int(credit_total) - int(debit_total) != closing_minor:
            broken.append(account_id)
            continue
        values.append(
            {
                "id": statement_id(account_id, month),
                "account_id": account_id,
                "period": month.label,
                "period_start": month.start,
                "period_end": month.end,
                "currency": currency,
                "opening_balance_minor": int(opening),
                "closing_balance_minor": closing_minor,
                "credit_count": int(credits),
                "credit_total_minor": int(credit_total),
                "debit_count": int(debits),
                "debit_total_minor": int(debit_total),
                "created_at": now,
            }
        )
    if not values:
        return 0, broken
    cursor = database.execute(AccountStatementRow.insert_many(values).on_conflict_ignore())
    return max(int(cursor.rowcount), 0), broken


def _open_during(month: rules.Month) -> Any:
    start = datetime.combine(month.start, datetime.min.time())
    end = datetime.combine(month.next().start, datetime.min.time())
    return (
        (Account.kind == "CUSTOMER")
        & (Account.created_at < end)
        & (Account.closed_at.is_null() | (Account.closed_at >= start))
    )


def accounts_missing(month: rules.Month, limit: int, after: str = "") -> list[str]:
    """Customer accounts open during `month` that have no statement of it yet,
    by id, from after `after` (a keyset: each batch resumes where the last
    ended instead of skipping again the accounts already done)."""
    made = AccountStatementRow.select(AccountStatementRow.id).where(
        (AccountStatementRow.account_id == Account.id) & (AccountStatementRow.period == month.label)
    )
    query = (
        Account.select(Account.id)
        .where(_open_during(month) & (Account.id > after) & ~peewee.fn.EXISTS(made))
        .order_by(Account.id)
        .limit(limit)
    )
    rows: list[tuple[Any, ...]] = list(query.tuples())  # type: ignore[arg-type]
    return [str(row[0]) for row in rows]


def first_month() -> rules.Month | None:
    """The month the oldest customer account was opened in."""
    oldest = (
        Account.select(peewee.fn.MIN(Account.created_at)).where(Account.kind == "CUSTOMER").scalar()
    )
    return None if oldest is None else rules.Month.of(_as_datetime(oldest))


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def periods_of(account_id: str) -> set[str]:
    query = AccountStatementRow.select(AccountStatementRow.period).where(
        AccountStatementRow.account_id == account_id
    )
    rows: list[tuple[Any, ...]] = list(query.tuples())  # type: ignore[arg-type]
    return {str(row[0]) for row in rows}


# --- reading ----------------------------------------------------------------------------


def _with_account() -> Any:
    return AccountStatementRow.select(
        AccountStatementRow, Account.owner.alias("holder_id"), Account.account_number
    ).join(Account, on=(AccountStatementRow.account_id == Account.id))


def get(statement_id: str) -> rules.StatementRecord | None:
    row = _with_account().where(AccountStatementRow.id == statement_id).objects().first()
    return None if row is None else _record(row)


def list_for_account(
    account_id: str, offset: int, limit: int, after_period: str | None
) -> tuple[list[rules.StatementRecord], int, bool]:
    """A page of the account's statements, newest period first: (items,
    total, has_next)."""
    base = AccountStatementRow.account_id == account_id
    total = AccountStatementRow.select().where(base).count()
    query = _with_account().where(base)
    if after_period is not None:
        query = query.where(AccountStatementRow.period < after_period)
    else:
        query = query.offset(offset)
    rows = list(query.order_by(AccountStatementRow.period.desc()).limit(limit + 1).objects())
    return [_record(row) for row in rows[:limit]], total, len(rows) > limit


def _record(row: Any) -> rules.StatementRecord:
    return rules.StatementRecord(
        id=row.id,
        account_id=row.account_id,
        owner_id=row.holder_id,
        account_number=mask_account_number(row.account_number or ""),
        period=row.period,
        period_start=_as_date(row.period_start),
        period_end=_as_date(row.period_end),
        currency=row.currency,
        figures=rules.Figures(
            opening_balance_minor=row.opening_balance_minor,
            closing_balance_minor=row.closing_balance_minor,
            credit_count=row.credit_count,
            credit_total_minor=row.credit_total_minor,
            debit_count=row.debit_count,
            debit_total_minor=row.debit_total_minor,
        ),
        created_at=row.created_at,
    )


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def pdf_parts(record: rules.StatementRecord) -> tuple[Any, Iterable[Any]]:
    """The statement's header and lines as the ledger gives them now (read
    while the PDF is written; the caller holds `statement_rows.snapshot`)."""
    head = statement_rows.header(record.account_id, record.period_start, record.period_end)
    return head, statement_rows.lines(record.account_id, record.period_start, record.period_end)
