"""Every change that can make a credential stop working is announced by the database.

Server processes keep verified access tokens, API keys, client policies and
the sandbox clock in memory (`server.store.credential_changes`). What makes
them stale is a write to one of these, and the database itself says so, in
the writing transaction, whoever writes (an API call, a command, an operator
with psql):

- `revocations` (a token, grant, user or client revoked: sign-out, lock,
  role change, deactivation, password reset, client disabled or narrowed);
- `oauth_clients`: a client created or deleted, or one of the columns a
  credential or a policy is built from changed (`scopes`, `active`,
  `sandbox`, `rate_limits`, `ip_allowlist`, `require_signing`); its
  `last_used_at` hint is not one of them, so using a client changes nothing;
- `api_keys`: a key revoked, re-hashed, moved or deleted (a new key makes
  nothing stale; its `last_used_at` hint neither);
- `client_signing_secrets`: a signing secret issued, re-sealed or removed;
- `settings` (the sandbox clock offset);
- `signing_keys`: a key deleted (retiring one keeps its tokens valid).

PostgreSQL: a trigger sends `NOTIFY bank_credentials` with the next number
of `credential_changes_seq`; it is delivered to every listening process
when the transaction commits, and not at all if it rolls back. Each
process's listener records in `credential_listeners` (one row per listening
connection, by backend pid) the highest number it has acted on, so that the
process that made a change can wait, before it answers, until every live
listener has. SQLite (one host): the triggers add one to the single row of
`credentials_version`, which each call reads (one indexed read of a local
file) instead of the rows it stands for.

A new column that a credential or policy is built from must be added to the
column lists here (a new migration).
"""

from __future__ import annotations

CHANNEL = "bank_credentials"

# (table, the events that make cached credentials stale).
_WATCHED = (
    ("revocations", ("INSERT", "UPDATE", "DELETE")),
    (
        "oauth_clients",
        (
            "INSERT",
            "DELETE",
            "UPDATE OF scopes, active, sandbox, rate_limits, ip_allowlist, require_signing",
        ),
    ),
    ("api_keys", ("DELETE", "UPDATE OF status, key_hash, client_id")),
    ("client_signing_secrets", ("INSERT", "UPDATE", "DELETE")),
    ("settings", ("INSERT", "UPDATE", "DELETE")),
    ("signing_keys", ("DELETE",)),
)


def _postgres() -> list[str]:
    statements = [
        "CREATE SEQUENCE credential_changes_seq",
        (
            "CREATE TABLE credential_listeners ("
            " backend_pid INTEGER PRIMARY KEY, acknowledged BIGINT NOT NULL,"
            " updated_at TIMESTAMP NOT NULL)"
        ),
        f"""CREATE FUNCTION bank_credentials_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', nextval('credential_changes_seq')::text);
            RETURN NULL;
        END
        $$""",
    ]
    for table, events in _WATCHED:
        statements.append(
            f"CREATE TRIGGER {table}_credentials_changed"
            f" AFTER {' OR '.join(events)} ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION bank_credentials_changed()"
        )
    return statements


def _sqlite() -> list[str]:
    statements = [
        (
            "CREATE TABLE credentials_version ("
            " id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)"
        ),
        "INSERT INTO credentials_version (id, version) VALUES (1, 0)",
    ]
    for table, events in _WATCHED:
        for number, event in enumerate(events):
            statements.append(
                f"CREATE TRIGGER {table}_credentials_changed_{number} AFTER {event} ON {table}"
                " BEGIN UPDATE credentials_version SET version = version + 1 WHERE id = 1; END"
            )
    return statements


def statements(dialect: str) -> list[str]:
    return _postgres() if dialect == "postgres" else _sqlite()
