"""A closed day's bank-wide totals per currency and transaction type, kept once
computed (server.store.report_rows.day_totals).

A daily report of a whole past day, bank-wide and of every type, sums the
day's postings once; later reports of that day read these rows. A day is
closed when it has ended: postings are stamped with the time they are made
(the sandbox clock only moves forward) and never change, so its totals do
not either. `report_days.postings` is how many postings the day held when
its totals were made: a report counts them again (an index-only count) and
sums the day afresh when they differ (rows written into the past by hand).
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        """CREATE TABLE report_days (
            day TEXT PRIMARY KEY,
            postings BIGINT NOT NULL,
            made_at TIMESTAMP NOT NULL
        )""",
        """CREATE TABLE report_day_totals (
            day TEXT NOT NULL,
            currency TEXT NOT NULL,
            type TEXT NOT NULL,
            debit_minor BIGINT NOT NULL,
            credit_minor BIGINT NOT NULL,
            debits BIGINT NOT NULL,
            credits BIGINT NOT NULL,
            transactions BIGINT NOT NULL,
            PRIMARY KEY (day, currency, type)
        )""",
    ]
