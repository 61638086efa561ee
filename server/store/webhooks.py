"""Webhook subscription rows: read, insert, change, delete; typed records out.

A subscription belongs to the API client that made it: every read and write
here names the client, so another client's subscription is never found. The
signing secret is sealed (server.store.sealed.WEBHOOK_SECRET, bound to the
subscription's id); a rotation moves the current one, re-sealed for its own
column, to `previous_secret` until `previous_secret_expires_at`. Secrets are
never opened here except to move them: the delivery worker opens them to
sign.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from server.crypto.fields import FieldSealer, UnreadableField
from server.domain import errors
from server.domain import webhook_records as shapes
from server.domain.ids import new_id
from server.store import sealed
from server.store.db import is_postgres
from server.store.models import OAuthClient
from server.store.webhook_models import WebhookAttempt, WebhookDeliveryRow, WebhookSubscription

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SubscriptionPage:
    subscriptions: list[shapes.SubscriptionRecord]
    total: int
    # (created_at ISO, id) of the last row when another page follows.
    next_key: list[Any] | None


def _record(row: WebhookSubscription, secret: str | None = None) -> shapes.SubscriptionRecord:
    return shapes.SubscriptionRecord(
        id=row.id,
        client_id=row.client_id,
        url=row.url,
        events=list(json.loads(row.events)),
        description=row.description or None,
        active=bool(row.active),
        created_at=row.created_at,
        updated_at=row.updated_at,
        failing_since=row.failing_since,
        disabled_reason=row.disabled_reason or None,
        disabled_at=row.disabled_at,
        secret=secret,
        previous_secret_expires_at=row.previous_secret_expires_at,
    )


def _owned(webhook_id: str, client_id: str) -> peewee.ModelSelect[WebhookSubscription]:
    return WebhookSubscription.select().where(
        (WebhookSubscription.id == webhook_id) & (WebhookSubscription.client_id == client_id)
    )


# -- Reads ------------------------------------------------------------------------------
def get_subscription(
    webhook_id: str, client_id: str, *, lock: bool = False
) -> shapes.SubscriptionRecord | None:
    """The client's subscription; None when there is none (or it is another's).

    `lock`: held until the transaction ends on PostgreSQL, so that a delivery
    started for it (ping, redelivery) never outlives a concurrent delete.
    """
    query = _owned(webhook_id, client_id)
    if lock and is_postgres():
        query = query.for_update()
    row = query.first()
    return _record(row) if row is not None else None


def lock_client(client_id: str) -> int:
    """How many subscriptions the client has, its row locked on PostgreSQL so
    that one client's creates run one at a time (the cap then counts every
    earlier one). On SQLite the write transaction holds the only write lock."""
    if is_postgres():
        OAuthClient.select(OAuthClient.id).where(OAuthClient.id == client_id).for_update().first()
    return int(
        WebhookSubscription.select().where(WebhookSubscription.client_id == client_id).count()
    )


def list_subscriptions(
    client_id: str, active: bool | None, *, limit: int, offset: int, after: list[Any] | None
) -> SubscriptionPage:
    """One page of the client's subscriptions, newest first (then by id)."""
    base = WebhookSubscription.select().where(WebhookSubscription.client_id == client_id)
    if active is not None:
        base = base.where(WebhookSubscription.active == active)
    total = base.count()
    select = base
    if after is not None:
        created_at, last_id = _position(after)
        select = select.where(
            (WebhookSubscription.created_at < created_at)
            | ((WebhookSubscription.created_at == created_at) & (WebhookSubscription.id < last_id))
        )
    else:
        select = select.offset(offset)
    order = (WebhookSubscription.created_at.desc(), WebhookSubscription.id.desc())
    rows = list(select.order_by(*order).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    next_key = [rows[-1].created_at.isoformat(), rows[-1].id] if more else None
    return SubscriptionPage([_record(row) for row in rows], total, next_key)


def _position(after: list[Any]) -> tuple[datetime, str]:
    """(created_at, id) of a page token's last row."""
    try:
        if len(after) != 2 or not all(isinstance(part, str) for part in after):
            raise ValueError("shape")
        return datetime.fromisoformat(after[0]), after[1]
    except ValueError:
        raise errors.ValidationFailed("page_token is not valid", field="page_token") from None


# -- Writes -----------------------------------------------------------------------------
def insert_subscription(
    client_id: str,
    *,
    url: str,
    events: list[str],
    description: str | None,
    active: bool,
    secret: str,
    sealer: FieldSealer,
    now: datetime,
) -> shapes.SubscriptionRecord:
    """Stores a new subscription; the record carries the secret (shown once)."""
    webhook_id = new_id("whk")
    row = WebhookSubscription.create(
        id=webhook_id,
        client_id=client_id,
        url=url,
        events=json.dumps(events),
        description=description,
        active=active,
        secret=sealed.seal(sealer, sealed.WEBHOOK_SECRET, webhook_id, secret),
        created_at=now,
        updated_at=now,
    )
    return _record(row, secret)


def update_subscription(
    webhook_id: str, client_id: str, change: shapes.SubscriptionChange, now: datetime
) -> shapes.SubscriptionRecord | None:
    """Applies `change`; None when the client has no such subscription.

    Making a subscription active clears what the delivery worker set when it
    switched it off (disabled_reason, disabled_at, failing_since), so that it
    gets three days again before it is switched off.
    """
    values: dict[Any, Any] = {WebhookSubscription.updated_at: now}
    if change.url is not None:
        values[WebhookSubscription.url] = change.url
    if change.events is not None:
        values[WebhookSubscription.events] = json.dumps(change.events)
    if change.description is not None:
        values[WebhookSubscription.description] = change.description or None
    if change.active is not None:
        values[WebhookSubscription.active] = change.active
        if change.active:
            values[WebhookSubscription.disabled_reason] = None
            values[WebhookSubscription.disabled_at] = None
            values[WebhookSubscription.failing_since] = None
    changed = (
        WebhookSubscription.update(values)
        .where(
            (WebhookSubscription.id == webhook_id) & (WebhookSubscription.client_id == client_id)
        )
        .execute()
    )
    return get_subscription(webhook_id, client_id) if changed else None


def delete_subscription(webhook_id: str, client_id: str) -> bool:
    """Deletes the subscription with its deliveries and their attempts; False
    when the client has no such subscription."""
    deleted = (
        WebhookSubscription.delete()
        .where(
            (WebhookSubscription.id == webhook_id) & (WebhookSubscription.client_id == client_id)
        )
        .execute()
    )
    if not deleted:
        return False
    deliveries = WebhookDeliveryRow.select(WebhookDeliveryRow.id).where(
        WebhookDeliveryRow.webhook_id == webhook_id
    )
    WebhookAttempt.delete().where(WebhookAttempt.delivery_id.in_(deliveries)).execute()
    WebhookDeliveryRow.delete().where(WebhookDeliveryRow.webhook_id == webhook_id).execute()
    return True


def rotate_secret(
    webhook_id: str,
    client_id: str,
    secret: str,
    *,
    previous_expires_at: datetime | None,
    sealer: FieldSealer,
    now: datetime,
) -> shapes.SubscriptionRecord | None:
    """Makes `secret` the signing secret. The one it replaces keeps signing
    until `previous_expires_at` (None: not at all). A secret kept from an
    earlier rotation is dropped. None when the client has no such subscription."""
    query = _owned(webhook_id, client_id)
    if is_postgres():
        query = query.for_update()
    row = query.first()
    if row is None:
        return None
    previous: str | None = None
    if previous_expires_at is not None:
        try:
            current = sealed.open_value(sealer, sealed.WEBHOOK_SECRET, webhook_id, row.secret)
        except UnreadableField:
            # Its key is gone: the old secret cannot sign any more anyway.
            log.exception("webhook secret does not open", extra={"webhook_id": webhook_id})
            current = None
        previous = sealed.seal(sealer, sealed.WEBHOOK_PREVIOUS_SECRET, webhook_id, current)
    WebhookSubscription.update(
        {
            WebhookSubscription.secret: sealed.seal(
                sealer, sealed.WEBHOOK_SECRET, webhook_id, secret
            ),
            WebhookSubscription.previous_secret: previous,
            WebhookSubscription.previous_secret_expires_at: (
                previous_expires_at if previous is not None else None
            ),
            WebhookSubscription.updated_at: now,
        }
    ).where(WebhookSubscription.id == webhook_id).execute()
    return get_subscription(webhook_id, client_id)
