"""What a subscriber receives for an event: the body of a delivery, and the
`data` that `/v1/events` shows.

The outbox (server.store.outbox) keeps each event as the JSON it was written
with, `{"id", "event", "timestamp", "data"}`. A delivery's body adds the
Standard Webhooks spelling `type` beside the seeds' `event`, and shows `data`
with lowerCamelCase keys (seed 002's example; some events were written with
seed 000's snake_case keys). The body is made once per delivery attempt from
the stored event, so every attempt of one event sends the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from server.domain.requests import camel

# Types a subscription can name, beside "*" (every type, those added later too).
# Staff-only types are delivered like the others: subscribing needs the admin
# scope (webhook_service.proto).
SUBSCRIBABLE = frozenset(
    {
        "user.created",
        "user.updated",
        "account.created",
        "account.updated",
        "account.closed",
        "transaction.created",
        "transaction.completed",
        "transaction.failed",
        "transaction.cancelled",
        "transaction.refunded",
        "recurring.executed",
        "recurring.failed",
        "limit.approaching",
        "security.sign_in_failures",
        "dispute.created",
        "dispute.resolved",
    }
)
EVERY_TYPE = "*"


def camel_keys(value: Any) -> Any:
    """`value` with every mapping key, at any depth, in lowerCamelCase."""
    if isinstance(value, Mapping):
        return {camel(str(key)): camel_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    return value


def stored_event(payload: str) -> dict[str, Any]:
    """An outbox row's `payload` as written."""
    event: dict[str, Any] = json.loads(payload)
    return event


def public_data(payload: str) -> dict[str, Any]:
    """The `data` of a stored event as subscribers see it."""
    data: dict[str, Any] = camel_keys(stored_event(payload).get("data") or {})
    return data


def body(payload: str) -> bytes:
    """The JSON body of every delivery of the stored event `payload`."""
    event = stored_event(payload)
    document = {
        "id": event["id"],
        "event": event["event"],
        "type": event["event"],
        "timestamp": event["timestamp"],
        "data": camel_keys(event.get("data") or {}),
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def matches(subscribed: list[str], event_type: str) -> bool:
    """Whether a subscription to `subscribed` receives events of `event_type`."""
    return EVERY_TYPE in subscribed or event_type in subscribed
