"""Field-level encryption of users' personal data.

- `users.tax_id_last4`: the last four digits of the tax id, readable without
  a key, which is all a response ever shows. Filled here from the legacy
  sealed form `v1:<last4>:<blob>` (the digits were already in clear there).
- `users.tax_id`, `users.phone`, `users.date_of_birth` keep their columns
  and now hold `enc:v1:<kid>:<blob>` (server.crypto.fields). Sealing needs
  the keys, which SQL does not have: `python -m server setup` seals what
  earlier versions stored (legacy tax ids, plaintext phones and dates of
  birth) right after migrating; until then those values still read.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        "ALTER TABLE users ADD COLUMN tax_id_last4 TEXT",
        "UPDATE users SET tax_id_last4 = substr(tax_id, 4, 4) WHERE substr(tax_id, 1, 3) = 'v1:'",
    ]
