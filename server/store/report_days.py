"""A closed day's bank-wide totals per currency and type, kept once summed (m0029).

`read` gives them back only while the day still holds as many postings as
when they were summed (postings are never changed or deleted, so an equal
count means the same rows); `posting_count` is an index-only count
(postings_created_idx).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from server.store.db import database, is_postgres
from server.store.models import Posting
from server.store.report_rows import Sums

_stamp_value: Callable[[Any], Any] = Posting.created_at.db_value


def _run(text: str, params: list[Any]) -> list[tuple[Any, ...]]:
    values = [_stamp_value(v) if isinstance(v, datetime) else v for v in params]
    if is_postgres():
        text = text.replace("?", "%s")
    cursor = database.execute_sql(text, values)
    return list(cursor.fetchall()) if cursor.description else []


def posting_count(start: datetime, end: datetime) -> int:
    rows = _run(
        "SELECT COUNT(*) FROM postings WHERE created_at >= ? AND created_at < ?", [start, end]
    )
    return int(rows[0][0])


def read(day: date, postings: int) -> dict[tuple[str, str], Sums] | None:
    kept = _run("SELECT postings FROM report_days WHERE day = ?", [day.isoformat()])
    if not kept or int(kept[0][0]) != postings:
        return None
    rows = _run(
        "SELECT currency, type, debit_minor, credit_minor, debits, credits, transactions"
        " FROM report_day_totals WHERE day = ?",
        [day.isoformat()],
    )
    return {(str(r[0]), str(r[1])): Sums(*(int(v) for v in r[2:])) for r in rows}


def save(day: date, postings: int, totals: Mapping[tuple[str, str], Sums], now: datetime) -> None:
    """Keeps the day's totals (in the caller's write transaction), replacing older ones."""
    label = [day.isoformat()]
    _run("DELETE FROM report_day_totals WHERE day = ?", label)
    _run("DELETE FROM report_days WHERE day = ?", label)
    for (currency, kind), s in totals.items():
        _run(
            "INSERT INTO report_day_totals (day, currency, type, debit_minor, credit_minor,"
            " debits, credits, transactions) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                *label,
                currency,
                kind,
                s.debit_minor,
                s.credit_minor,
                s.debits,
                s.credits,
                s.transactions,
            ],
        )
    _run(
        "INSERT INTO report_days (day, postings, made_at) VALUES (?, ?, ?)", [*label, postings, now]
    )
