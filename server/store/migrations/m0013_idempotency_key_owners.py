"""Idempotency keys belong to the caller: the client and, for a person's token, the person.

Keys were unique per client, so every user of one OAuth client shared them:
one customer sending another's key and body was answered the other's stored
response, and a key one used first made the other's request fail with 409.
`user_id` now takes part in the key: the person's id, or "" for a client
acting for itself.

Rows stored before are marked `*` (server.store.idempotency.LEGACY_OWNER):
whose they were is not known, and answering a retry from them, as before,
for the 24 hours they live at most is safer than running it again and moving
the money twice.
"""

from __future__ import annotations

_REST = "key, method, request_hash, response, http_status, message, error, created_at, expires_at"


def statements(dialect: str) -> list[str]:
    if dialect == "postgres":
        return [
            "ALTER TABLE idempotency_keys ADD COLUMN user_id TEXT NOT NULL DEFAULT '*'",
            "ALTER TABLE idempotency_keys ALTER COLUMN user_id DROP DEFAULT",
            "ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey",
            "ALTER TABLE idempotency_keys ADD PRIMARY KEY (client_id, key, user_id)",
        ]
    # SQLite cannot change a primary key: the table is made again.
    return [
        """CREATE TABLE idempotency_keys_m0013 (
            client_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            key TEXT NOT NULL,
            method TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            response BLOB,
            http_status INTEGER NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            error TEXT,
            created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
            expires_at TIMESTAMP NOT NULL,
            PRIMARY KEY (client_id, key, user_id)
        )""",
        (
            f"INSERT INTO idempotency_keys_m0013 (client_id, user_id, {_REST})"
            f" SELECT client_id, '*', {_REST} FROM idempotency_keys"
        ),
        "DROP TABLE idempotency_keys",
        "ALTER TABLE idempotency_keys_m0013 RENAME TO idempotency_keys",
        "CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at)",
    ]
