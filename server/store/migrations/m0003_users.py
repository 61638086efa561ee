"""Users: password reset tokens, deactivation records, list indexes.

- `password_reset_tokens`: one row per reset requested. Only the SHA-256 of
  the token is kept (the token itself carries 256 random bits, so a fast hash
  is enough and lets the confirm step find the row by equality). A token is
  usable while `used_at` is NULL and `expires_at` is in the future; claiming
  it sets `used_at` in the same statement that checks both, so it works once.
- `user_deactivations`: who deactivated a user, when and why (the reason
  DeleteUser takes), kept until the audit log takes this over.
- `users_created_idx`: the default list order (newest first) and its keyset
  cursor read this index.
"""

from __future__ import annotations


def _common(serial_pk: str, now: str) -> list[str]:
    return [
        f"""CREATE TABLE password_reset_tokens (
            id {serial_pk},
            token_hash TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL REFERENCES users (id),
            created_at TIMESTAMP NOT NULL DEFAULT {now},
            expires_at TIMESTAMP NOT NULL,
            used_at TIMESTAMP
        )""",
        "CREATE INDEX password_reset_tokens_user_idx ON password_reset_tokens (user_id, used_at)",
        f"""CREATE TABLE user_deactivations (
            id {serial_pk},
            user_id TEXT NOT NULL REFERENCES users (id),
            reason TEXT NOT NULL DEFAULT '',
            actor_client_id TEXT NOT NULL,
            actor_user_id TEXT,
            created_at TIMESTAMP NOT NULL DEFAULT {now}
        )""",
        "CREATE INDEX user_deactivations_user_idx ON user_deactivations (user_id, created_at)",
        "CREATE INDEX users_created_idx ON users (created_at, id)",
    ]


def statements(dialect: str) -> list[str]:
    if dialect == "postgres":
        return _common("BIGSERIAL PRIMARY KEY", "(now() AT TIME ZONE 'utc')")
    return _common("INTEGER PRIMARY KEY AUTOINCREMENT", "CURRENT_TIMESTAMP")
