"""External transfers: what a transfer to another bank keeps besides its journal row.

`external_transfers` has one row per EXTERNAL_TRANSFER transaction (same
id): the rail, the declared purpose, the beneficiary (its account number,
routing number and IBAN sealed, `server.store.sealed`, bound to this table,
column and row; the last four characters of the account number and IBAN
kept readable for masked responses), when the transfer is submitted and
when it should settle, and the NACHA return the sandbox decided at
acceptance. The transaction's status and the moment of its next step
(`ledger_transactions.scheduled_for`, under the due index of m0005) stay on
the journal row. `external_transfers_source_idx` serves the count of a
source account's ACH transfers in a month (the free ones).
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        """CREATE TABLE external_transfers (
            id TEXT PRIMARY KEY REFERENCES ledger_transactions (id),
            from_account_id TEXT NOT NULL REFERENCES accounts (id),
            rail TEXT NOT NULL,
            purpose TEXT,
            beneficiary_name TEXT NOT NULL,
            beneficiary_account_number TEXT NOT NULL,
            beneficiary_routing_number TEXT,
            beneficiary_iban TEXT,
            account_number_last4 TEXT NOT NULL,
            iban_last4 TEXT,
            bank_name TEXT,
            account_type TEXT,
            bank_country TEXT NOT NULL,
            swift_code TEXT,
            address TEXT,
            submission_at TIMESTAMP NOT NULL,
            estimated_completion TIMESTAMP NOT NULL,
            network_return_code TEXT,
            created_at TIMESTAMP NOT NULL
        )""",
        (
            "CREATE INDEX external_transfers_source_idx"
            " ON external_transfers (from_account_id, created_at)"
        ),
    ]
