"""Webhook records as the API reads and shows them (server.domain.webhooks
holds the rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    """A stored subscription; `secret` is filled only for the answer that shows it."""

    id: str
    client_id: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    failing_since: datetime | None = None
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    secret: str | None = None
    previous_secret_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionChange:
    """An update as validated: None fields are unchanged."""

    url: str | None = None
    events: list[str] | None = None
    active: bool | None = None
    description: str | None = None  # "" clears it


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event of the outbox as `/v1/events` shows it (`data` already public)."""

    id: str
    type: str
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: str
    event_id: str
    event_type: str
    webhook_id: str
    status: str
    attempt: int
    response_code: int
    response_body_excerpt: str | None
    error: str | None
    duration_ms: int
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    redelivery_of: str | None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    attempt: int
    response_code: int
    response_body_excerpt: str | None
    error: str | None
    duration_ms: int
    attempted_at: datetime
    next_attempt_at: datetime | None
