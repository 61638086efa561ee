"""`EXPLAIN (ANALYZE, BUFFERS)` of the history reads, with the server's own SQL.

The statements are not copied here: the harness calls the server's
`server.store.history.read` against the bench database and captures the SQL
it issues (totals, page), then explains each one as the server runs it, a
prepared statement, under both plans PostgreSQL may choose for it: the
custom plan of these values (the first executions on a connection) and the
generic plan (what it may settle on after five). A sequential scan anywhere
fails the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg2

from server.store import db as store_db
from server.store import history, sql
from tests.bench.dataset import BenchFailure

_INDEX_RE = re.compile(
    r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)"
)
_TIME_RE = re.compile(r"Execution Time: ([0-9.]+) ms")


@dataclass
class Plan:
    case: str
    statement: str  # which of history.read's statements
    indexes: list[str]
    execution_ms: float
    seq_scan: bool
    text: str


def _kind(sql: str) -> str:
    if "SUM(" in sql.upper():
        return "totals"
    if "COUNT(" in sql.upper():
        return "count"
    return "page"


def _captured(url: str, query: history.HistoryQuery, after: list[Any] | None) -> list[Any]:
    """The (sql, params) that history.read runs for `query`."""
    database = store_db.open_database(url, Path("/nonexistent"), pool_size=1)
    store_db.bind(database)
    statements: list[Any] = []
    original = sql.execute

    def capture(text: str, params: Any = ()) -> Any:
        statements.append((text, tuple(params)))
        return original(text, params)

    sql.execute = capture  # type: ignore[assignment]
    try:
        with database.connection_context():
            history.read(query, 0, 100, after)
    finally:
        sql.execute = original  # type: ignore[assignment]
        database.close_all()
    return statements


def _explain(connection: Any, statement: str, params: tuple[Any, ...], mode: str) -> str:
    """EXPLAIN ANALYZE of `statement` run as a prepared statement under `mode`'s plan."""
    numbered, _ = sql._numbered(statement)
    with connection.cursor() as cursor:
        cursor.execute(f"SET plan_cache_mode = force_{mode}_plan")
        cursor.execute(f"PREPARE bench_explained AS {numbered}")
        try:
            marks = ", ".join(["%s"] * len(params))
            cursor.execute(
                f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_explained ({marks})"
                if params
                else "EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_explained",
                params,
            )
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE bench_explained")
            cursor.execute("RESET plan_cache_mode")


def explain_history(
    url: str, deep_account_id: str, typical_account_id: str, history_end: date
) -> list[Plan]:
    """Plans of a deep keyset page, a filtered first page and a keyword search."""
    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM account_entries WHERE account_id = %s", (deep_account_id,)
            )
            depth = int(cursor.fetchone()[0])
            # The key of a row 90% of the way down the newest-first history.
            cursor.execute(
                "SELECT created_at, id FROM account_entries WHERE account_id = %s"
                " ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
                (deep_account_id, depth * 9 // 10),
            )
            created_at, entry_id = cursor.fetchone()
        cases = [
            (
                f"deep keyset page (row {depth * 9 // 10:,} of {depth:,})",
                history.HistoryQuery(account_id=deep_account_id),
                [created_at.isoformat(), entry_id],
            ),
            (
                "typical account, TRANSFER in a date range, by amount",
                history.HistoryQuery(
                    account_id=typical_account_id,
                    types=("TRANSFER",),
                    date_from=history_end - timedelta(days=90),
                    date_to=history_end,
                    sort="amount",
                ),
                None,
            ),
            (
                "typical account, keyword search",
                history.HistoryQuery(account_id=typical_account_id, keywords=("rent",)),
                None,
            ),
        ]
        plans = []
        for case, query, after in cases:
            for statement, params in _captured(url, query, after):
                for mode in ("custom", "generic"):
                    text = _explain(connection, statement, params, mode)
                    match = _TIME_RE.search(text)
                    plans.append(
                        Plan(
                            case=case,
                            statement=f"{_kind(statement)}, {mode} plan",
                            indexes=sorted(set(_INDEX_RE.findall(text))),
                            execution_ms=float(match.group(1)) if match else -1.0,
                            seq_scan="Seq Scan" in text,
                            text=text,
                        )
                    )
    finally:
        connection.close()
    scans = [plan for plan in plans if plan.seq_scan]
    if scans:
        raise BenchFailure(
            "history query plan uses a Seq Scan:\n" + "\n\n".join(p.text for p in scans)
        )
    return plans
