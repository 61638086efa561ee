"""What the webhook API reads of events, deliveries and attempts, and the
deliveries it starts itself (a ping, a redelivery); typed records out.

Events are the outbox's rows (server.store.outbox), shown through
server.domain.webhook_events.public_data. Delivery rows are otherwise
written by the delivery worker (server.store.webhook_deliveries); times of
deliveries are real UTC time, as the worker's are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from server.domain import errors
from server.domain import webhook_records as shapes
from server.domain import webhooks as rules
from server.domain.ids import new_id
from server.domain.webhook_events import public_data
from server.store import outbox
from server.store.models import OutboxEvent
from server.store.webhook_models import WebhookAttempt, WebhookDeliveryRow

PENDING = "PENDING"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of records; `next_key` is the last row's position when more follow."""

    items: list[Any]
    total: int
    next_key: list[Any] | None


def _position(after: list[Any], kinds: tuple[type, type]) -> tuple[datetime, Any]:
    try:
        if len(after) != 2 or not isinstance(after[0], str) or type(after[1]) is not kinds[1]:
            raise ValueError("shape")
        return datetime.fromisoformat(after[0]), after[1]
    except ValueError:
        raise errors.ValidationFailed("page_token is not valid", field="page_token") from None


def _page(
    select: peewee.ModelSelect[Any],
    created: peewee.Field,
    key: peewee.Field,
    *,
    limit: int,
    offset: int,
    after: list[Any] | None,
    key_type: type,
) -> tuple[list[Any], list[Any] | None]:
    """Rows newest first (then by `key`, descending), by offset or after a position."""
    if after is not None:
        at, last = _position(after, (str, key_type))
        select = select.where((created < at) | ((created == at) & (key < last)))
    else:
        select = select.offset(offset)
    rows = list(select.order_by(created.desc(), key.desc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    if not more:
        return rows, None
    return rows, [getattr(rows[-1], created.name).isoformat(), getattr(rows[-1], key.name)]


# -- Events -----------------------------------------------------------------------------
def _event(row: OutboxEvent) -> shapes.EventRecord:
    return shapes.EventRecord(
        id=row.event_id, type=row.type, data=public_data(row.payload), created_at=row.created_at
    )


def list_events(
    query: rules.EventQuery, *, limit: int, offset: int, after: list[Any] | None
) -> Page:
    """One page of events, newest first (outbox_events_created_idx)."""
    # A ping belongs to one subscription (its delivery log shows it), not to the bank's events.
    base = OutboxEvent.select().where(
        (OutboxEvent.created_at >= query.since) & (OutboxEvent.type != rules.PING_EVENT_TYPE)
    )
    if query.until is not None:
        base = base.where(OutboxEvent.created_at < query.until)
    if query.type is not None:
        base = base.where(OutboxEvent.type == query.type)
    if query.family is not None:
        # Types are [a-z0-9_.] (checked by the domain): no LIKE wildcard in them but `_`.
        base = base.where(peewee.fn.SUBSTR(OutboxEvent.type, 1, len(query.family)) == query.family)
    total = base.count()
    rows, next_key = _page(
        base,
        OutboxEvent.created_at,
        OutboxEvent.id,
        limit=limit,
        offset=offset,
        after=after,
        key_type=int,
    )
    return Page([_event(row) for row in rows], total, next_key)


def get_event(event_id: str) -> shapes.EventRecord | None:
    row = OutboxEvent.get_or_none(OutboxEvent.event_id == event_id)
    return _event(row) if row is not None and row.type != rules.PING_EVENT_TYPE else None


# -- Deliveries -------------------------------------------------------------------------
def _delivery(row: WebhookDeliveryRow) -> shapes.DeliveryRecord:
    return shapes.DeliveryRecord(
        id=row.id,
        event_id=row.event_id,
        event_type=row.event_type,
        webhook_id=row.webhook_id,
        status=row.status,
        attempt=row.attempt,
        response_code=row.response_code,
        response_body_excerpt=row.response_body_excerpt,
        error=row.error,
        duration_ms=row.duration_ms,
        created_at=row.created_at,
        last_attempt_at=row.last_attempt_at,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        redelivery_of=row.redelivery_of,
    )


def list_deliveries(
    webhook_id: str,
    *,
    status: str | None,
    event_id: str | None,
    limit: int,
    offset: int,
    after: list[Any] | None,
) -> Page:
    """One page of a subscription's deliveries, newest first (webhook_deliveries_webhook_idx)."""
    base = WebhookDeliveryRow.select().where(WebhookDeliveryRow.webhook_id == webhook_id)
    if status is not None:
        base = base.where(WebhookDeliveryRow.status == status)
    if event_id is not None:
        base = base.where(WebhookDeliveryRow.event_id == event_id)
    total = base.count()
    rows, next_key = _page(
        base,
        WebhookDeliveryRow.created_at,
        WebhookDeliveryRow.id,
        limit=limit,
        offset=offset,
        after=after,
        key_type=str,
    )
    return Page([_delivery(row) for row in rows], total, next_key)


def get_delivery(webhook_id: str, delivery_id: str) -> shapes.DeliveryRecord | None:
    row = WebhookDeliveryRow.get_or_none(
        (WebhookDeliveryRow.id == delivery_id) & (WebhookDeliveryRow.webhook_id == webhook_id)
    )
    return _delivery(row) if row is not None else None


def attempts(delivery_id: str) -> list[shapes.AttemptRecord]:
    """The delivery's attempts, oldest first."""
    query = (
        WebhookAttempt.select()
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(WebhookAttempt.attempt, WebhookAttempt.attempted_at)
    )
    return [
        shapes.AttemptRecord(
            attempt=row.attempt,
            response_code=row.response_code,
            response_body_excerpt=row.response_body_excerpt,
            error=row.error,
            duration_ms=row.duration_ms,
            attempted_at=row.attempted_at,
            next_attempt_at=row.next_attempt_at,
        )
        for row in query
    ]


def insert_delivery(
    event_id: str, event_type: str, webhook_id: str, now: datetime, redelivery_of: str | None
) -> shapes.DeliveryRecord:
    """A PENDING delivery due at once (attempt 0)."""
    row = WebhookDeliveryRow.create(
        id=new_id("dlv"),
        event_id=event_id,
        event_type=event_type,
        webhook_id=webhook_id,
        status=PENDING,
        attempt=0,
        response_code=0,
        duration_ms=0,
        created_at=now,
        next_attempt_at=now,
        redelivery_of=redelivery_of,
    )
    return _delivery(row)


def ping(webhook_id: str, event_at: datetime, now: datetime) -> shapes.DeliveryRecord:
    """Writes a `webhook.ping` event and its one delivery, to `webhook_id`.

    The event is marked published in the same transaction, so the fan-out
    never sends it to any other subscription.
    """
    data = {"webhook_id": webhook_id, "message": "ping"}
    event_id = outbox.emit(rules.PING_EVENT_TYPE, webhook_id, data, event_at)
    OutboxEvent.update(published_at=now).where(OutboxEvent.event_id == event_id).execute()
    return insert_delivery(event_id, rules.PING_EVENT_TYPE, webhook_id, now, None)
