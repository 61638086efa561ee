"""Rows of webhook delivery (m0023): fanning outbox events out, claiming due
deliveries, recording attempts, pruning old ones.

Claims lock with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers
never take one outbox event or one delivery at once; SQLite serialises
writers anyway. A claimed delivery is leased: its `next_attempt_at` moves
to the end of the lease in the claiming transaction, so the row stays out
of every other claim while it is sent, and comes back by itself when the
worker that took it dies. Recording an attempt is conditional on the
attempt count the claim read, so a late worker whose lease passed cannot
record one attempt twice.

All times here are real UTC time (naive), not the sandbox clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from server.domain.ids import new_id
from server.domain.webhook_delivery import DEAD, DUE_STATUSES, PENDING, SUCCEEDED
from server.store import sql
from server.store.db import is_postgres
from server.store.models import OutboxEvent
from server.store.webhook_models import WebhookAttempt, WebhookDeliveryRow, WebhookSubscription

PRUNE_BATCH = 5_000
FINISHED_STATUSES = (SUCCEEDED, DEAD)


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    """What delivery needs of a subscription (secrets still sealed)."""

    id: str
    url: str
    events: tuple[str, ...]
    active: bool
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    failing_since: datetime | None


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A claimed delivery: `attempt` attempts made so far."""

    id: str
    event_id: str
    webhook_id: str
    attempt: int


def _subscription(row: WebhookSubscription) -> SubscriptionRecord:
    return SubscriptionRecord(
        id=row.id,
        url=row.url,
        events=tuple(json.loads(row.events)),
        active=bool(row.active),
        secret=row.secret,
        previous_secret=row.previous_secret,
        previous_secret_expires_at=row.previous_secret_expires_at,
        failing_since=row.failing_since,
    )


def among(column: str, values: Sequence[object]) -> tuple[str, list[object]]:
    """`column` is one of `values`: on PostgreSQL one array parameter, so the
    statement has one text (one prepared statement) however many there are;
    on SQLite a placeholder each."""
    if is_postgres():
        return f'"{column}" = ANY(?)', [list(values)]
    return f'"{column}" IN ({sql.marks(len(values))})', list(values)


_SUBSCRIPTIONS_TEXT = (
    f'SELECT {sql.column_list(WebhookSubscription)} FROM "webhook_subscriptions" WHERE {{where}}'
)


def timestamp(value: datetime | None) -> object:
    return WebhookDeliveryRow.last_attempt_at.db_value(value)


# -- Fan-out ---------------------------------------------------------------------------
_PUBLISH_TEXT = (
    'UPDATE "outbox_events" SET "published_at" = ? WHERE "id" IN (SELECT "id"'
    ' FROM "outbox_events" WHERE "published_at" IS NULL ORDER BY "id" LIMIT ?{lock})'
    ' RETURNING "event_id", "type", "created_at"'
)


def publish_oldest(limit: int, now: datetime) -> list[tuple[str, str, datetime]]:
    """Marks the oldest `limit` unpublished outbox events published at `now`
    (on PostgreSQL skipping those another worker holds); their (event id,
    type, creation). One statement (served by outbox_unpublished_idx): it
    runs for every event the bank writes, subscribers or not."""
    text = _PUBLISH_TEXT.format(lock=" FOR UPDATE SKIP LOCKED" if is_postgres() else "")
    found = sql.execute(text, (OutboxEvent.published_at.db_value(now), limit)).fetchall()
    stamp: Callable[[object], datetime] = OutboxEvent.created_at.python_value
    return [(str(event_id), str(kind), stamp(created)) for event_id, kind, created in found]


def active_subscriptions() -> list[SubscriptionRecord]:
    text = _SUBSCRIPTIONS_TEXT.format(where='"active"')
    return [_subscription(row) for row in sql.rows(WebhookSubscription, text)]


_CREATE_TEXT = (
    'INSERT INTO "webhook_deliveries" ("id", "event_id", "event_type", "webhook_id", "status",'
    ' "attempt", "response_code", "duration_ms", "created_at", "next_attempt_at")'
    " SELECT d.id, d.event_id, d.event_type, d.webhook_id, ?, 0, 0, 0, ?, ?"
    " FROM unnest(?::text[], ?::text[], ?::text[], ?::text[])"
    " AS d(id, event_id, event_type, webhook_id)"
)


def create_deliveries(pairs: Sequence[tuple[str, str, str]], now: datetime) -> None:
    """A PENDING delivery, due at `now`, per (event id, event type, subscription id).

    A pair that already has its first delivery breaks the unique index
    (webhook_deliveries_first_idx) and fails the transaction. (On PostgreSQL
    one statement of four arrays, whatever their length: this runs for every
    event with subscribers.)
    """
    if not pairs:
        return
    if is_postgres():
        at = timestamp(now)
        for start in range(0, len(pairs), 5_000):
            chunk = pairs[start : start + 5_000]
            ids = [new_id("dlv") for _ in chunk]
            events, types, webhooks = (list(column) for column in zip(*chunk, strict=True))
            sql.execute(_CREATE_TEXT, (PENDING, at, at, ids, events, types, webhooks))
        return
    records = [
        {
            "id": new_id("dlv"),
            "event_id": event_id,
            "event_type": event_type,
            "webhook_id": webhook_id,
            "status": PENDING,
            "attempt": 0,
            "response_code": 0,
            "duration_ms": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for event_id, event_type, webhook_id in pairs
    ]
    for start in range(0, len(records), 500):
        sql.insert(WebhookDeliveryRow, records[start : start + 500])


# -- Claiming --------------------------------------------------------------------------
# One subscription's soonest due deliveries (webhook_deliveries_due_by_webhook_idx).
# The due statuses written out (constants): the partial index
# webhook_deliveries_due_by_webhook_idx serves the read only so, a
# prepared statement's parameter would not prove its predicate.
_DUE = ", ".join(f"'{status}'" for status in DUE_STATUSES)
_DUE_OF_ONE = (
    'SELECT * FROM (SELECT "id", "next_attempt_at" FROM "webhook_deliveries"'
    ' WHERE "webhook_id" = ? AND "status" IN ({statuses}) AND "next_attempt_at" <= ?'
    ' ORDER BY "next_attempt_at" LIMIT ?) AS "d{n}"'
)
SUBSCRIPTIONS_PER_CLAIM_MAX = 200


def due_deliveries(
    now: datetime,
    limit: int,
    webhook_ids: Sequence[str] | None = None,
    room: Mapping[str, int] | None = None,
) -> list[DueDelivery]:
    """Deliveries due at `now`, soonest first, locked for this transaction.

    With `webhook_ids`, the soonest `limit` of each of those subscriptions
    (at most SUBSCRIPTIONS_PER_CLAIM_MAX of them; fewer for one `room`
    names), read apart, so that one subscription's backlog, however long,
    never hides another's deliveries: each read is an index range of its
    own subscription."""
    if webhook_ids is not None:
        chosen = list(webhook_ids)[:SUBSCRIPTIONS_PER_CLAIM_MAX]
        if not chosen:
            return []
        stamp = timestamp(now)
        text = " UNION ALL ".join(
            _DUE_OF_ONE.format(n=n, statuses=_DUE) for n in range(len(chosen))
        )
        params = [
            value
            for one in chosen
            for value in (one, stamp, min(limit, (room or {}).get(one, limit)))
        ]
        picked = sql.execute(text, params).fetchall()
        if not picked:
            return []
        soonest = sorted(picked, key=lambda row: (row[1], row[0]))
        order = {str(row[0]): index for index, row in enumerate(soonest)}
        # Locked by id, and again only while still due (another worker may
        # have leased one since the read).
        where, values = among("id", list(order))
        found = sql.execute(
            _DUE_TEXT.format(where=where, order="", lock=_lock_clause()),
            (*values, *DUE_STATUSES, stamp),
        ).fetchall()
        return sorted((_due(row) for row in found), key=lambda due: order[due.id])
    found = sql.execute(
        _DUE_TEXT.format(
            where="1 = 1", order=' ORDER BY "next_attempt_at" LIMIT ?', lock=_lock_clause()
        ),
        (*DUE_STATUSES, timestamp(now), limit),
    ).fetchall()
    return [_due(row) for row in found]


_DUE_TEXT = (
    'SELECT "id", "event_id", "webhook_id", "attempt" FROM "webhook_deliveries"'
    ' WHERE {where} AND "status" IN (?, ?) AND "next_attempt_at" <= ?{order}{lock}'
)


def _lock_clause() -> str:
    return " FOR UPDATE SKIP LOCKED" if is_postgres() else ""


def active_endpoints() -> dict[str, str]:
    """The active subscriptions' ids and urls."""
    found = sql.execute('SELECT "id", "url" FROM "webhook_subscriptions" WHERE "active"')
    return {str(webhook_id): str(url) for webhook_id, url in found.fetchall()}


def _due(row: Sequence[Any]) -> DueDelivery:
    return DueDelivery(id=row[0], event_id=row[1], webhook_id=row[2], attempt=int(row[3]))


def lease(delivery_ids: Sequence[str], until: datetime) -> None:
    if delivery_ids:
        where, values = among("id", delivery_ids)
        sql.execute(
            f'UPDATE "webhook_deliveries" SET "next_attempt_at" = ? WHERE {where}',
            (timestamp(until), *values),
        )


def subscriptions(ids: Iterable[str]) -> dict[str, SubscriptionRecord]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    where, values = among("id", wanted)
    found = sql.rows(WebhookSubscription, _SUBSCRIPTIONS_TEXT.format(where=where), values)
    return {row.id: _subscription(row) for row in found}


def payloads(event_ids: Iterable[str]) -> dict[str, tuple[str, datetime]]:
    """The stored payload and creation of each event still kept."""
    wanted = sorted(set(event_ids))
    if not wanted:
        return {}
    where, values = among("event_id", wanted)
    found = sql.execute(
        f'SELECT "event_id", "payload", "created_at" FROM "outbox_events" WHERE {where}', values
    ).fetchall()
    stamp: Callable[[object], datetime] = OutboxEvent.created_at.python_value
    return {str(event_id): (str(payload), stamp(created)) for event_id, payload, created in found}


def give_up(delivery_ids: Sequence[str], error: str) -> None:
    """Deliveries that will not be attempted (again): DEAD with `error`."""
    if delivery_ids:
        WebhookDeliveryRow.update(status=DEAD, error=error, next_attempt_at=None).where(
            WebhookDeliveryRow.id.in_(list(delivery_ids))
            & WebhookDeliveryRow.status.in_(DUE_STATUSES)
        ).execute()


def give_up_orphans(inactive_error: str, deleted_error: str) -> int:
    """Due deliveries of inactive or deleted subscriptions made DEAD (a claim
    read subscription by subscription never meets them); how many."""
    active = WebhookSubscription.select(WebhookSubscription.id).where(
        WebhookSubscription.active == True  # noqa: E712
    )
    existing = WebhookSubscription.select(WebhookSubscription.id)
    due = WebhookDeliveryRow.status.in_(DUE_STATUSES)
    inactive = (
        WebhookDeliveryRow.update(status=DEAD, error=inactive_error, next_attempt_at=None)
        .where(
            due
            & WebhookDeliveryRow.webhook_id.in_(existing)
            & WebhookDeliveryRow.webhook_id.not_in(active)
        )
        .execute()
    )
    deleted = (
        WebhookDeliveryRow.update(status=DEAD, error=deleted_error, next_attempt_at=None)
        .where(due & WebhookDeliveryRow.webhook_id.not_in(existing))
        .execute()
    )
    return int(inactive) + int(deleted)


# -- Retention -------------------------------------------------------------------------
def prune_finished(before: datetime, batch: int = PRUNE_BATCH) -> tuple[int, int]:
    """One batch: finished deliveries of events created before `before`, with their
    attempts; then up to `batch` such published events that no delivery needs
    any more. (deliveries, events) removed; call in a transaction."""
    old_events = OutboxEvent.select(OutboxEvent.event_id).where(
        (OutboxEvent.created_at < before) & OutboxEvent.published_at.is_null(False)
    )
    doomed = [
        row.id
        for row in WebhookDeliveryRow.select(WebhookDeliveryRow.id)
        .where(
            WebhookDeliveryRow.status.in_(FINISHED_STATUSES)
            & WebhookDeliveryRow.event_id.in_(old_events)
        )
        .limit(batch)
    ]
    if doomed:
        WebhookAttempt.delete().where(WebhookAttempt.delivery_id.in_(doomed)).execute()
        WebhookDeliveryRow.delete().where(WebhookDeliveryRow.id.in_(doomed)).execute()
    pending = WebhookDeliveryRow.select(WebhookDeliveryRow.event_id).where(
        WebhookDeliveryRow.event_id == OutboxEvent.event_id
    )
    events = [
        row.id
        for row in OutboxEvent.select(OutboxEvent.id)
        .where(
            (OutboxEvent.created_at < before)
            & OutboxEvent.published_at.is_null(False)
            & ~peewee.fn.EXISTS(pending)
        )
        .limit(batch)
    ]
    if events:
        OutboxEvent.delete().where(OutboxEvent.id.in_(events)).execute()
    return len(doomed), len(events)
