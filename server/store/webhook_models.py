"""Rows of the webhook tables (m0023_webhooks)."""

from __future__ import annotations

import peewee

from server.store.models import BaseModel


class WebhookSubscription(BaseModel):
    id = peewee.TextField(primary_key=True)
    client_id = peewee.TextField()
    url = peewee.TextField()
    events = peewee.TextField()  # JSON list of event types, or ["*"]
    description = peewee.TextField(null=True)
    active = peewee.BooleanField()
    secret = peewee.TextField()  # sealed
    previous_secret = peewee.TextField(null=True)  # sealed
    previous_secret_expires_at = peewee.DateTimeField(null=True)
    failing_since = peewee.DateTimeField(null=True)
    disabled_reason = peewee.TextField(null=True)
    disabled_at = peewee.DateTimeField(null=True)
    created_at = peewee.DateTimeField()
    updated_at = peewee.DateTimeField()

    class Meta:
        table_name = "webhook_subscriptions"


class WebhookDeliveryRow(BaseModel):
    id = peewee.TextField(primary_key=True)
    event_id = peewee.TextField()
    event_type = peewee.TextField()
    webhook_id = peewee.TextField()
    status = peewee.TextField()  # PENDING, SUCCEEDED, FAILED, DEAD
    attempt = peewee.IntegerField()
    response_code = peewee.IntegerField()
    response_body_excerpt = peewee.TextField(null=True)
    error = peewee.TextField(null=True)
    duration_ms = peewee.IntegerField()
    created_at = peewee.DateTimeField()
    last_attempt_at = peewee.DateTimeField(null=True)
    next_attempt_at = peewee.DateTimeField(null=True)
    delivered_at = peewee.DateTimeField(null=True)
    redelivery_of = peewee.TextField(null=True)

    class Meta:
        table_name = "webhook_deliveries"


class WebhookAttempt(BaseModel):
    id = peewee.TextField(primary_key=True)
    delivery_id = peewee.TextField()
    attempt = peewee.IntegerField()
    response_code = peewee.IntegerField()
    response_body_excerpt = peewee.TextField(null=True)
    error = peewee.TextField(null=True)
    duration_ms = peewee.IntegerField()
    attempted_at = peewee.DateTimeField()
    next_attempt_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "webhook_attempts"
