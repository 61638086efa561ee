"""Refund requests (TransactionService.RefundTransaction, RefundService).

- `refund_requests`: one row per request, PENDING_REVIEW until staff approve
  (APPROVED, then COMPLETED with the REFUND transaction's id) or reject it.
  `owner_id` is the owner of the credited account when the request was
  made, so that a customer's list reads one index; `amount_minor` is what was
  asked, `approved_minor` what staff approved (a partial approval is less).
- `refund_requests_owner_idx` and `refund_requests_status_idx`: a customer's
  requests and the staff review queue, newest or oldest first.
- `refund_requests_transaction_idx`: the sums of one original's open and
  completed requests, read under the original's lock on every request and
  approval.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        """CREATE TABLE refund_requests (
            id TEXT PRIMARY KEY,
            transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
            account_id TEXT NOT NULL REFERENCES accounts (id),
            owner_id TEXT,
            status TEXT NOT NULL CHECK (status IN
                ('PENDING_REVIEW', 'APPROVED', 'REJECTED', 'COMPLETED')),
            reason TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
            approved_minor BIGINT CHECK (approved_minor > 0 AND approved_minor <= amount_minor),
            description TEXT NOT NULL DEFAULT '',
            requested_by TEXT,
            client_id TEXT NOT NULL,
            expected_resolution TIMESTAMP NOT NULL,
            reviewed_by TEXT,
            reviewed_at TIMESTAMP,
            review_notes TEXT,
            rejection_reason TEXT,
            refund_transaction_id TEXT REFERENCES ledger_transactions (id),
            created_at TIMESTAMP NOT NULL,
            completed_at TIMESTAMP
        )""",
        "CREATE INDEX refund_requests_owner_idx ON refund_requests (owner_id, created_at, id)",
        "CREATE INDEX refund_requests_status_idx ON refund_requests (status, created_at, id)",
        "CREATE INDEX refund_requests_transaction_idx ON refund_requests (transaction_id, status)",
    ]
