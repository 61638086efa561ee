"""A posting's currency is its account's: the database refuses any other.

The bank's internal accounts now exist once per currency
(`server.store.bootstrap`), so no posting needs to land on an account of
another currency, and none may: an account's balance is a sum of its
postings and must never mix currencies. Before this, a EUR deposit posted
its EUR leg to the USD cash vault.

- PostgreSQL: postings reference `(accounts.id, accounts.currency)` instead
  of `accounts.id` alone (one index probe per posting, as before). The
  constraint is added NOT VALID: rows already written by an older version
  are not re-checked (they cannot be edited; postings are append-only), every
  new row is.
- SQLite: a trigger refuses such a posting (SQLite cannot add a constraint to
  an existing table).

The internal accounts of the other currencies are created by
`python -m server setup` (`bootstrap.ensure_internal_accounts`), which runs
after the migrations.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    if dialect == "postgres":
        return [
            "CREATE UNIQUE INDEX accounts_id_currency_key ON accounts (id, currency)",
            "ALTER TABLE postings DROP CONSTRAINT IF EXISTS postings_account_id_fkey",
            (
                "ALTER TABLE postings ADD CONSTRAINT postings_account_currency_fkey"
                " FOREIGN KEY (account_id, currency) REFERENCES accounts (id, currency)"
                " NOT VALID"
            ),
        ]
    return [
        """CREATE TRIGGER postings_currency_matches_account BEFORE INSERT ON postings
        WHEN NEW.currency IS NOT (SELECT currency FROM accounts WHERE id = NEW.account_id)
        BEGIN
            SELECT RAISE(ABORT, 'a posting''s currency must be its account''s');
        END""",
    ]
