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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import peewee

from server.domain.ids import new_id
from server.domain.webhook_delivery import DEAD, DUE_STATUSES, PENDING, SUCCEEDED, Answer, Verdict
from server.store import sql
from server.store.db import is_postgres
from server.store.models import OutboxEvent
from server.store.webhook_models import WebhookAttempt, WebhookDeliveryRow, WebhookSubscription

Q = TypeVar("Q", bound="peewee.ModelSelect[Any]")
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


def _locked(query: Q) -> Q:
    return query.for_update(skip_locked=True) if is_postgres() else query


# -- Fan-out ---------------------------------------------------------------------------
_PUBLISH_TEXT = (
    'UPDATE "outbox_events" SET "published_at" = ? WHERE "id" IN (SELECT "id"'
    ' FROM "outbox_events" WHERE "published_at" IS NULL ORDER BY "id" LIMIT ?{lock})'
    ' RETURNING "event_id", "type"'
)


def publish_oldest(limit: int, now: datetime) -> list[tuple[str, str]]:
    """Marks the oldest `limit` unpublished outbox events published at `now`
    (on PostgreSQL skipping those another worker holds); their (event id,
    type). One statement (served by outbox_unpublished_idx): it runs for
    every event the bank writes, subscribers or not."""
    text = _PUBLISH_TEXT.format(lock=" FOR UPDATE SKIP LOCKED" if is_postgres() else "")
    found = sql.execute(text, (OutboxEvent.published_at.db_value(now), limit)).fetchall()
    return [(str(event_id), str(event_type)) for event_id, event_type in found]


def active_subscriptions() -> list[SubscriptionRecord]:
    query = WebhookSubscription.select().where(WebhookSubscription.active == True)  # noqa: E712
    return [_subscription(row) for row in query]


def create_deliveries(pairs: Sequence[tuple[str, str, str]], now: datetime) -> None:
    """A PENDING delivery, due at `now`, per (event id, event type, subscription id).

    A pair that already has its first delivery breaks the unique index
    (webhook_deliveries_first_idx) and fails the transaction.
    """
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
_DUE_OF_ONE = (
    'SELECT * FROM (SELECT "id", "next_attempt_at" FROM "webhook_deliveries"'
    ' WHERE "webhook_id" = ? AND "status" IN (?, ?) AND "next_attempt_at" <= ?'
    ' ORDER BY "next_attempt_at" LIMIT ?) AS "d{n}"'
)
SUBSCRIPTIONS_PER_CLAIM_MAX = 200


def due_deliveries(
    now: datetime, limit: int, webhook_ids: Sequence[str] | None = None
) -> list[DueDelivery]:
    """Deliveries due at `now`, soonest first, locked for this transaction.

    With `webhook_ids`, the soonest `limit` of each of those subscriptions
    (at most SUBSCRIPTIONS_PER_CLAIM_MAX of them), read apart, so that one
    subscription's backlog, however long, never hides another's deliveries:
    each read is an index range of its own subscription."""
    columns = (
        WebhookDeliveryRow.id,
        WebhookDeliveryRow.event_id,
        WebhookDeliveryRow.webhook_id,
        WebhookDeliveryRow.attempt,
    )
    if webhook_ids is not None:
        chosen = list(webhook_ids)[:SUBSCRIPTIONS_PER_CLAIM_MAX]
        if not chosen:
            return []
        stamp = WebhookDeliveryRow.next_attempt_at.db_value(now)
        text = " UNION ALL ".join(_DUE_OF_ONE.format(n=n) for n in range(len(chosen)))
        params = [value for one in chosen for value in (one, *DUE_STATUSES, stamp, limit)]
        picked = sql.execute(text, params).fetchall()
        if not picked:
            return []
        soonest = sorted(picked, key=lambda row: (row[1], row[0]))
        order = {str(row[0]): index for index, row in enumerate(soonest)}
        # Locked by id, and again only while still due (another worker may
        # have leased one since the read).
        query = WebhookDeliveryRow.select(*columns).where(
            WebhookDeliveryRow.id.in_(list(order))
            & WebhookDeliveryRow.status.in_(DUE_STATUSES)
            & (WebhookDeliveryRow.next_attempt_at <= now)
        )
        found = [_due(row) for row in _locked(query)]
        return sorted(found, key=lambda due: order[due.id])
    query = (
        WebhookDeliveryRow.select(*columns)
        .where(
            WebhookDeliveryRow.status.in_(DUE_STATUSES)
            & (WebhookDeliveryRow.next_attempt_at <= now)
        )
        .order_by(WebhookDeliveryRow.next_attempt_at)
        .limit(limit)
    )
    return [_due(row) for row in _locked(query)]


def active_endpoints() -> dict[str, str]:
    """The active subscriptions' ids and urls."""
    query = WebhookSubscription.select(WebhookSubscription.id, WebhookSubscription.url).where(
        WebhookSubscription.active == True  # noqa: E712
    )
    return {row.id: row.url for row in query}


def _due(row: WebhookDeliveryRow) -> DueDelivery:
    return DueDelivery(
        id=row.id, event_id=row.event_id, webhook_id=row.webhook_id, attempt=row.attempt
    )


def lease(delivery_ids: Sequence[str], until: datetime) -> None:
    if delivery_ids:
        WebhookDeliveryRow.update(next_attempt_at=until).where(
            WebhookDeliveryRow.id.in_(list(delivery_ids))
        ).execute()


def subscriptions(ids: Iterable[str]) -> dict[str, SubscriptionRecord]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = WebhookSubscription.select().where(WebhookSubscription.id.in_(wanted))
    return {row.id: _subscription(row) for row in query}


def payloads(event_ids: Iterable[str]) -> dict[str, str]:
    """The stored payload of each event still kept."""
    wanted = sorted(set(event_ids))
    if not wanted:
        return {}
    query = OutboxEvent.select(OutboxEvent.event_id, OutboxEvent.payload).where(
        OutboxEvent.event_id.in_(wanted)
    )
    return {row.event_id: row.payload for row in query}


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


# -- Recording -------------------------------------------------------------------------
_RECORD_TEXT = (
    'UPDATE "webhook_deliveries" SET "status" = ?, "attempt" = ?, "response_code" = ?,'
    ' "response_body_excerpt" = ?, "error" = ?, "duration_ms" = ?, "last_attempt_at" = ?,'
    ' "next_attempt_at" = ?, "delivered_at" = ?'
    ' WHERE "id" = ? AND "attempt" = ? AND "status" IN (?, ?)'
)


def _time(value: datetime | None) -> object:
    return WebhookDeliveryRow.last_attempt_at.db_value(value)


def record_attempts(
    attempts: Sequence[tuple[DueDelivery, Answer, Verdict]], now: datetime
) -> list[bool]:
    """Each delivery's `delivery.attempt + 1`-th attempt: whether it was written.
    Not when that attempt was recorded already (the lease passed and another
    worker sent it too) or the delivery is no longer due. (A statement text
    of its own, cached: this runs for every attempt.)"""
    written = []
    rows: list[dict[str, object]] = []
    at = _time(now)
    for delivery, answer, verdict in attempts:
        attempt = delivery.attempt + 1
        next_at = _time(verdict.next_attempt_at)
        params = (
            verdict.status,
            attempt,
            answer.response_code,
            answer.excerpt,
            verdict.error,
            answer.duration_ms,
            at,
            next_at,
            at if verdict.status == SUCCEEDED else None,
            delivery.id,
            delivery.attempt,
            *DUE_STATUSES,
        )
        updated = bool(sql.execute(_RECORD_TEXT, params).rowcount)
        written.append(updated)
        if updated:
            rows.append(
                {
                    "id": f"{delivery.id}.{attempt}",
                    "delivery_id": delivery.id,
                    "attempt": attempt,
                    "response_code": answer.response_code,
                    "response_body_excerpt": answer.excerpt,
                    "error": verdict.error,
                    "duration_ms": answer.duration_ms,
                    "attempted_at": now,
                    "next_attempt_at": verdict.next_attempt_at,
                }
            )
    for start in range(0, len(rows), 500):
        sql.insert(WebhookAttempt, rows[start : start + 500])
    return written


def mark_healthy(webhook_ids: Iterable[str]) -> None:
    """A delivery to each succeeded: their failing runs end."""
    ids = sorted(set(webhook_ids))
    if ids:
        WebhookSubscription.update(failing_since=None).where(
            WebhookSubscription.id.in_(ids) & WebhookSubscription.failing_since.is_null(False)
        ).execute()


def mark_failing(webhook_id: str, now: datetime) -> SubscriptionRecord | None:
    """A delivery failed: the subscription's failing run starts at `now` unless
    one runs already; the subscription as it now is (None: deleted)."""
    WebhookSubscription.update(failing_since=now).where(
        (WebhookSubscription.id == webhook_id) & WebhookSubscription.failing_since.is_null()
    ).execute()
    return subscriptions([webhook_id]).get(webhook_id)


def disable(webhook_id: str, reason: str, now: datetime) -> bool:
    """Makes an active subscription inactive for `reason`; True if it was active."""
    return bool(
        WebhookSubscription.update(
            active=False, disabled_reason=reason, disabled_at=now, updated_at=now
        )
        .where((WebhookSubscription.id == webhook_id) & (WebhookSubscription.active == True))  # noqa: E712
        .execute()
    )


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
