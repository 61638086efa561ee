"""Step-up verification (server.store.challenge_rows).

- `challenges`: one held movement waiting for its person's code. It keeps
  the request as made (`method`: the RPC's full name, `request`: the
  serialized proto as base64 text, `idempotency_key` when one was sent) and
  who made it (`user_id`, `client_id`). `code_hash` is a keyed hash of the
  one-time code sent by email or SMS (never the code). `status` moves once
  from PENDING to VERIFIED (claimed by a conditional UPDATE in the database
  transaction that runs the request), FAILED (the 5th wrong code) or EXPIRED;
  a VERIFIED row keeps the answer it gave (`response` base64, or `error` as JSON),
  which later verifications of it repeat. `expires_at` is on the sandbox
  clock; `created_at` too.
- `totp_enrollments`: a person's authenticator app, `id` the user's id.
  `secret` is sealed (field encryption bound to the row id, resealed by
  `rotate-keys` as every sealed column: server.store.sealed);
  `confirmed_at` is set once a code from the app was accepted;
  `last_step` is the last 30-second step whose code was used, so that one
  code never answers twice.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        """CREATE TABLE challenges (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            client_id TEXT NOT NULL,
            method TEXT NOT NULL,
            request TEXT NOT NULL,
            idempotency_key TEXT,
            account_id TEXT NOT NULL,
            amount_minor BIGINT NOT NULL,
            currency TEXT NOT NULL,
            methods TEXT NOT NULL,
            code_hash TEXT,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL,
            verified_at TIMESTAMP,
            http_status INTEGER,
            message TEXT,
            response TEXT,
            error TEXT
        )""",
        "CREATE INDEX challenges_user_idx ON challenges (user_id, created_at)",
        """CREATE TABLE totp_enrollments (
            id TEXT PRIMARY KEY,
            secret TEXT NOT NULL,
            confirmed_at TIMESTAMP,
            attempts INTEGER NOT NULL,
            last_step BIGINT,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL
        )""",
    ]
