"""Many postings of one account written with SQL, for the export tests and bench.

`count` balanced transactions between the account and a counter account
(OPENING_EQUITY), one second apart from `start`: even ones credit 1.00,
odd ones debit 0.50, so the account's balance after line i is known in
closed form and the continuity of an export can be checked against it.
Each has its history row (account_entries) as a movement writes it. The
account must have no posting yet (it starts at 0). One statement per table,
rows made by the database (generate_series / a recursive CTE): 200,000
rows load in a few seconds on either database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

CREDIT_MINOR = 100
DEBIT_MINOR = -50


def balance_after(i: int) -> int:
    """The account's balance after line i (1-based)."""
    credits = i // 2
    return CREDIT_MINOR * credits + DEBIT_MINOR * (i - credits)


def closing(count: int) -> int:
    return balance_after(count) if count else 0


def _series(postgres: bool) -> tuple[str, str, str]:
    """(row source, created_at expression, text concatenation of n) per dialect."""
    if postgres:
        return (
            "generate_series(1, ?) AS s(n)",
            "(CAST(? AS timestamp) + n * interval '1 second')",
            "CAST(n AS text)",
        )
    return (
        (
            "(WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ?)"
            " SELECT n FROM c) AS s"
        ),
        "strftime('%Y-%m-%d %H:%M:%S', ?, '+' || n || ' seconds')",
        "CAST(n AS TEXT)",
    )


def statements(
    postgres: bool, tag: str, account_id: str, counter_id: str, *, count: int, start: datetime
) -> list[tuple[str, list[Any]]]:
    """The statements (`?` placeholders) that write the rows; run them in one transaction."""
    source, at, text = _series(postgres)
    even = "n - (n / 2) * 2 = 0"  # no `%`: psycopg2 reads it as a placeholder
    amount = f"CASE WHEN {even} THEN {CREDIT_MINOR} ELSE {DEBIT_MINOR} END"
    after = f"({CREDIT_MINOR} * (n / 2) + {DEBIT_MINOR} * (n - n / 2))"
    stamp = start if postgres else start.strftime("%Y-%m-%d %H:%M:%S")
    txn = f"'txn_x{tag}_' || {text}"
    return [
        (
            (
                "INSERT INTO ledger_transactions (id, number, type, status, currency, amount_minor,"
                " fee_minor, description, reference, details, created_at, completed_at)"
                f" SELECT {txn}, 'TXNX{tag}' || {text},"
                f" CASE WHEN {even} THEN 'DEPOSIT' ELSE 'WITHDRAWAL' END, 'COMPLETED', 'USD',"
                f" CASE WHEN {even} THEN {CREDIT_MINOR} ELSE {-DEBIT_MINOR} END, 0,"
                f" 'Bulk movement ' || {text}, '', '{{}}', {at}, {at} FROM {source}"
            ),
            [stamp, stamp, count],
        ),
        (
            (
                "INSERT INTO postings (transaction_id, account_id, currency, amount_minor,"
                f" balance_after_minor, created_at) SELECT {txn}, ?, 'USD', {amount}, {after}, {at}"
                f" FROM {source} ORDER BY n"
            ),
            [account_id, stamp, count],
        ),
        (
            (
                "INSERT INTO postings (transaction_id, account_id, currency, amount_minor,"
                f" balance_after_minor, created_at) SELECT {txn}, ?, 'USD', -({amount}), 0, {at}"
                f" FROM {source} ORDER BY n"
            ),
            [counter_id, stamp, count],
        ),
        (
            (
                "INSERT INTO account_entries (account_id, transaction_id, direction, type, status,"
                " limit_class, currency, amount_minor, fee_minor, balance_after_minor,"
                " counterparty, search_text, created_at)"
                f" SELECT ?, {txn}, CASE WHEN {even} THEN 'CREDIT' ELSE 'DEBIT' END,"
                f" CASE WHEN {even} THEN 'DEPOSIT' ELSE 'WITHDRAWAL' END, 'COMPLETED', '', 'USD',"
                f" CASE WHEN {even} THEN {CREDIT_MINOR} ELSE {-DEBIT_MINOR} END, 0, {after},"
                f" 'Counterparty ' || {text}, '', {at} FROM {source}"
            ),
            [account_id, stamp, count],
        ),
        (
            "UPDATE accounts SET balance_minor = balance_minor + ? WHERE id = ?",
            [closing(count), account_id],
        ),
        (
            "UPDATE accounts SET balance_minor = balance_minor - ? WHERE id = ?",
            [closing(count), counter_id],
        ),
    ]
