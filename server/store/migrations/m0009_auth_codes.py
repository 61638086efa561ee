"""Authorization-code flow and client administration.

- `oauth_clients` gains what ClientService shows: `description`,
  `client_type` (CONFIDENTIAL keeps a secret; PUBLIC has none and must use
  PKCE) and `last_used_at` (last token issued or API key used).
- `authorization_codes.family_id`: the refresh family the code's tokens
  belong to, so that a second use of the code revokes what the first one
  issued (RFC 6749 section 4.1.2).
- `sign_in_failures`: wrong passwords typed on the sign-in page; five within
  15 minutes lock the user. Rows older than the window are pruned as new
  ones are written.
- `api_keys_active_slot_idx`: at most one ACTIVE key per client and slot,
  whatever two concurrent requests do.
- `used_csrf_tokens`: anti-forgery tokens of the sign-in page already
  posted, kept until they expire, so that each works once. The tokens
  themselves are stateless (HMAC), so showing the page writes nothing.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    if dialect == "postgres":
        serial_pk = "BIGSERIAL PRIMARY KEY"
    else:
        serial_pk = "INTEGER PRIMARY KEY AUTOINCREMENT"
    return [
        "ALTER TABLE oauth_clients ADD COLUMN description TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE oauth_clients ADD COLUMN client_type TEXT NOT NULL DEFAULT 'CONFIDENTIAL'",
        "ALTER TABLE oauth_clients ADD COLUMN last_used_at TIMESTAMP",
        "CREATE INDEX oauth_clients_created_idx ON oauth_clients (created_at, id)",
        "ALTER TABLE authorization_codes ADD COLUMN family_id TEXT",
        f"""CREATE TABLE sign_in_failures (
            id {serial_pk},
            user_id TEXT NOT NULL REFERENCES users (id),
            created_at TIMESTAMP NOT NULL
        )""",
        "CREATE INDEX sign_in_failures_user_idx ON sign_in_failures (user_id, created_at)",
        (
            "CREATE UNIQUE INDEX api_keys_active_slot_idx ON api_keys (client_id, slot)"
            " WHERE status = 'ACTIVE'"
        ),
        "CREATE INDEX api_keys_client_created_idx ON api_keys (client_id, created_at, id)",
        """CREATE TABLE used_csrf_tokens (
            nonce TEXT PRIMARY KEY,
            expires_at TIMESTAMP NOT NULL
        )""",
    ]
