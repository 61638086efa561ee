"""Ledger core: holds, account history entries, idempotency keys, cards, ATMs.

- `account_entries`: one row per customer account touched by a
  customer-visible transaction (completed, pending or failed), so that an
  account's history, its limit usage and keyset paging read one index.
- `holds`: funds deposited but not yet available (a state machine:
  PENDING -> RELEASED | VOIDED | EXPIRED).
- `idempotency_keys`: per client; the response is stored in the same database
  transaction as the work it describes.
- `transaction_numbers`: the sequence behind `TXN<date><sequence>` numbers
  (a real sequence on PostgreSQL, so numbering never serialises writers).
- `cards` and `atms`: what a withdrawal needs to check a PIN and price an ATM.
"""

from __future__ import annotations


def _common(serial_pk: str, now: str, blob: str) -> list[str]:
    return [
        "ALTER TABLE accounts ADD COLUMN country TEXT NOT NULL DEFAULT 'US'",
        "ALTER TABLE accounts ADD COLUMN limit_overrides TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE accounts ADD COLUMN frozen_at TIMESTAMP",
        "ALTER TABLE accounts ADD COLUMN close_reason TEXT",
        "ALTER TABLE accounts ADD COLUMN pending_debits_minor BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMP",
        "ALTER TABLE ledger_transactions ADD COLUMN from_account_id TEXT REFERENCES accounts (id)",
        "ALTER TABLE ledger_transactions ADD COLUMN to_account_id TEXT REFERENCES accounts (id)",
        "ALTER TABLE ledger_transactions ADD COLUMN client_id TEXT",
        "ALTER TABLE ledger_transactions ADD COLUMN original_transaction_id TEXT",
        "ALTER TABLE ledger_transactions ADD COLUMN failure_reason TEXT",
        "ALTER TABLE ledger_transactions ADD COLUMN cancelled_at TIMESTAMP",
        f"""CREATE TABLE account_entries (
            id {serial_pk},
            account_id TEXT NOT NULL REFERENCES accounts (id),
            transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
            direction TEXT NOT NULL CHECK (direction IN ('DEBIT', 'CREDIT')),
            type TEXT NOT NULL,
            status TEXT NOT NULL,
            limit_class TEXT NOT NULL DEFAULT '',
            currency TEXT NOT NULL,
            amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
            fee_minor BIGINT NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
            balance_after_minor BIGINT,
            counterparty TEXT NOT NULL DEFAULT '',
            search_text TEXT NOT NULL DEFAULT '',
            created_at TIMESTAMP NOT NULL DEFAULT {now}
        )""",
        "CREATE INDEX account_entries_history_idx ON account_entries (account_id, created_at, id)",
        "CREATE INDEX account_entries_transaction_idx ON account_entries (transaction_id)",
        f"""CREATE TABLE holds (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts (id),
            transaction_id TEXT REFERENCES ledger_transactions (id),
            amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
            currency TEXT NOT NULL,
            reason TEXT NOT NULL,
            status TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            release_at TIMESTAMP NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT {now},
            resolved_at TIMESTAMP
        )""",
        "CREATE INDEX holds_due_idx ON holds (status, release_at)",
        "CREATE INDEX holds_account_idx ON holds (account_id, created_at)",
        f"""CREATE TABLE idempotency_keys (
            client_id TEXT NOT NULL,
            key TEXT NOT NULL,
            method TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            response {blob},
            http_status INTEGER NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            error TEXT,
            created_at TIMESTAMP NOT NULL DEFAULT {now},
            expires_at TIMESTAMP NOT NULL,
            PRIMARY KEY (client_id, key)
        )""",
        "CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at)",
        f"""CREATE TABLE cards (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts (id),
            number_hash TEXT NOT NULL UNIQUE,
            last4 TEXT NOT NULL,
            pin_hash TEXT NOT NULL,
            failed_pin_attempts INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'ACTIVE',
            locked_at TIMESTAMP,
            created_at TIMESTAMP NOT NULL DEFAULT {now}
        )""",
        """CREATE TABLE atms (
            id TEXT PRIMARY KEY,
            network TEXT NOT NULL,
            country TEXT NOT NULL,
            city TEXT NOT NULL DEFAULT ''
        )""",
    ]


def statements(dialect: str) -> list[str]:
    if dialect == "postgres":
        return [
            *_common("BIGSERIAL PRIMARY KEY", "(now() AT TIME ZONE 'utc')", "BYTEA"),
            "CREATE SEQUENCE transaction_numbers",
        ]
    return [
        *_common("INTEGER PRIMARY KEY AUTOINCREMENT", "CURRENT_TIMESTAMP", "BLOB"),
        "CREATE TABLE transaction_numbers (value INTEGER PRIMARY KEY AUTOINCREMENT)",
    ]
