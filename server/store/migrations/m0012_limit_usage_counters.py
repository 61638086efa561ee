"""Running limit usage per account, limit class and period.

Daily and monthly limits (seed 002) were checked by summing the account's
debits of the day and of the month in `account_entries` on every debit, so a
busy account's every debit read all its earlier ones of the month. Now each
counted debit adds its amount to two rows here, its day's and its month's,
in the same transaction (server.store.limit_usage), and a limit check reads
those rows: constant work, however many debits came before.

`period` is `D` + the UTC date (`D2026-12-01`) or `M` + the UTC month
(`M2026-12`) of the debit's history row (`account_entries.created_at`), the
same periods the sums used. The rows are filled here from the history that
exists: every DEBIT entry with a limit class and a status that counts (not
FAILED or CANCELLED).
"""

from __future__ import annotations

_COUNTED = (
    "FROM account_entries WHERE direction = 'DEBIT' AND limit_class <> ''"
    " AND status NOT IN ('FAILED', 'CANCELLED')"
)


def period_keys(dialect: str) -> tuple[str, str]:
    """SQL for an account_entries row's day and month keys (`D2026-12-01`, `M2026-12`)."""
    if dialect == "postgres":
        return "'D' || to_char(created_at, 'YYYY-MM-DD')", "'M' || to_char(created_at, 'YYYY-MM')"
    # SQLite keeps timestamps as text, `YYYY-MM-DD HH:MM:SS[.ffffff]`.
    return "'D' || substr(created_at, 1, 10)", "'M' || substr(created_at, 1, 7)"


def counted_sums(dialect: str) -> list[str]:
    """SELECTs of (account_id, limit_class, period, used) summed from the history,
    one per period kind: what the counters start from, and what the tests and
    the fault test recount them with."""
    return [
        f"SELECT account_id, limit_class, {period}, SUM(amount_minor) {_COUNTED}"
        f" GROUP BY account_id, limit_class, {period}"
        for period in period_keys(dialect)
    ]


def statements(dialect: str) -> list[str]:
    return [
        """CREATE TABLE limit_usage (
            account_id TEXT NOT NULL REFERENCES accounts (id),
            limit_class TEXT NOT NULL,
            period TEXT NOT NULL,
            used_minor BIGINT NOT NULL,
            PRIMARY KEY (account_id, limit_class, period)
        )""",
        *(
            f"INSERT INTO limit_usage (account_id, limit_class, period, used_minor) {sums}"
            for sums in counted_sums(dialect)
        ),
    ]
