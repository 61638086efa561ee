"""Fraud screening (server.services.screening, risk.proto).

- `risk_rules`: the rules, as data (kind, action, score, enabled and the
  kind's parameters; amounts in minor units of `currency`).
- `risk_velocity`: per account, one counter row per sixth of a velocity
  window (`bucket` = unix seconds // `bucket_seconds`): how many debits and
  how much. Screening adds to the current row with INSERT ... ON CONFLICT DO
  UPDATE ... RETURNING, so concurrent debits of one account each see the
  count their own increment made. Rows older than the longest window are
  pruned by screening itself, a few at a time.
- `risk_decisions`: every decision. ALLOW rows are compact (no rule, no
  fired list); `fired` lists every rule that fired (`rsk_...:ACTION`).
- `risk_alerts`: movements held for review (OPEN, then APPROVED or REJECTED
  once: the change is a conditional UPDATE on `status`).
- `risk_devices`: the device ids each user has been seen with (a SHA-256
  of the header, never the header itself).
- `risk_trusted_clients`: service clients whose own calls skip velocity.

Changing a rule or a client's trust announces a credential change (the
triggers of m0022), so every process reads the rules again on its next
screening.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    big = "BIGINT"
    made = [
        f"""CREATE TABLE risk_rules (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            action TEXT NOT NULL,
            score INTEGER NOT NULL,
            enabled BOOLEAN NOT NULL,
            window_seconds INTEGER,
            max_count INTEGER,
            amount_minor {big},
            history_multiple INTEGER,
            history_size INTEGER,
            currency TEXT NOT NULL,
            description TEXT,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL
        )""",
        f"""CREATE TABLE risk_velocity (
            account_id TEXT NOT NULL,
            bucket_seconds INTEGER NOT NULL,
            bucket {big} NOT NULL,
            debits INTEGER NOT NULL,
            amount_minor {big} NOT NULL,
            PRIMARY KEY (account_id, bucket_seconds, bucket)
        )""",
        f"""CREATE TABLE risk_decisions (
            id {"BIGSERIAL" if dialect == "postgres" else "INTEGER"} PRIMARY KEY,
            created_at TIMESTAMP NOT NULL,
            account_id TEXT NOT NULL,
            movement TEXT NOT NULL,
            amount_minor {big} NOT NULL,
            currency TEXT NOT NULL,
            decision TEXT NOT NULL,
            rule_id TEXT,
            score INTEGER NOT NULL,
            fired TEXT,
            client_id TEXT,
            user_id TEXT,
            alert_id TEXT
        )""",
        "CREATE INDEX risk_decisions_account_idx ON risk_decisions (account_id, created_at)",
        f"""CREATE TABLE risk_alerts (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            transaction_id TEXT NOT NULL UNIQUE,
            account_id TEXT NOT NULL,
            transaction_type TEXT NOT NULL,
            amount_minor {big} NOT NULL,
            currency TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            rule_kind TEXT NOT NULL,
            score INTEGER NOT NULL,
            fired TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL,
            decided_at TIMESTAMP,
            decided_by TEXT,
            note TEXT
        )""",
        "CREATE INDEX risk_alerts_queue_idx ON risk_alerts (status, created_at, id)",
        "CREATE INDEX risk_alerts_created_idx ON risk_alerts (created_at, id)",
        # NEW_PAYEE_AMOUNT: has this account paid that destination before?
        """CREATE INDEX ledger_transactions_pair_idx
            ON ledger_transactions (from_account_id, to_account_id)""",
        """CREATE TABLE risk_devices (
            user_id TEXT NOT NULL,
            device_hash TEXT NOT NULL,
            first_seen TIMESTAMP NOT NULL,
            PRIMARY KEY (user_id, device_hash)
        )""",
        """CREATE TABLE risk_trusted_clients (
            client_id TEXT PRIMARY KEY,
            trusted_at TIMESTAMP NOT NULL,
            trusted_by TEXT NOT NULL
        )""",
    ]
    for table in ("risk_rules", "risk_trusted_clients"):
        if dialect == "postgres":
            made.append(
                f"CREATE TRIGGER {table}_credentials_changed"
                f" AFTER INSERT OR UPDATE OR DELETE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION bank_credentials_changed()"
            )
        else:
            made.extend(
                f"CREATE TRIGGER {table}_credentials_changed_{number} AFTER {event} ON {table}"
                " BEGIN UPDATE credentials_version SET version = version + 1 WHERE id = 1; END"
                for number, event in enumerate(("INSERT", "UPDATE", "DELETE"))
            )
    return made
