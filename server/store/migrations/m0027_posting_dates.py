"""An account's postings by date: the index statements and exports read.

A statement (an export, a monthly statement) covers whole days of one
account: it finds the first and last postings of the period and the balance
before it by (account_id, created_at). The postings had only (account_id,
id); this index finds a period's ends without reading the account's earlier
postings. The lines in between are then read by (account_id, id), the
order the balances were written in.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        "CREATE INDEX postings_account_created_idx ON postings (account_id, created_at, id)",
    ]
