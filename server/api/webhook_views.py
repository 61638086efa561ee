"""Webhook records as WebhookService's messages (server.api.webhooks)."""

from __future__ import annotations

from google.protobuf import struct_pb2

from backoffice.v1 import webhook_pb2 as resource_pb
from server.api import convert
from server.domain import webhook_records as shapes


def subscription(record: shapes.SubscriptionRecord) -> resource_pb.WebhookSubscription:
    """The subscription; the secret only when the record carries it (create, rotate)."""
    return resource_pb.WebhookSubscription(
        id=record.id,
        url=record.url,
        events=record.events,
        secret=record.secret,
        active=record.active,
        description=record.description,
        client_id=record.client_id,
        created_at=convert.timestamp(record.created_at),
        updated_at=convert.timestamp(record.updated_at),
        disabled_reason=record.disabled_reason,
        disabled_at=convert.timestamp(record.disabled_at),
        failing_since=convert.timestamp(record.failing_since),
    )


def event(record: shapes.EventRecord) -> resource_pb.WebhookEvent:
    data = struct_pb2.Struct()
    data.update(record.data)
    return resource_pb.WebhookEvent(
        id=record.id,
        type=record.type,
        data=data,
        created_at=convert.timestamp(record.created_at),
    )


def delivery(record: shapes.DeliveryRecord) -> resource_pb.WebhookDelivery:
    return resource_pb.WebhookDelivery(
        id=record.id,
        event_id=record.event_id,
        event_type=record.event_type,
        webhook_id=record.webhook_id,
        status=record.status,  # type: ignore[arg-type]
        attempt=record.attempt,
        response_code=record.response_code,
        response_body_excerpt=record.response_body_excerpt,
        error=record.error,
        duration_ms=record.duration_ms,
        created_at=convert.timestamp(record.created_at),
        last_attempt_at=convert.timestamp(record.last_attempt_at),
        next_attempt_at=convert.timestamp(record.next_attempt_at),
        delivered_at=convert.timestamp(record.delivered_at),
        redelivery_of=record.redelivery_of,
    )


def attempt(record: shapes.AttemptRecord) -> resource_pb.WebhookAttempt:
    return resource_pb.WebhookAttempt(
        attempt=record.attempt,
        response_code=record.response_code,
        response_body_excerpt=record.response_body_excerpt,
        error=record.error,
        duration_ms=record.duration_ms,
        attempted_at=convert.timestamp(record.attempted_at),
        next_attempt_at=convert.timestamp(record.next_attempt_at),
    )
