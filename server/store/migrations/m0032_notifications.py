"""Customer notifications: an outbox of emails and text messages
(server.store.notifications, sent by server.workers.notifications).

- `notifications`: one message to one customer on one channel (EMAIL or
  SMS). `destination`, `body` and `code` hold sealed values (field
  encryption bound to the row id, server.store.sealed); `subject` holds no
  personal data. A row is written in the database transaction of what it
  tells about, so nothing is sent for what rolled back. The worker claims
  due rows by `(channel, next_attempt_at)` among PENDING ones (`FOR UPDATE
  SKIP LOCKED` on PostgreSQL) and leases them by moving `next_attempt_at`
  forward before it sends. `source_event_id` is the outbox event a
  notification was derived from: unique per channel, so deriving one event
  twice (two processes racing) breaks the key instead of sending twice.
- `notification_cursors`: how far the derivation has read `outbox_events`
  (by id), a watermark of its own: the webhook fan-out's `published_at` is
  left alone. It starts at the newest event when the migration runs, so the
  history before it notifies nobody.

Times are real UTC time (naive), as the sender runs on, not the sandbox clock.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    del dialect  # the same on both databases
    return [
        """CREATE TABLE notifications (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            destination TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            code TEXT,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            last_error TEXT,
            next_attempt_at TIMESTAMP,
            sent_at TIMESTAMP,
            created_at TIMESTAMP NOT NULL,
            transaction_id TEXT,
            related_id TEXT,
            source_event_id TEXT
        )""",
        """CREATE INDEX notifications_due_idx
            ON notifications (channel, next_attempt_at) WHERE status = 'PENDING'""",
        "CREATE INDEX notifications_created_idx ON notifications (created_at, id)",
        "CREATE INDEX notifications_user_idx ON notifications (user_id, created_at, id)",
        """CREATE UNIQUE INDEX notifications_source_idx
            ON notifications (source_event_id, channel) WHERE source_event_id IS NOT NULL""",
        """CREATE TABLE notification_cursors (
            name TEXT PRIMARY KEY,
            last_event_id BIGINT NOT NULL,
            updated_at TIMESTAMP NOT NULL
        )""",
        """INSERT INTO notification_cursors (name, last_event_id, updated_at)
            SELECT 'transactions', COALESCE(MAX(id), 0), CURRENT_TIMESTAMP FROM outbox_events""",
    ]
