"""Webhook subscriptions, their deliveries and each delivery attempt
(webhook_service.proto; rules in server.domain.webhooks, delivery by
server.workers.webhooks).

- `webhook_subscriptions`: one subscription, owned by the API client that
  made it (`client_id`). `events` is a JSON list of event types (or `["*"]`).
  The signing secret is sealed (`enc:v1:...`, bound to the row) in `secret`;
  after a rotation the old one stays in `previous_secret` until
  `previous_secret_expires_at`. `failing_since` is when the current run of
  failed attempts began (NULL while deliveries succeed); a subscription that
  fails for too long is made inactive with `disabled_reason` and
  `disabled_at`.
- `webhook_deliveries`: one event to one subscription, over all its
  attempts; the worker claims due rows by `(status, next_attempt_at)`, or
  subscription by subscription (`webhook_deliveries_due_by_webhook_idx`),
  (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and leases them by moving
  `next_attempt_at` forward before it sends, so a worker that dies
  mid-flight leaves the row to be sent again, with the same event id, once
  the lease has passed. `(event_id, webhook_id)` is unique among first
  deliveries (`redelivery_of` NULL): fanning one event out twice, by two
  racing workers, breaks the key instead of sending twice.
- `webhook_attempts`: one row per attempt (the delivery log).
- `outbox_events.published_at` (m0001) marks an event fanned out to the
  subscriptions active at that moment.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        """CREATE TABLE webhook_subscriptions (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            description TEXT,
            active BOOLEAN NOT NULL,
            secret TEXT NOT NULL,
            previous_secret TEXT,
            previous_secret_expires_at TIMESTAMP,
            failing_since TIMESTAMP,
            disabled_reason TEXT,
            disabled_at TIMESTAMP,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL
        )""",
        """CREATE INDEX webhook_subscriptions_client_idx
            ON webhook_subscriptions (client_id, created_at, id)""",
        """CREATE TABLE webhook_deliveries (
            id TEXT PRIMARY KEY,
            event_id TEXT NOT NULL,
            event_type TEXT NOT NULL,
            webhook_id TEXT NOT NULL,
            status TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            response_code INTEGER NOT NULL,
            response_body_excerpt TEXT,
            error TEXT,
            duration_ms INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL,
            last_attempt_at TIMESTAMP,
            next_attempt_at TIMESTAMP,
            delivered_at TIMESTAMP,
            redelivery_of TEXT
        )""",
        "CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at)",
        """CREATE INDEX webhook_deliveries_webhook_idx
            ON webhook_deliveries (webhook_id, created_at, id)""",
        """CREATE INDEX webhook_deliveries_due_by_webhook_idx
            ON webhook_deliveries (webhook_id, next_attempt_at)
            WHERE status IN ('PENDING', 'FAILED')""",
        """CREATE UNIQUE INDEX webhook_deliveries_first_idx
            ON webhook_deliveries (event_id, webhook_id) WHERE redelivery_of IS NULL""",
        """CREATE TABLE webhook_attempts (
            id TEXT PRIMARY KEY,
            delivery_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            response_code INTEGER NOT NULL,
            response_body_excerpt TEXT,
            error TEXT,
            duration_ms INTEGER NOT NULL,
            attempted_at TIMESTAMP NOT NULL,
            next_attempt_at TIMESTAMP
        )""",
        "CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt)",
        "CREATE INDEX outbox_events_created_idx ON outbox_events (created_at, id)",
    ]
