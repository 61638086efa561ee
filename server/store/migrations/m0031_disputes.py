"""Disputes (DisputeService) and the bank's disputes account.

- `disputes`: one row per dispute, OPEN until staff resolve it (RESOLVED,
  with its outcome). `owner_id` is the owner of the debited account when the
  dispute was opened, so a customer's list reads one index. The provisional
  credit's state (`credit_status`), when it is due (`credit_due`) and the
  ADJUSTMENTs that credited and took it back are kept on the row.
- `disputes_open_idx`: at most one OPEN dispute per transaction, held by
  the database too (a partial unique index on both databases).
- `disputes_due_idx`: the sweeper's question, "which OPEN disputes have a
  PENDING credit due by now".
- The general-ledger account `DISPUTES` (number 9000000031, one per currency
  the bank served when this ran: USD, EUR, GBP, CAD, JPY; the others' numbers
  end in their currency code, as `store/bootstrap.py` names its accounts).
  Provisional and final credits are paid from it and claw-backs return to
  it. Its ids are `stable_id("acc", "internal:DISPUTES:<currency>")`, the
  scheme of the other internal accounts (`domain/disputes.disputes_account_id`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from server.domain.ids import stable_id

CODE = "DISPUTES"
NUMBER = "9000000031"
NAME = "Disputes (provisional credits)"
CURRENCIES = ("USD", "EUR", "GBP", "CAD", "JPY")


def _accounts() -> list[str]:
    stamp = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    rows = []
    for currency in CURRENCIES:
        usd = currency == "USD"
        rows.append(
            "INSERT INTO accounts (id, account_number, kind, code, type, currency, owner_id,"
            " name, status, balance_minor, held_minor, overdraft_limit_minor, created_at,"
            " updated_at) VALUES ("
            f"'{stable_id('acc', f'internal:{CODE}:{currency}')}',"
            f" '{NUMBER if usd else NUMBER + currency}', 'INTERNAL',"
            f" '{CODE if usd else f'{CODE}:{currency}'}', 'INTERNAL', '{currency}', NULL,"
            f" '{NAME if usd else f'{NAME} ({currency})'}', 'ACTIVE', 0, 0, 0,"
            f" '{stamp}', '{stamp}')"
        )
    return rows


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        """CREATE TABLE disputes (
            id TEXT PRIMARY KEY,
            transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
            account_id TEXT NOT NULL REFERENCES accounts (id),
            owner_id TEXT,
            status TEXT NOT NULL CHECK (status IN ('OPEN', 'RESOLVED')),
            outcome TEXT CHECK (outcome IN ('CUSTOMER_FAVOR', 'MERCHANT_FAVOR')),
            reason TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
            description TEXT NOT NULL DEFAULT '',
            opened_by TEXT,
            client_id TEXT NOT NULL,
            investigation_deadline TIMESTAMP NOT NULL,
            credit_status TEXT NOT NULL CHECK (credit_status IN
                ('PENDING', 'CREDITED', 'FINAL', 'REVERSED', 'NOT_CREDITED')),
            credit_due TIMESTAMP NOT NULL,
            credit_transaction_id TEXT REFERENCES ledger_transactions (id),
            credited_at TIMESTAMP,
            reversal_transaction_id TEXT REFERENCES ledger_transactions (id),
            resolution_note TEXT,
            resolved_by TEXT,
            resolved_at TIMESTAMP,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            CHECK ((status = 'OPEN') = (outcome IS NULL))
        )""",
        "CREATE UNIQUE INDEX disputes_open_idx ON disputes (transaction_id) WHERE status = 'OPEN'",
        "CREATE INDEX disputes_transaction_idx ON disputes (transaction_id, status)",
        "CREATE INDEX disputes_owner_idx ON disputes (owner_id, created_at, id)",
        "CREATE INDEX disputes_status_idx ON disputes (status, created_at, id)",
        "CREATE INDEX disputes_due_idx ON disputes (credit_due) WHERE credit_status = 'PENDING'",
        *_accounts(),
    ]
