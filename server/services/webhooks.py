"""Webhooks: subscriptions, the events they carry and their deliveries
(webhook_service.proto).

What is accepted is decided by server.domain.webhooks; rows are read and
written by server.store.webhooks (subscriptions) and
server.store.webhook_records (events, deliveries, attempts). A subscription
belongs to the API client that made it: every use case takes the caller's
client id, and another client's subscription is NOT_FOUND. A write is one
database transaction. Sending is the delivery worker's (server.workers).

Times: subscriptions and events carry the bank's clock (the sandbox clock in
sandbox mode), as every resource does; a delivery's times and the end of a
rotated secret's validity are real time, as the worker that sends runs on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from server.crypto.fields import FieldSealer
from server.domain import webhook_records as shapes
from server.domain import webhooks as rules
from server.domain.principal import Principal
from server.store import clock, tx
from server.store import webhook_records as records
from server.store import webhooks as store

PREVIOUS_SECRET_VALIDITY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class PageInput:
    """Paging as the api layer validated it."""

    limit: int
    offset: int
    after: list[object] | None


@dataclass(frozen=True, slots=True)
class SubscriptionForm:
    """CreateWebhookSubscription's input as sent (not validated)."""

    url: str
    events: list[str]
    secret: str
    active: bool
    description: str


@dataclass(frozen=True, slots=True)
class ChangeForm:
    """UpdateWebhookSubscription's input as sent: None is absent."""

    url: str | None
    events: list[str]
    active: bool | None
    description: str | None


def _real_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _owned(
    principal: Principal, webhook_id: str, *, lock: bool = False
) -> shapes.SubscriptionRecord:
    subscription = store.get_subscription(webhook_id, principal.client_id, lock=lock)
    if subscription is None:
        raise rules.subscription_not_found(webhook_id)
    return subscription


# -- Subscriptions ------------------------------------------------------------------------
def create(
    principal: Principal,
    form: SubscriptionForm,
    sealer: FieldSealer,
    sandbox: bool,
    own_ports: frozenset[int] = frozenset(),
) -> shapes.SubscriptionRecord:
    """A new subscription of the caller's client; its record shows the secret."""
    events = rules.check_events(form.events)
    secret = rules.check_secret(form.secret) if form.secret else rules.new_secret()
    description = rules.check_description(form.description)
    url = rules.check_url(form.url, sandbox, own_ports=own_ports)

    def work() -> shapes.SubscriptionRecord:
        rules.check_room(store.lock_client(principal.client_id))
        return store.insert_subscription(
            principal.client_id,
            url=url,
            events=events,
            description=description,
            active=form.active,
            secret=secret,
            sealer=sealer,
            now=clock.now(),
        )

    return tx.write(work)


def list_subscriptions(
    principal: Principal, active: bool | None, page: PageInput
) -> store.SubscriptionPage:
    return store.list_subscriptions(
        principal.client_id, active, limit=page.limit, offset=page.offset, after=page.after
    )


def get(principal: Principal, webhook_id: str) -> shapes.SubscriptionRecord:
    return _owned(principal, webhook_id)


def update(
    principal: Principal,
    webhook_id: str,
    form: ChangeForm,
    sandbox: bool,
    own_ports: frozenset[int] = frozenset(),
) -> shapes.SubscriptionRecord:
    """Changes the fields given; an empty event list leaves the types as they are."""
    change = shapes.SubscriptionChange(
        url=(
            rules.check_url(form.url, sandbox, own_ports=own_ports)
            if form.url is not None
            else None
        ),
        events=rules.check_events(form.events) if form.events else None,
        active=form.active,
        description=(
            None if form.description is None else rules.check_description(form.description) or ""
        ),
    )
    updated = tx.write(
        lambda: store.update_subscription(webhook_id, principal.client_id, change, clock.now())
    )
    if updated is None:
        raise rules.subscription_not_found(webhook_id)
    return updated


def delete(principal: Principal, webhook_id: str) -> None:
    if not tx.write(lambda: store.delete_subscription(webhook_id, principal.client_id)):
        raise rules.subscription_not_found(webhook_id)


def rotate_secret(
    principal: Principal,
    webhook_id: str,
    secret: str,
    expire_previous_now: bool,
    sealer: FieldSealer,
) -> shapes.SubscriptionRecord:
    """A new signing secret; the old one signs too for 24 hours unless
    `expire_previous_now`. The record shows the new secret and when the old
    one stops (previous_secret_expires_at)."""
    new_secret = rules.check_secret(secret) if secret else rules.new_secret()
    expires_at = None if expire_previous_now else _real_now() + PREVIOUS_SECRET_VALIDITY
    rotated = tx.write(
        lambda: store.rotate_secret(
            webhook_id,
            principal.client_id,
            new_secret,
            previous_expires_at=expires_at,
            sealer=sealer,
            now=clock.now(),
        )
    )
    if rotated is None:
        raise rules.subscription_not_found(webhook_id)
    return dataclasses.replace(rotated, secret=new_secret)


# -- Events -------------------------------------------------------------------------------
def list_events(
    type_filter: str, since: datetime | None, until: datetime | None, page: PageInput
) -> records.Page:
    """One page of the last 30 days' events, newest first (every client sees
    every event: subscribing needs the admin scope)."""
    query = rules.event_query(type_filter, since, until, clock.now())
    return records.list_events(query, limit=page.limit, offset=page.offset, after=page.after)


def get_event(event_id: str) -> shapes.EventRecord:
    event = records.get_event(event_id)
    if event is None or not rules.kept(event.created_at, clock.now()):
        raise rules.event_not_found(event_id)
    return event


# -- Deliveries ---------------------------------------------------------------------------
def list_deliveries(
    principal: Principal, webhook_id: str, status: str | None, event_id: str, page: PageInput
) -> records.Page:
    _owned(principal, webhook_id)
    return records.list_deliveries(
        webhook_id,
        status=status,
        event_id=event_id or None,
        limit=page.limit,
        offset=page.offset,
        after=page.after,
    )


def get_delivery(
    principal: Principal, webhook_id: str, delivery_id: str
) -> tuple[shapes.DeliveryRecord, list[shapes.AttemptRecord]]:
    _owned(principal, webhook_id)
    delivery = records.get_delivery(webhook_id, delivery_id)
    if delivery is None:
        raise rules.delivery_not_found(delivery_id)
    return delivery, records.attempts(delivery_id)


def redeliver(principal: Principal, webhook_id: str, delivery_id: str) -> shapes.DeliveryRecord:
    """A new PENDING delivery of the event of `delivery_id`, due at once."""

    def work() -> shapes.DeliveryRecord:
        rules.check_active(_owned(principal, webhook_id, lock=True))
        original = records.get_delivery(webhook_id, delivery_id)
        if original is None:
            raise rules.delivery_not_found(delivery_id)
        event = records.get_event(original.event_id)
        if event is None or not rules.kept(event.created_at, clock.now()):
            raise rules.event_not_found(original.event_id)
        return records.insert_delivery(
            original.event_id, original.event_type, webhook_id, _real_now(), original.id
        )

    return tx.write(work)


def ping(principal: Principal, webhook_id: str) -> shapes.DeliveryRecord:
    """A `webhook.ping` event delivered to this subscription only."""

    def work() -> shapes.DeliveryRecord:
        rules.check_active(_owned(principal, webhook_id, lock=True))
        return records.ping(webhook_id, clock.now(), _real_now())

    return tx.write(work)
