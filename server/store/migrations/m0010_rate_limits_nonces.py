"""Rate-limit counters, used request-signature nonces, clients' signing secrets.

- `rate_limit_counters`: one row per (client, limit class, fixed window),
  keyed `<client>:<class>:<window start>`; `count` is the units granted in
  the window so far, `granted` what the last increment granted (read back in
  the same statement, so the grant is atomic). Rows are pruned after
  `expires_at`. On PostgreSQL the table is UNLOGGED: counters are not worth
  a WAL write per call, and a crash only resets the windows in progress.
  Unused when REDIS_URL is set (the counters then live in Redis).
- `used_nonces`: every nonce a signed request was accepted with, per client,
  kept until its timestamp can no longer be accepted (`expires_at`), so
  that no signed request is ever accepted twice.
- `client_signing_secrets`: the HMAC key of each client that signs its
  requests, sealed (AES-GCM, `server.crypto.fields`) and bound to its row;
  `id` is the client id.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    unlogged = "UNLOGGED " if dialect == "postgres" else ""
    return [
        f"""CREATE {unlogged}TABLE rate_limit_counters (
            key TEXT PRIMARY KEY,
            count BIGINT NOT NULL,
            granted BIGINT NOT NULL,
            expires_at TIMESTAMP NOT NULL
        )""",
        "CREATE INDEX rate_limit_counters_expires_idx ON rate_limit_counters (expires_at)",
        """CREATE TABLE used_nonces (
            client_id TEXT NOT NULL,
            nonce TEXT NOT NULL,
            expires_at TIMESTAMP NOT NULL,
            PRIMARY KEY (client_id, nonce)
        )""",
        "CREATE INDEX used_nonces_expires_idx ON used_nonces (expires_at)",
        """CREATE TABLE client_signing_secrets (
            id TEXT PRIMARY KEY REFERENCES oauth_clients (id),
            secret TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL
        )""",
    ]
