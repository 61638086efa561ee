"""Rows of customer notifications (m0032): enqueueing, claiming, recording
attempts, listing for the sandbox inbox; typed records out.

`enqueue` is what other features call (usually through
server.store.notification_recipients.enqueue_for_user, which finds the
user's address and phone), inside the database transaction of the change a
message tells about (a challenge, a dispute): the row exists exactly when
that change was committed, and the worker sends it later.
`destination`, `body` and `code` are sealed (server.store.sealed) and never
logged.

Claims lock with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several server
processes never send one message at once; SQLite serialises writers anyway.
A claimed message is leased: its `next_attempt_at` moves to the end of the
lease in the claiming transaction, so it stays out of every other claim
while it is sent and comes back by itself when the process that took it
dies (at least once). Recording is conditional on the attempt count the
claim read, so a late sender cannot record one attempt twice.

All times are real UTC time (naive), not the sandbox clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee

from server.crypto.fields import FieldSealer
from server.domain import errors
from server.domain import notifications as rules
from server.domain.ids import new_id
from server.store import sealed, sql
from server.store.db import is_postgres
from server.store.models import BaseModel

# Kept after sending in production instead of a body that carried a code.
REDACTED_BODY = "(removed after sending: it carried a one-time code)"


class NotificationRow(BaseModel):
    id = peewee.TextField(primary_key=True)
    user_id = peewee.TextField()
    channel = peewee.TextField()  # EMAIL, SMS
    destination = peewee.TextField()  # sealed
    kind = peewee.TextField()
    subject = peewee.TextField()
    body = peewee.TextField()  # sealed
    code = peewee.TextField(null=True)  # sealed
    status = peewee.TextField()  # PENDING, SENT, FAILED
    attempts = peewee.IntegerField()
    last_error = peewee.TextField(null=True)
    next_attempt_at = peewee.DateTimeField(null=True)
    sent_at = peewee.DateTimeField(null=True)
    created_at = peewee.DateTimeField()
    transaction_id = peewee.TextField(null=True)
    related_id = peewee.TextField(null=True)
    source_event_id = peewee.TextField(null=True)

    class Meta:
        table_name = "notifications"


@dataclass(frozen=True, slots=True)
class Draft:
    """One message to write."""

    user_id: str
    channel: str
    destination: str
    kind: str
    message: rules.Message
    code: str | None = None
    transaction_id: str | None = None
    related_id: str | None = None
    source_event_id: str | None = None


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """A message with its sealed fields opened."""

    id: str
    user_id: str
    channel: str
    destination: str
    kind: str
    subject: str
    body: str
    code: str | None
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    created_at: datetime
    transaction_id: str | None
    related_id: str | None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[NotificationRecord]
    total: int
    next_key: list[Any] | None


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def enqueue(
    sealer: FieldSealer,
    *,
    user_id: str,
    channel: str,
    destination: str,
    kind: str,
    message: rules.Message,
    code: str | None = None,
    transaction_id: str | None = None,
    related_id: str | None = None,
) -> str:
    """Writes one PENDING message, due at once; its id. Call inside the
    transaction of what it tells about."""
    draft = Draft(user_id, channel, destination, kind, message, code, transaction_id, related_id)
    return enqueue_many(sealer, [draft])[0]


def enqueue_many(sealer: FieldSealer, drafts: Sequence[Draft]) -> list[str]:
    """Writes PENDING messages in one statement; their ids."""
    at = now()
    records = []
    for draft in drafts:
        assert draft.channel in rules.CHANNELS and draft.kind in rules.KINDS, draft
        assert draft.destination, "a message needs a destination"
        row_id = new_id("ntf")
        records.append(
            {
                "id": row_id,
                "user_id": draft.user_id,
                "channel": draft.channel,
                "destination": sealed.seal(
                    sealer, sealed.NOTIFICATION_DESTINATION, row_id, draft.destination
                ),
                "kind": draft.kind,
                "subject": draft.message.subject,
                "body": sealed.seal(sealer, sealed.NOTIFICATION_BODY, row_id, draft.message.body),
                "code": sealed.seal(sealer, sealed.NOTIFICATION_CODE, row_id, draft.code),
                "status": rules.PENDING,
                "attempts": 0,
                "last_error": None,
                "next_attempt_at": at,
                "sent_at": None,
                "created_at": at,
                "transaction_id": draft.transaction_id,
                "related_id": draft.related_id,
                "source_event_id": draft.source_event_id,
            }
        )
    for start in range(0, len(records), 200):
        sql.insert(NotificationRow, records[start : start + 200])
    return [str(record["id"]) for record in records]


def _record(sealer: FieldSealer, row: NotificationRow) -> NotificationRecord:
    def opened(column: sealed.SealedColumn, value: str | None) -> str | None:
        return sealed.open_value(sealer, column, row.id, value)

    return NotificationRecord(
        id=row.id,
        user_id=row.user_id,
        channel=row.channel,
        destination=opened(sealed.NOTIFICATION_DESTINATION, row.destination) or "",
        kind=row.kind,
        subject=row.subject,
        body=opened(sealed.NOTIFICATION_BODY, row.body) or "",
        code=opened(sealed.NOTIFICATION_CODE, row.code),
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        created_at=row.created_at,
        transaction_id=row.transaction_id,
        related_id=row.related_id,
    )


# -- Claiming and recording --------------------------------------------------------------
def any_due(channels: Sequence[str], at: datetime) -> bool:
    """Whether a claim at `at` would find something: read without a write
    transaction, so an idle worker never takes SQLite's write lock."""
    if not channels:
        return False
    query = (
        NotificationRow.select(NotificationRow.id)
        .where(
            (NotificationRow.status == rules.PENDING)
            & NotificationRow.channel.in_(list(channels))
            & (NotificationRow.next_attempt_at <= at)
        )
        .limit(1)
    )
    return query.exists()


def claim(
    sealer: FieldSealer, channels: Sequence[str], at: datetime, limit: int, lease: timedelta
) -> list[NotificationRecord]:
    """Up to `limit` due PENDING messages of `channels`, soonest first, leased
    until `at + lease`; call in a transaction (notifications_due_idx)."""
    if not channels or limit <= 0:
        return []
    query = (
        NotificationRow.select()
        .where(
            (NotificationRow.status == rules.PENDING)
            & NotificationRow.channel.in_(list(channels))
            & (NotificationRow.next_attempt_at <= at)
        )
        .order_by(NotificationRow.next_attempt_at)
        .limit(limit)
    )
    if is_postgres():
        query = query.for_update(skip_locked=True)
    rows = list(query)
    if rows:
        NotificationRow.update(next_attempt_at=at + lease).where(
            NotificationRow.id.in_([row.id for row in rows])
        ).execute()
    return [_record(sealer, row) for row in rows]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt ended in: `error` None when sent; `permanent` when
    retrying cannot help (a recipient refused for good)."""

    error: str | None = None
    permanent: bool = False


def record(
    sealer: FieldSealer,
    results: Sequence[tuple[NotificationRecord, Outcome]],
    at: datetime,
    keep_codes: bool,
) -> list[bool]:
    """Each claimed message's attempt: SENT, PENDING again after its backoff,
    or FAILED; whether it was written (not when another sender recorded that
    attempt first). Without `keep_codes` (production) a sent message's code,
    and the body that carried it, are not kept."""
    written = []
    for item, outcome in results:
        attempts = item.attempts + 1
        changes: dict[Any, Any] = {NotificationRow.attempts: attempts}
        if outcome.error is None:
            changes.update(
                {
                    NotificationRow.status: rules.SENT,
                    NotificationRow.sent_at: at,
                    NotificationRow.next_attempt_at: None,
                    NotificationRow.last_error: None,
                }
            )
            if item.code is not None and not keep_codes:
                body = sealed.seal(sealer, sealed.NOTIFICATION_BODY, item.id, REDACTED_BODY)
                changes.update({NotificationRow.code: None, NotificationRow.body: body})
        elif rules.gives_up(attempts, outcome.permanent):
            changes.update(
                {
                    NotificationRow.status: rules.FAILED,
                    NotificationRow.next_attempt_at: None,
                    NotificationRow.last_error: outcome.error[:500],
                }
            )
        else:
            changes.update(
                {
                    NotificationRow.next_attempt_at: at + rules.backoff(attempts),
                    NotificationRow.last_error: outcome.error[:500],
                }
            )
        updated = (
            NotificationRow.update(changes)
            .where(
                (NotificationRow.id == item.id)
                & (NotificationRow.attempts == item.attempts)
                & (NotificationRow.status == rules.PENDING)
            )
            .execute()
        )
        written.append(bool(updated))
    return written


def prune(before: datetime, batch: int = 5_000) -> int:
    """Deletes up to `batch` SENT or FAILED messages written before `before`; how many."""
    doomed = [
        row.id
        for row in NotificationRow.select(NotificationRow.id)
        .where(
            NotificationRow.status.in_([rules.SENT, rules.FAILED])
            & (NotificationRow.created_at < before)
        )
        .limit(batch)
    ]
    if doomed:
        NotificationRow.delete().where(NotificationRow.id.in_(doomed)).execute()
    return len(doomed)


# -- Reading -----------------------------------------------------------------------------
def _position(after: list[Any]) -> tuple[datetime, str]:
    try:
        if len(after) != 2 or not all(isinstance(part, str) for part in after):
            raise ValueError("shape")
        return datetime.fromisoformat(after[0]), after[1]
    except ValueError:
        raise errors.ValidationFailed("page_token is not valid", field="page_token") from None


def list_page(
    sealer: FieldSealer,
    *,
    user_id: str | None,
    channel: str | None,
    kind: str | None,
    limit: int,
    offset: int,
    after: list[Any] | None,
) -> Page:
    """Messages newest first (then by id, descending), by offset or after a position."""
    base = NotificationRow.select()
    if user_id is not None:
        base = base.where(NotificationRow.user_id == user_id)
    if channel is not None:
        base = base.where(NotificationRow.channel == channel)
    if kind is not None:
        base = base.where(NotificationRow.kind == kind)
    total = base.count()
    select = base
    if after is not None:
        at, last = _position(after)
        created = NotificationRow.created_at
        select = select.where((created < at) | ((created == at) & (NotificationRow.id < last)))
    else:
        select = select.offset(offset)
    rows = list(
        select.order_by(NotificationRow.created_at.desc(), NotificationRow.id.desc()).limit(
            limit + 1
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    next_key = [rows[-1].created_at.isoformat(), rows[-1].id] if more and rows else None
    return Page([_record(sealer, row) for row in rows], total, next_key)


def get(sealer: FieldSealer, notification_id: str) -> NotificationRecord | None:
    row = NotificationRow.get_or_none(NotificationRow.id == notification_id)
    return _record(sealer, row) if row is not None else None
