"""The bench databases and their data, loaded with SQL (not through the API).

`make bench` needs 10,000 funded accounts and a million history transactions
in a minute or two, so they are written with `COPY` and set-based
`INSERT ... SELECT generate_series` into the schema the server's own
migrations made (`python -m server setup` runs first). The rows are what the
server itself would have written:

- every history movement is a COMPLETED ledger transaction whose postings sum
  to zero (TRANSFER between two customer accounts; DEPOSIT and WITHDRAWAL
  against the cash vault; each account's opening ADJUSTMENT against
  OPENING_EQUITY, as the sandbox funds its accounts);
- `postings.balance_after_minor` is the running balance in posting order, and
  each account's `balance_minor` ends as the sum of its postings;
- each customer posting has its `account_entries` row (direction, amount,
  balance after, counterparty, search text) for the history reads.

The load skips the per-row triggers (PostgreSQL's foreign-key checks and the
deferred zero-sum trigger) and rebuilds the plain indexes afterwards, for
speed; `verify` then checks every one of those invariants over the whole
database with set queries, and the harness runs it again after the benchmark,
when the server's own writes are in.

History is dated in the two years before the current month, so it counts
against no daily or monthly limit of the transfers the benchmark makes.
"""

from __future__ import annotations

import io
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg2
import psycopg2.extensions

from server.api import paging
from server.domain import limits
from server.domain.ids import stable_id
from server.domain.passwords import hash_secret
from server.keys import key_file
from server.store import history
from server.store.bootstrap import internal_account_id

LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEEP_N = 1  # the account a tenth of the history touches: deep keyset pages
HOT_N = 2  # the account every "hot account" transfer debits
OPENING_MINOR = 100_000_000  # 1,000,000.00 per account
DEEP_OPENING_MINOR = 10_000_000_000  # the deep account moves 100x more money
HISTORY_YEARS_DAYS = 730
# The hot account's transfer limits, raised as staff may (UpdateAccountLimits,
# at most 10,000,000.00), so that a long run never meets its daily limit.
HOT_LIMITS = json.dumps(
    {limits.DAILY_TRANSFER: 1_000_000_000, limits.MONTHLY_TRANSFER: 1_000_000_000},
    separators=(",", ":"),
)
TRANSFER_DESCRIPTIONS = (
    "Rent payment",
    "Groceries",
    "Salary",
    "Invoice settlement",
    "Utilities",
    "Dinner split",
    "Refund",
    "Gym membership",
    "Insurance premium",
    "Savings top-up",
)
BIG_TABLES = ("ledger_transactions", "postings", "account_entries")


class BenchFailure(RuntimeError):
    """The run cannot be trusted (broken invariant, seq scan, failed step)."""


def account_id(n: int) -> str:
    return stable_id("acc", f"bench:account:{n}")


def user_id(n: int) -> str:
    return stable_id("usr", f"bench:user:{n}")


def holder(n: int) -> str:
    return f"Bench Customer {n:05d}"


# --- databases -----------------------------------------------------------------


def _check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if host not in LOOPBACK:
        raise BenchFailure(f"the bench only talks to a local PostgreSQL, not {host!r}")


@contextmanager
def scratch_databases(admin_url: str, *, keep: bool) -> Iterator[tuple[str, str]]:
    """Two fresh databases, `bo_bench_<random>` and `..._pgbench`; dropped after."""
    _check_loopback(admin_url)
    name = f"bo_bench_{uuid.uuid4().hex[:10]}"
    names = (name, f"{name}_pgbench")
    admin = psycopg2.connect(admin_url, connect_timeout=5)
    admin.autocommit = True
    base = admin_url.rsplit("/", 1)[0]
    try:
        with admin.cursor() as cursor:
            for db in names:
                cursor.execute(f'CREATE DATABASE "{db}"')
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        if keep:
            print(f"BENCH_KEEP_DB=1: kept databases {', '.join(names)}", flush=True)
        else:
            with admin.cursor() as cursor:
                for db in names:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


# --- loading -------------------------------------------------------------------


@dataclass
class Dataset:
    """What the workloads need to know about the loaded data."""

    account_ids: list[str]
    deep_account_id: str
    hot_account_id: str
    history_start: datetime
    history_end: datetime
    history_transactions: int
    timings: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - started, 2)
        print(f"  {name:<28} {self.timings[name]:7.1f} s", flush=True)


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def load(url: str, *, accounts: int, history: int, deep_share: float, seed: int) -> Dataset:
    """Writes the bench customers, their opening balances and the history."""
    _check_loopback(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    history_end = month_start - timedelta(hours=1)
    history_start = history_end - timedelta(days=HISTORY_YEARS_DAYS)
    step = (history_end - history_start) / history
    timer = _Timer()
    connection = psycopg2.connect(url)
    try:
        with connection, connection.cursor() as cursor:
            # Session settings of this loading connection only (the server's and
            # pgbench's sessions keep the database's configuration).
            cursor.execute("SET session_replication_role = replica")  # no per-row triggers
            cursor.execute("SET work_mem = '256MB'")
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("SELECT setseed(%s)", (seed % 1000 / 1000,))
            with timer.step("customers and accounts"):
                _customers(cursor, accounts, history_start - timedelta(days=2))
            with timer.step("plan (generate_series)"):
                _plan(
                    cursor,
                    accounts=accounts,
                    history=history,
                    deep_share=deep_share,
                    start=history_start,
                    step=step,
                )
            with timer.step("running balances"):
                _legs(cursor)
            indexes = _drop_plain_indexes(cursor)
            with timer.step("ledger_transactions"):
                cursor.execute(_INSERT_TRANSACTIONS)
            with timer.step("postings"):
                cursor.execute(_INSERT_POSTINGS)
            with timer.step("account_entries"):
                cursor.execute(_INSERT_ENTRIES)
            with timer.step("balances"):
                cursor.execute(_UPDATE_BALANCES)
                # Numbers the server makes from now on stay above the loaded ones.
                cursor.execute(
                    "SELECT setval('transaction_numbers', %s)", (history + accounts + 2_000,)
                )
            with timer.step("indexes"):
                for definition in indexes:
                    cursor.execute(definition)
        connection.autocommit = True
        with connection.cursor() as cursor, timer.step("vacuum analyze"):
            for table in ("users", "accounts", *BIG_TABLES):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        connection.close()
    ids = [account_id(n) for n in range(1, accounts + 1)]
    return Dataset(
        account_ids=ids,
        deep_account_id=account_id(DEEP_N),
        hot_account_id=account_id(HOT_N),
        history_start=history_start,
        history_end=history_end,
        history_transactions=history,
        timings=timer.timings,
    )


def _customers(cursor: Any, accounts: int, created: datetime) -> None:
    # One real (argon2) hash for all: nobody logs in as these customers.
    password_hash = hash_secret(secrets.token_urlsafe(16))
    _copy(
        cursor,
        "users",
        ("id", "email", "name", "password_hash", "role", "status", "created_at", "updated_at"),
        [
            (
                user_id(n),
                f"bench-{n:05d}@example.com",
                holder(n),
                password_hash,
                "CUSTOMER",
                "ACTIVE",
                created,
                created,
            )
            for n in range(1, accounts + 1)
        ],
    )
    _copy(
        cursor,
        "accounts",
        (
            "id",
            "account_number",
            "kind",
            "type",
            "currency",
            "owner_id",
            "name",
            "status",
            "balance_minor",
            "limit_overrides",
            "created_at",
            "updated_at",
        ),
        [
            (
                account_id(n),
                f"2{n:09d}",
                "CUSTOMER",
                "BUSINESS" if n in (DEEP_N, HOT_N) else "CHECKING",
                "USD",
                user_id(n),
                f"Bench account {n:05d}",
                "ACTIVE",
                0,
                HOT_LIMITS if n == HOT_N else "{}",
                created,
                created,
            )
            for n in range(1, accounts + 1)
        ],
    )
    cursor.execute("CREATE TEMP TABLE bench_acc (n INT PRIMARY KEY, id TEXT, holder TEXT)")
    _copy(
        cursor,
        "bench_acc",
        ("n", "id", "holder"),
        [(n, account_id(n), holder(n)) for n in range(1, accounts + 1)],
    )


def _plan(
    cursor: Any,
    *,
    accounts: int,
    history: int,
    deep_share: float,
    start: datetime,
    step: timedelta,
) -> None:
    """One row per transaction: kind, accounts, amount, time (i <= 0: openings)."""
    cursor.execute(
        """
        CREATE TEMP TABLE plan AS
        WITH r AS (
            SELECT i, random() AS r_kind, random() AS r_deep, random() AS r_acc,
                   random() AS r_other, random() AS r_swap, random() AS r_amount,
                   random() AS r_desc
              FROM generate_series(1, %(n)s) AS i
        ), p AS (
            SELECT i,
                   CASE WHEN r_kind < 0.70 THEN 'TRANSFER'
                        WHEN r_kind < 0.85 THEN 'DEPOSIT' ELSE 'WITHDRAWAL' END AS kind,
                   CASE WHEN r_deep < %(deep)s THEN %(deep_n)s
                        ELSE 1 + floor(r_acc * %(a)s)::int END AS a_n,
                   floor(r_other * (%(a)s - 1))::int AS other_off,
                   r_swap < 0.5 AS swap,
                   1 + floor(r_amount * 50000)::bigint AS amount,  -- 0.01 to 500.00
                   1 + floor(r_desc * 10)::int AS d
              FROM r
        ), q AS (
            -- b_n is another account than a_n (other_off < a - 1).
            SELECT *, 1 + (a_n + other_off) %% %(a)s AS b_n FROM p
        )
        SELECT i, kind, amount, d,
               CASE kind WHEN 'TRANSFER' THEN CASE WHEN swap THEN b_n ELSE a_n END
                         WHEN 'WITHDRAWAL' THEN a_n END AS from_n,
               CASE kind WHEN 'TRANSFER' THEN CASE WHEN swap THEN a_n ELSE b_n END
                         WHEN 'DEPOSIT' THEN a_n END AS to_n
          FROM q
        UNION ALL
        SELECT n - %(a)s - 1, 'ADJUSTMENT',
               CASE WHEN n = %(deep_n)s THEN %(deep_opening)s ELSE %(opening)s END, 0, NULL, n
          FROM generate_series(1, %(a)s) AS n
        """,
        {
            "n": history,
            "a": accounts,
            "deep": deep_share,
            "deep_n": DEEP_N,
            "opening": OPENING_MINOR,
            "deep_opening": DEEP_OPENING_MINOR,
        },
    )
    cursor.execute(
        """
        CREATE TEMP TABLE plan2 AS
        SELECT p.i, p.kind, p.amount, f.id AS from_id, t.id AS to_id,
               f.holder AS from_holder, t.holder AS to_holder,
               'txn_' || substr(translate(md5('bench:txn:' || p.i), '0189', 'wxyz'), 1, 20)
                   AS txn_id,
               x.at,
               'TXN' || to_char(x.at, 'YYYYMMDD') || (p.i + %(a)s + 1001)::text AS number,
               CASE p.kind WHEN 'TRANSFER' THEN (%(descriptions)s::text[])[p.d]
                           WHEN 'DEPOSIT' THEN 'Cash deposit'
                           WHEN 'WITHDRAWAL' THEN 'ATM withdrawal'
                           ELSE 'Opening balance (benchmark data)' END AS description
          FROM plan p
          LEFT JOIN bench_acc f ON f.n = p.from_n
          LEFT JOIN bench_acc t ON t.n = p.to_n
         CROSS JOIN LATERAL (
               SELECT CASE WHEN p.i > 0 THEN %(start)s::timestamp + p.i * %(step)s::interval
                           ELSE %(start)s::timestamp - interval '1 day'
                                + (p.i + %(a)s) * interval '1 millisecond' END AS at) x
        """,
        {
            "a": accounts,
            "descriptions": list(TRANSFER_DESCRIPTIONS),
            "start": start,
            "step": step,
        },
    )
    cursor.execute("CREATE UNIQUE INDEX ON plan2 (i)")


def _legs(cursor: Any) -> None:
    """Each posting, with the account's running balance after it."""
    cursor.execute(
        """
        CREATE TEMP TABLE legs AS
        SELECT i, 0 AS leg, from_id AS account_id, -amount AS amt, TRUE AS customer
          FROM plan2 WHERE from_id IS NOT NULL
        UNION ALL
        SELECT i, 1, to_id, amount, TRUE FROM plan2 WHERE to_id IS NOT NULL
        UNION ALL
        SELECT i, 2, CASE kind WHEN 'ADJUSTMENT' THEN %(equity)s ELSE %(cash)s END,
               CASE kind WHEN 'WITHDRAWAL' THEN amount ELSE -amount END, FALSE
          FROM plan2 WHERE kind <> 'TRANSFER'
        """,
        {
            "equity": internal_account_id("OPENING_EQUITY", "USD"),
            "cash": internal_account_id("CASH_VAULT", "USD"),
        },
    )
    # Starts from each account's balance now (the sandbox's internal accounts
    # already hold postings); (i, leg) orders an account's postings.
    cursor.execute(
        """
        CREATE TEMP TABLE legs_bal AS
        SELECT l.i, l.leg, l.account_id, l.amt, l.customer,
               a.balance_minor
               + sum(l.amt) OVER (PARTITION BY l.account_id ORDER BY l.i, l.leg) AS balance_after
          FROM legs l JOIN accounts a ON a.id = l.account_id
        """
    )


def _drop_plain_indexes(cursor: Any) -> list[str]:
    """Drops the big tables' non-constraint indexes; returns their definitions."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
         WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
         ORDER BY i.indexname
        """,
        (list(BIG_TABLES),),
    )
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


_INSERT_TRANSACTIONS = """
INSERT INTO ledger_transactions (id, number, type, status, currency, amount_minor, fee_minor,
                                 description, reference, details, created_at, completed_at,
                                 from_account_id, to_account_id)
SELECT txn_id, number, kind, 'COMPLETED', 'USD', amount, 0, description, '', '{}', at, at,
       from_id, to_id
  FROM plan2 ORDER BY i
"""

_INSERT_POSTINGS = """
INSERT INTO postings (transaction_id, account_id, currency, amount_minor, balance_after_minor,
                      created_at)
SELECT p.txn_id, l.account_id, 'USD', l.amt, l.balance_after, p.at
  FROM legs_bal l JOIN plan2 p USING (i)
 ORDER BY l.i, l.leg
"""

_INSERT_ENTRIES = """
INSERT INTO account_entries (account_id, transaction_id, direction, type, status, limit_class,
                             currency, amount_minor, fee_minor, balance_after_minor,
                             counterparty, search_text, created_at)
SELECT l.account_id, p.txn_id,
       CASE WHEN l.amt < 0 THEN 'DEBIT' ELSE 'CREDIT' END, p.kind, 'COMPLETED',
       CASE WHEN p.kind = 'TRANSFER' AND l.amt < 0 THEN 'TRANSFER'
            WHEN p.kind = 'WITHDRAWAL' THEN 'ATM' ELSE '' END,
       'USD', abs(l.amt), 0, l.balance_after, c.counterparty,
       lower(p.number || ' ' || p.description || ' ' || c.counterparty), p.at
  FROM legs_bal l JOIN plan2 p USING (i)
 CROSS JOIN LATERAL (
       SELECT CASE p.kind
                   WHEN 'TRANSFER' THEN CASE WHEN l.leg = 0 THEN p.to_holder ELSE p.from_holder END
                   WHEN 'DEPOSIT' THEN 'Cash'
                   WHEN 'WITHDRAWAL' THEN 'ATM-NYC-001'
                   ELSE 'Opening balance' END AS counterparty) c
 WHERE l.customer
 ORDER BY l.i, l.leg
"""

_UPDATE_BALANCES = """
UPDATE accounts a SET balance_minor = a.balance_minor + s.total
  FROM (SELECT account_id, sum(amt) AS total FROM legs GROUP BY account_id) s
 WHERE a.id = s.account_id
"""


def deep_page_starts(
    url: str, account_id: str, every: int, data_dir: Path
) -> list[tuple[int, str]]:
    """Page tokens that start a newest-first walk every `every` rows of an account's
    history, as (rows above, token), for `GET /api/transactions?accountId=...`
    without filters. Made as the server makes them (its encoder, signed with its
    key from `data_dir`), carrying the totals the walk's first page would have
    counted, as a client that paged down from the first page would hold."""
    connection = psycopg2.connect(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT rn, created_at, id FROM (
                    SELECT created_at, id,
                           row_number() OVER (ORDER BY created_at DESC, id DESC) AS rn
                      FROM account_entries WHERE account_id = %s) x
                 WHERE rn %% %s = 0 ORDER BY rn
                """,
                (account_id, every),
            )
            rows = cursor.fetchall()
            cursor.execute(
                """
                SELECT COUNT(*),
                       COALESCE(SUM(CASE WHEN direction = 'DEBIT'
                                          AND status NOT IN ('FAILED', 'CANCELLED')
                                         THEN amount_minor + fee_minor ELSE 0 END), 0),
                       COALESCE(SUM(CASE WHEN direction = 'CREDIT'
                                          AND status NOT IN ('FAILED', 'CANCELLED')
                                         THEN amount_minor ELSE 0 END), 0)
                  FROM account_entries WHERE account_id = %s
                """,
                (account_id,),
            )
            carried = [int(value) for value in cursor.fetchone()]
    finally:
        connection.close()
    paging.configure(key_file(data_dir / "keys" / "paging.key"))
    filters = history.HistoryQuery(account_id=account_id).filters()
    return [
        (int(rn), paging.encode_token([created_at.isoformat(), int(entry_id)], filters, carried))
        for rn, created_at, entry_id in rows
    ]


# --- invariants ----------------------------------------------------------------

# Each query counts violations; every one must answer 0.
INVARIANTS: dict[str, str] = {
    "unbalanced transactions": """
        SELECT count(*) FROM (SELECT 1 FROM postings GROUP BY transaction_id, currency
                               HAVING sum(amount_minor) <> 0) x""",
    "balances unequal to their postings": """
        SELECT count(*) FROM accounts a
          LEFT JOIN (SELECT account_id, sum(amount_minor) AS total FROM postings
                      GROUP BY account_id) p ON p.account_id = a.id
         WHERE a.balance_minor <> coalesce(p.total, 0)""",
    "postings without their account or transaction": """
        SELECT count(*) FROM postings p
          LEFT JOIN accounts a ON a.id = p.account_id
          LEFT JOIN ledger_transactions t ON t.id = p.transaction_id
         WHERE a.id IS NULL OR t.id IS NULL""",
    "entries unlike their posting": """
        SELECT count(*) FROM account_entries e
          LEFT JOIN postings p ON p.transaction_id = e.transaction_id
                              AND p.account_id = e.account_id
         WHERE e.status = 'COMPLETED'
           AND (p.id IS NULL
                OR p.amount_minor <> CASE e.direction WHEN 'DEBIT' THEN -e.amount_minor
                                                      ELSE e.amount_minor END
                OR p.balance_after_minor <> e.balance_after_minor)""",
    "customer postings without an entry": """
        SELECT count(*) FROM postings p
          JOIN accounts a ON a.id = p.account_id AND a.kind = 'CUSTOMER'
          LEFT JOIN account_entries e ON e.transaction_id = p.transaction_id
                                     AND e.account_id = p.account_id
         WHERE e.id IS NULL""",
    "bench accounts below zero": """
        SELECT count(*) FROM accounts
         WHERE kind = 'CUSTOMER' AND left(account_number, 1) = '2' AND balance_minor < 0""",
}


def verify(url: str) -> dict[str, int]:
    """Checks the ledger invariants over the whole database; raises on a violation."""
    connection = psycopg2.connect(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SET work_mem = '256MB'")
            found = {}
            for name, query in INVARIANTS.items():
                cursor.execute(query)
                found[name] = int(cursor.fetchone()[0])
            counts = {}
            for table in ("accounts", *BIG_TABLES):
                cursor.execute(f"SELECT count(*) FROM {table}")
                counts[table] = int(cursor.fetchone()[0])
    finally:
        connection.close()
    broken = {name: count for name, count in found.items() if count}
    if broken:
        raise BenchFailure(f"ledger invariants broken: {broken}")
    return counts
