"""Notifications as the sandbox inbox shows them (SandboxNotification)."""

from __future__ import annotations

from backoffice.v1 import sandbox_service_pb2 as pb
from server.api import convert
from server.store.notifications import NotificationRecord

CHANNEL = pb.NotificationChannelEnum.NotificationChannel
KIND = pb.NotificationKindEnum.NotificationKind
STATUS = pb.NotificationStatusEnum.NotificationStatus


def notification(record: NotificationRecord) -> pb.SandboxNotification:
    return pb.SandboxNotification(
        id=record.id,
        user_id=record.user_id,
        channel=record.channel,
        destination=record.destination,
        kind=record.kind,
        subject=record.subject or None,
        body=record.body,
        code=record.code,
        status=record.status,
        attempts=record.attempts,
        last_error=record.last_error or None,
        transaction_id=record.transaction_id,
        related_id=record.related_id,
        created_at=convert.timestamp(record.created_at),
        sent_at=convert.timestamp(record.sent_at),
    )
