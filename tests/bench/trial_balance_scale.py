"""How long the trial balance and a balance as of an instant take over a large
ledger (PostgreSQL). Not part of `make bench`; run by hand:

    .venv/bin/python -m tests.bench.trial_balance_scale [transactions]

Makes a scratch database with 1,000 customer accounts and `transactions`
deposits (default 500,000, so twice as many postings) spread over a year,
then times `ledger_balances.gl_groups` at three instants,
`balance_as_of` of one account and the statements of one month of every
account (the sweeper's batches); the database is dropped afterwards.
"""

from __future__ import annotations

import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2

import server  # noqa: F401  (puts gen/ on sys.path)
from server.domain.statement_months import Month
from server.store import db as store_db
from server.store import ledger_balances, migrations, statement_records
from server.store.bootstrap import ensure_internal_accounts, internal_account_id
from server.workers import statements
from tests.common.databases import POSTGRES_ADMIN_URL

ACCOUNTS = 1_000


def _fill(url: str, transactions: int, start: datetime) -> None:
    vault = internal_account_id("CASH_VAULT", "USD")
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no per-row triggers
        cursor.execute(
            "INSERT INTO accounts (id, account_number, kind, type, currency, name, status,"
            " balance_minor, held_minor, overdraft_limit_minor, created_at, updated_at, country,"
            " limit_overrides, pending_debits_minor)"
            " SELECT 'acc_b' || g, 'B' || g, 'CUSTOMER',"
            " CASE WHEN g %% 3 = 0 THEN 'SAVINGS' ELSE 'CHECKING' END, 'USD', 'bench', 'ACTIVE',"
            " 0, 0, 0, %s, %s, 'US', '{}', 0 FROM generate_series(1, %s) g",
            (start, start, ACCOUNTS),
        )
        cursor.execute(
            "INSERT INTO ledger_transactions (id, number, type, status, currency, amount_minor,"
            " created_at) SELECT 'txn_b' || g, 'B' || g, 'DEPOSIT', 'COMPLETED', 'USD',"
            " 100 + g %% 1000, %s + (g * interval '1 second') * (31536000.0 / %s)"
            " FROM generate_series(1, %s) g",
            (start, transactions, transactions),
        )
        # Each posting's balance after it is the running sum of its account's
        # postings (in posting order), as the ledger writes it.
        cursor.execute(
            "INSERT INTO postings (transaction_id, account_id, currency, amount_minor,"
            " balance_after_minor, created_at)"
            " SELECT id, account_id, 'USD', amount, SUM(amount) OVER (PARTITION BY account_id"
            " ORDER BY created_at, id ROWS UNBOUNDED PRECEDING), created_at FROM ("
            " SELECT t.id, v.account_id, v.sign * t.amount_minor AS amount, t.created_at"
            " FROM ledger_transactions t CROSS JOIN LATERAL (VALUES"
            " ('acc_b' || (1 + substr(t.id, 6)::int %% %s), 1), (%s, -1)) v(account_id, sign)"
            " WHERE t.id LIKE 'txn_b%%') moves ORDER BY created_at, id",
            (ACCOUNTS, vault),
        )
    connection.close()


def main(transactions: int) -> None:
    name = f"bo_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(POSTGRES_ADMIN_URL)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        db = store_db.bind(store_db.open_database(url, Path("/nonexistent"), 2))
        migrations.migrate(db)
        with db.connection_context():
            ensure_internal_accounts()
        start = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=366)
        began = time.perf_counter()
        _fill(url, transactions, start)
        print(f"filled {transactions:,} transactions in {time.perf_counter() - began:.1f} s")
        with db.connection_context():
            db.execute_sql("ANALYZE")
            for label, instant in (
                ("after a month", start + timedelta(days=31)),
                ("mid-year", start + timedelta(days=183)),
                ("now", start + timedelta(days=366)),
            ):
                began = time.perf_counter()
                groups = ledger_balances.gl_groups(instant, None)
                took = time.perf_counter() - began
                net = sum(group.net_minor for group in groups)
                print(
                    f"trial balance {label}: {took * 1000:.0f} ms, {len(groups)} lines, sum {net}"
                )
            began = time.perf_counter()
            ledger_balances.balance_as_of("acc_b7", start + timedelta(days=200))
            print(f"balance as of: {(time.perf_counter() - began) * 1000:.1f} ms")
            month = Month.of(start + timedelta(days=200))
            began, made = time.perf_counter(), 0
            after = ""
            while missing := statement_records.accounts_missing(month, statements.BATCH, after):
                written, broken = statement_records.make_many(missing, month, start)
                assert not broken, broken[:3]
                made, after = made + written, missing[-1]
            took = time.perf_counter() - began
            print(f"statements of {month.label}: {made} in {took:.2f} s ({made / took:.0f}/s)")
        db.close()
        if hasattr(db, "close_all"):
            db.close_all()
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500_000)
