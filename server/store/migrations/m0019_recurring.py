"""Recurring schedules and their runs (transaction_service.proto,
CreateRecurringTransaction; rules in server.domain.recurring and
server.domain.recurring_runs).

- `recurring_transactions`: one schedule, its rule (frequency, dates,
  day_of_month) and its moving state (status, the next run's instant and
  scheduled date, refused attempts, counts). `version` grows with every
  change, so that each change is a conditional update of the version it
  read. `owner_id` is the debited account's owner, kept so that a
  customer's list needs no join. A RECURRING_PAYMENT given its own number
  at the payee keeps it sealed in `payee_account_number`
  (`enc:v1:...`, bound to the row) and its last four characters, all a
  response shows, in `payee_account_last4`; without one, each run uses the
  number on the payee's record.
- `recurring_due_idx`: the sweeper's claim reads ACTIVE schedules by the
  instant of their next run.
- `recurring_runs`: one row per run that ended (COMPLETED or FAILED), keyed
  by (schedule, scheduled date) and written in the same database
  transaction as the run's transaction: a second attempt of the same run,
  by a racing process or after a lost update of the schedule, breaks the
  key (or finds the row) instead of moving money twice.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        """CREATE TABLE recurring_transactions (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            owner_id TEXT,
            client_id TEXT,
            created_by TEXT,
            from_account_id TEXT NOT NULL REFERENCES accounts (id),
            to_account_id TEXT REFERENCES accounts (id),
            payee_id TEXT,
            payee_account_number TEXT,
            payee_account_last4 TEXT,
            amount_minor BIGINT NOT NULL,
            currency TEXT NOT NULL,
            description TEXT NOT NULL,
            frequency TEXT NOT NULL,
            start_date DATE NOT NULL,
            end_date DATE,
            day_of_month INTEGER,
            status TEXT NOT NULL,
            next_execution TIMESTAMP,
            run_date DATE,
            attempts_refused INTEGER NOT NULL,
            execution_count INTEGER NOT NULL,
            consecutive_failure_count INTEGER NOT NULL,
            last_execution TIMESTAMP,
            last_transaction_id TEXT,
            created_at TIMESTAMP NOT NULL,
            cancelled_at TIMESTAMP,
            version INTEGER NOT NULL
        )""",
        "CREATE INDEX recurring_due_idx ON recurring_transactions (status, next_execution)",
        "CREATE INDEX recurring_owner_idx ON recurring_transactions (owner_id, created_at)",
        "CREATE INDEX recurring_from_idx ON recurring_transactions (from_account_id, created_at)",
        """CREATE TABLE recurring_runs (
            recurring_id TEXT NOT NULL REFERENCES recurring_transactions (id),
            run_date DATE NOT NULL,
            transaction_id TEXT NOT NULL,
            status TEXT NOT NULL,
            failure_code TEXT,
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (recurring_id, run_date)
        )""",
    ]
