"""OAuth 2.0 and API keys: signing keys, refresh tokens, revocations, codes, keys.

- `signing_keys`: the JWT signing keys (ES256), each with a key id; the
  private key is stored encrypted with a local key file; retired keys keep
  verifying until the tokens they signed have expired.
- `refresh_tokens`: opaque tokens stored as SHA-256; each belongs to a family
  (one grant). Using one rotates it; using a rotated one again revokes the
  whole family (RFC 6819 section 5.2.2.3).
- `revocations`: what makes an access token stop working at once: its `jti`,
  its refresh family, or its subject (every token issued before a time).
- `authorization_codes`: single-use codes of the authorization code flow.
- `api_keys`: primary and secondary keys per client, stored as SHA-256.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        """CREATE TABLE signing_keys (
            kid TEXT PRIMARY KEY,
            algorithm TEXT NOT NULL,
            private_key TEXT NOT NULL,
            public_jwk TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL,
            retired_at TIMESTAMP
        )""",
        """CREATE TABLE refresh_tokens (
            id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            family_id TEXT NOT NULL,
            client_id TEXT NOT NULL REFERENCES oauth_clients (id),
            user_id TEXT REFERENCES users (id),
            scopes TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL,
            used_at TIMESTAMP
        )""",
        "CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)",
        """CREATE TABLE revocations (
            key TEXT PRIMARY KEY,
            revoked_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL
        )""",
        """CREATE TABLE authorization_codes (
            code_hash TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES oauth_clients (id),
            user_id TEXT NOT NULL REFERENCES users (id),
            redirect_uri TEXT NOT NULL,
            scopes TEXT NOT NULL,
            code_challenge TEXT NOT NULL DEFAULT '',
            created_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL,
            used_at TIMESTAMP
        )""",
        """CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES oauth_clients (id),
            slot TEXT NOT NULL,
            prefix TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            last4 TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL,
            revoked_at TIMESTAMP,
            last_used_at TIMESTAMP
        )""",
        "CREATE INDEX api_keys_client_idx ON api_keys (client_id, status)",
    ]
