"""Monthly account statements (statement_service.proto; made by
server.workers.statements).

One row per account and month, keyed by (account_id, period) so that two
server processes closing the same month make one statement: the second
insert finds the key and is ignored. The figures are fixed when the month
has closed (the period's postings never change); the PDF is rendered from
the ledger on download. The key's index also serves an account's list,
newest period first.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        """CREATE TABLE account_statements (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts (id),
            period TEXT NOT NULL,
            period_start DATE NOT NULL,
            period_end DATE NOT NULL,
            currency TEXT NOT NULL,
            opening_balance_minor BIGINT NOT NULL,
            closing_balance_minor BIGINT NOT NULL,
            credit_count INTEGER NOT NULL,
            credit_total_minor BIGINT NOT NULL,
            debit_count INTEGER NOT NULL,
            debit_total_minor BIGINT NOT NULL,
            created_at TIMESTAMP NOT NULL
        )""",
        "CREATE UNIQUE INDEX account_statements_key ON account_statements (account_id, period)",
    ]
