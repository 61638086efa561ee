"""Users, API clients, accounts, the double-entry ledger, payees, outbox, settings.

Ledger conventions: every money movement is one row in `ledger_transactions`
with two or more `postings` whose signed `amount_minor` sum to zero per
currency. A positive posting raises the account's balance. Customer accounts
hold what the bank owes its customers; the bank's own side lives in INTERNAL
accounts (cash vault, clearing, fee income, suspense, equity), whose balances
are the mirror image. Postings are append-only: corrections are new
transactions. PostgreSQL itself refuses an unbalanced transaction (a deferred
constraint trigger checked at commit) and any update or delete of a posting;
SQLite refuses updates and deletes of postings, and the domain asserts the
zero sum before writing on both.
"""

from __future__ import annotations


def _tables(serial_pk: str, now: str) -> list[str]:
    return [
        f"""CREATE TABLE users (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL,
            status TEXT NOT NULL,
            phone TEXT,
            date_of_birth TEXT,
            tax_id TEXT,
            address TEXT,
            created_at TIMESTAMP NOT NULL DEFAULT {now},
            updated_at TIMESTAMP NOT NULL DEFAULT {now},
            last_login_at TIMESTAMP
        )""",
        f"""CREATE TABLE oauth_clients (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            scopes TEXT NOT NULL,
            grant_types TEXT NOT NULL,
            redirect_uris TEXT NOT NULL DEFAULT '[]',
            rate_limits TEXT NOT NULL DEFAULT '{{}}',
            ip_allowlist TEXT NOT NULL DEFAULT '[]',
            require_signing BOOLEAN NOT NULL DEFAULT FALSE,
            sandbox BOOLEAN NOT NULL DEFAULT FALSE,
            active BOOLEAN NOT NULL DEFAULT TRUE,
            created_at TIMESTAMP NOT NULL DEFAULT {now},
            updated_at TIMESTAMP NOT NULL DEFAULT {now}
        )""",
        f"""CREATE TABLE accounts (
            id TEXT PRIMARY KEY,
            account_number TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('CUSTOMER', 'INTERNAL')),
            code TEXT UNIQUE,
            type TEXT NOT NULL,
            currency TEXT NOT NULL,
            owner_id TEXT REFERENCES users (id),
            name TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            balance_minor BIGINT NOT NULL DEFAULT 0,
            held_minor BIGINT NOT NULL DEFAULT 0 CHECK (held_minor >= 0),
            overdraft_limit_minor BIGINT NOT NULL DEFAULT 0 CHECK (overdraft_limit_minor >= 0),
            freeze_reason TEXT,
            created_at TIMESTAMP NOT NULL DEFAULT {now},
            updated_at TIMESTAMP NOT NULL DEFAULT {now},
            closed_at TIMESTAMP
        )""",
        "CREATE INDEX accounts_owner_idx ON accounts (owner_id, created_at)",
        f"""CREATE TABLE ledger_transactions (
            id TEXT PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            status TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
            fee_minor BIGINT NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
            description TEXT NOT NULL DEFAULT '',
            reference TEXT NOT NULL DEFAULT '',
            details TEXT NOT NULL DEFAULT '{{}}',
            created_at TIMESTAMP NOT NULL DEFAULT {now},
            completed_at TIMESTAMP
        )""",
        f"""CREATE TABLE postings (
            id {serial_pk},
            transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
            account_id TEXT NOT NULL REFERENCES accounts (id),
            currency TEXT NOT NULL,
            amount_minor BIGINT NOT NULL CHECK (amount_minor <> 0),
            balance_after_minor BIGINT NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT {now}
        )""",
        "CREATE INDEX postings_transaction_idx ON postings (transaction_id)",
        "CREATE INDEX postings_account_idx ON postings (account_id, id)",
        f"""CREATE TABLE payees (
            id TEXT PRIMARY KEY,
            owner_id TEXT REFERENCES users (id),
            name TEXT NOT NULL,
            type TEXT NOT NULL,
            account_number TEXT NOT NULL DEFAULT '',
            category TEXT NOT NULL DEFAULT '',
            address TEXT,
            created_at TIMESTAMP NOT NULL DEFAULT {now},
            deleted_at TIMESTAMP
        )""",
        f"""CREATE TABLE outbox_events (
            id {serial_pk},
            event_id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            aggregate_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT {now},
            published_at TIMESTAMP
        )""",
        "CREATE INDEX outbox_unpublished_idx ON outbox_events (published_at, id)",
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]


_POSTGRES_GUARDS = [
    """CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE unbalanced TEXT;
    BEGIN
        SELECT currency INTO unbalanced FROM postings
         WHERE transaction_id = NEW.transaction_id
         GROUP BY currency HAVING SUM(amount_minor) <> 0 LIMIT 1;
        IF unbalanced IS NOT NULL THEN
            RAISE EXCEPTION 'ledger transaction %% does not balance in %%',
                NEW.transaction_id, unbalanced USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE CONSTRAINT TRIGGER postings_balanced
        AFTER INSERT ON postings DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()""",
    """CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'postings are append-only' USING ERRCODE = 'restrict_violation';
    END $$""",
    """CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()""",
]

_SQLITE_GUARDS = [
    """CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings
        BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END""",
    """CREATE TRIGGER postings_no_delete BEFORE DELETE ON postings
        BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END""",
]


def statements(dialect: str) -> list[str]:
    if dialect == "postgres":
        return _tables("BIGSERIAL PRIMARY KEY", "(now() AT TIME ZONE 'utc')") + _POSTGRES_GUARDS
    return _tables("INTEGER PRIMARY KEY AUTOINCREMENT", "CURRENT_TIMESTAMP") + _SQLITE_GUARDS
