"""Stored (custom) reports, and the indexes reports read by.

- `reports`: one custom report (report_service.proto CreateCustomReport),
  owned by the caller that asked (`client_id`, and `user_id`, "" for a
  client acting for itself). `parameters` is the checked request as JSON;
  `result` the computed figures as JSON once COMPLETED; `file` the
  downloadable file in `format` (`content_type`). The report worker
  (server.workers.reports) claims PENDING rows by (status, created_at), on
  PostgreSQL with FOR UPDATE SKIP LOCKED, and moves them to PROCESSING with
  `started_at`; a PROCESSING row whose worker died is claimed again after a
  lease (see server.store.report_jobs). Rows are deleted at `expires_at`.
- `postings_created_idx`: the postings of a period, whatever their account
  (bank-wide reports; the balances after a period). PostgreSQL keeps the
  summed columns in the index so a day's postings are read from it alone.
- `ledger_transactions_status_created_idx`: a period's FAILED and CANCELLED
  transactions without reading the others.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    blob = "BYTEA" if dialect == "postgres" else "BLOB"
    postings_index = (
        "CREATE INDEX postings_created_idx ON postings (created_at)"
        " INCLUDE (account_id, transaction_id, amount_minor, currency)"
        if dialect == "postgres"
        else "CREATE INDEX postings_created_idx ON postings (created_at)"
    )
    return [
        f"""CREATE TABLE reports (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            requested_by TEXT NOT NULL,
            status TEXT NOT NULL,
            parameters TEXT NOT NULL,
            format TEXT NOT NULL,
            result TEXT,
            file {blob},
            content_type TEXT,
            failure_reason TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TIMESTAMP NOT NULL,
            started_at TIMESTAMP,
            completed_at TIMESTAMP,
            expires_at TIMESTAMP NOT NULL
        )""",
        "CREATE INDEX reports_due_idx ON reports (status, created_at)",
        "CREATE INDEX reports_owner_idx ON reports (client_id, user_id, status)",
        "CREATE INDEX reports_expiry_idx ON reports (expires_at)",
        postings_index,
        (
            "CREATE INDEX ledger_transactions_status_created_idx"
            " ON ledger_transactions (status, created_at)"
        ),
    ]
