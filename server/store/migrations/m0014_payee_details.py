"""Payees as PayeeService serves them: a nickname, a sealed account number.

- `payees.nickname`: the owner's label (payee.proto), NULL when not given.
- `payees.account_number` now holds the customer's number at the payee
  sealed (`enc:v1:...`, server.store.sealed.PAYEE_ACCOUNT_NUMBER): the bank
  must send it to the payee in full, so it is encrypted, not hashed. Its
  last four characters, all a response ever shows, are kept readable in
  `payees.account_number_last4`, filled here from the rows stored before
  (the sandbox's billers, in plaintext with dashes, which are dropped as
  CreatePayee drops them). Sealing needs the keys, which SQL does not have:
  `python -m server setup` seals the plaintext numbers right after migrating.
- `payees_owner_name_idx`: a customer's list (own payees and the bank-wide
  billers, by name) and the duplicate check read one owner's rows.
"""

from __future__ import annotations

_PLAIN = "replace(replace(account_number, '-', ''), ' ', '')"


def statements(dialect: str) -> list[str]:
    last4 = f"right({_PLAIN}, 4)" if dialect == "postgres" else f"substr({_PLAIN}, -4)"
    return [
        "ALTER TABLE payees ADD COLUMN nickname TEXT",
        "ALTER TABLE payees ADD COLUMN account_number_last4 TEXT NOT NULL DEFAULT ''",
        (
            f"UPDATE payees SET account_number = {_PLAIN}, account_number_last4 = {last4}"
            " WHERE substr(account_number, 1, 4) <> 'enc:'"
        ),
        "CREATE INDEX payees_owner_name_idx ON payees (owner_id, name)",
    ]
