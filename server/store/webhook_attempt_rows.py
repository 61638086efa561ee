"""Rows of webhook delivery attempts (m0023): what each attempt came to, on
its delivery and in the delivery log (`webhook_attempts`), and the failing
run of its subscription.

Recording an attempt is conditional on the attempt count the claim read
(server.store.webhook_deliveries), so a late worker whose lease passed
cannot record one attempt twice. All times are real UTC time (naive).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from server.domain.webhook_delivery import DUE_STATUSES, SUCCEEDED, Answer, Verdict
from server.store import sql
from server.store.db import is_postgres
from server.store.webhook_deliveries import (
    DueDelivery,
    SubscriptionRecord,
    among,
    subscriptions,
    timestamp,
)
from server.store.webhook_models import WebhookAttempt, WebhookSubscription

_RECORD_TEXT = (
    'UPDATE "webhook_deliveries" SET "status" = ?, "attempt" = ?, "response_code" = ?,'
    ' "response_body_excerpt" = ?, "error" = ?, "duration_ms" = ?, "last_attempt_at" = ?,'
    ' "next_attempt_at" = ?, "delivered_at" = ?'
    ' WHERE "id" = ? AND "attempt" = ? AND "status" IN (?, ?)'
)


def record_attempts(
    attempts: Sequence[tuple[DueDelivery, Answer, Verdict]], now: datetime
) -> list[bool]:
    """Each delivery's `delivery.attempt + 1`-th attempt: whether it was written.
    Not when that attempt was recorded already (the lease passed and another
    worker sent it too) or the delivery is no longer due. (On PostgreSQL one
    statement for the whole batch, deliveries and their attempt rows.)"""
    if is_postgres():
        return _record_batch(attempts, now)
    written = []
    rows: list[dict[str, object]] = []
    at = timestamp(now)
    for delivery, answer, verdict in attempts:
        attempt = delivery.attempt + 1
        next_at = timestamp(verdict.next_attempt_at)
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


# Every attempt of a batch: its delivery updated (only while that attempt is
# still the next one and the delivery due) and, for each updated, its row in
# webhook_attempts.
_RECORD_BATCH_TEXT = (
    "WITH v AS (SELECT * FROM unnest(?::text[], ?::int[], ?::text[], ?::int[], ?::text[],"
    " ?::text[], ?::int[], ?::timestamp[], ?::boolean[]) AS v(id, attempt, status,"
    " response_code, excerpt, error, duration_ms, next_attempt_at, delivered)),"
    ' updated AS (UPDATE "webhook_deliveries" AS d SET "status" = v.status,'
    ' "attempt" = v.attempt, "response_code" = v.response_code,'
    ' "response_body_excerpt" = v.excerpt, "error" = v.error, "duration_ms" = v.duration_ms,'
    ' "last_attempt_at" = ?, "next_attempt_at" = v.next_attempt_at,'
    ' "delivered_at" = CASE WHEN v.delivered THEN ?::timestamp END'
    " FROM v WHERE d.id = v.id AND d.attempt = v.attempt - 1 AND d.status IN (?, ?)"
    " RETURNING v.*)"
    ' INSERT INTO "webhook_attempts" ("id", "delivery_id", "attempt", "response_code",'
    ' "response_body_excerpt", "error", "duration_ms", "attempted_at", "next_attempt_at")'
    " SELECT u.id || '.' || u.attempt, u.id, u.attempt, u.response_code, u.excerpt, u.error,"
    ' u.duration_ms, ?, u.next_attempt_at FROM updated AS u RETURNING "delivery_id"'
)


def _record_batch(
    attempts: Sequence[tuple[DueDelivery, Answer, Verdict]], now: datetime
) -> list[bool]:
    columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [], [])
    for delivery, answer, verdict in attempts:
        for column, value in zip(
            columns,
            (
                delivery.id,
                delivery.attempt + 1,
                verdict.status,
                answer.response_code,
                answer.excerpt,
                verdict.error,
                answer.duration_ms,
                verdict.next_attempt_at,
                verdict.status == SUCCEEDED,
            ),
            strict=True,
        ):
            column.append(value)
    params = (*columns, now, now, *DUE_STATUSES, now)
    updated = {str(row[0]) for row in sql.execute(_RECORD_BATCH_TEXT, params).fetchall()}
    written = []
    for delivery, _, _ in attempts:  # a delivery twice in one batch: its first counts
        written.append(delivery.id in updated)
        updated.discard(delivery.id)
    return written


def mark_healthy(webhook_ids: Iterable[str]) -> None:
    """A delivery to each succeeded: their failing runs end."""
    ids = sorted(set(webhook_ids))
    if ids:
        where, values = among("id", ids)
        sql.execute(
            'UPDATE "webhook_subscriptions" SET "failing_since" = NULL'
            f' WHERE {where} AND "failing_since" IS NOT NULL',
            values,
        )


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
