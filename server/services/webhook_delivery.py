"""Use cases of webhook delivery: fan events out, claim due deliveries,
record what their attempts came to, prune old events.

Each is one short write transaction; the HTTP call happens between `claim`
and `record`, outside any transaction (server.workers.webhooks).

Time. Delivery runs on real time (`now()`), not the sandbox clock: retry
delays, leases, `failing_since` and the 30-day retention are about the
receiver's and the worker's clocks, as idempotency keys' retention is.
Events keep the business time they were written with.

Decisions:
- An event goes to the subscriptions that are active when it is fanned out
  (a moment after its commit); subscriptions inactive then get nothing, not
  even later (webhook.proto: events while inactive are not queued).
- A due delivery whose subscription is inactive or deleted, or whose event
  is no longer kept, is not sent: it becomes DEAD with the error
  `subscription inactive`, `subscription deleted` or `event expired`, so it
  leaves the due index and its log says why.
- A secret that does not open (its key retired or the row tampered with)
  fails the attempt (`signing secret unreadable`) like a refused
  connection, so the delivery follows the retry schedule.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from server import metrics
from server.crypto.fields import FieldSealer, UnreadableField
from server.domain import webhook_delivery as rules
from server.domain import webhook_events
from server.store import sealed, tx
from server.store import webhook_attempt_rows as attempt_rows
from server.store import webhook_deliveries as rows
from server.store.webhook_deliveries import DueDelivery, SubscriptionRecord

log = logging.getLogger(__name__)

FAN_OUT_BATCH = 500
LEASE = timedelta(seconds=60)
RETENTION = timedelta(days=30)
PRUNE_BATCHES_MAX = 1_000

ERROR_INACTIVE = "subscription inactive"
ERROR_DELETED = "subscription deleted"
ERROR_EXPIRED = "event expired"
ERROR_SECRET = "signing secret unreadable"  # noqa: S105 (an error message)


def now() -> datetime:
    """Real UTC time, naive (see the module comment)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed delivery, ready to send; `secrets` None when they do not open."""

    delivery: DueDelivery
    url: str
    body: bytes
    secrets: rules.Secrets | None
    event_created_at: datetime | None = None  # for the delivery-lag metric


def fan_out(batch: int = FAN_OUT_BATCH) -> int:
    """One delivery per active matching subscription for each of the oldest
    `batch` unpublished events, which become published; how many events."""

    def work() -> int:
        at = now()
        events = rows.publish_oldest(batch, at)
        metrics.outbox_lag(max(((at - e[2]).total_seconds() for e in events), default=0.0))
        if not events:
            return 0
        subscriptions = rows.active_subscriptions()
        pairs = [
            (event_id, event_type, subscription.id)
            for event_id, event_type, _ in events
            for subscription in subscriptions
            if webhook_events.matches(list(subscription.events), event_type)
        ]
        rows.create_deliveries(pairs, at)
        return len(events)

    return tx.write(work)


def _open_secrets(sealer: FieldSealer, subscription: SubscriptionRecord) -> rules.Secrets | None:
    try:
        current = sealed.open_value(
            sealer, sealed.WEBHOOK_SECRET, subscription.id, subscription.secret
        )
        previous = sealed.open_value(
            sealer, sealed.WEBHOOK_PREVIOUS_SECRET, subscription.id, subscription.previous_secret
        )
    except UnreadableField:
        log.exception("webhook secret does not open", extra={"webhook_id": subscription.id})
        return None
    if not current:
        return None
    return rules.Secrets(current, previous, subscription.previous_secret_expires_at)


def give_up_orphans() -> int:
    """Due deliveries of subscriptions made inactive or deleted: DEAD."""
    return tx.write(lambda: rows.give_up_orphans(ERROR_INACTIVE, ERROR_DELETED))


def claim(
    limit: int,
    sealer: FieldSealer,
    lease: timedelta = LEASE,
    *,
    per_endpoint: int = 0,
    in_flight: Mapping[str, int] | None = None,
) -> list[Job]:
    """Up to `limit` due deliveries, leased for `lease`; those that will not be
    sent are made DEAD on the way (see the module comment).

    With `per_endpoint`, at most that many per receiver (host and port,
    `rules.endpoint`) counting those `in_flight` already: the rest stay due,
    unleased, for a later claim, so that a slow or unreachable receiver holds
    part of the sending slots, never all of them, and the others' events
    flow. The deliveries are then read subscription by subscription, the
    subscriptions of a receiver at its share left out, so that a long
    backlog of one never hides the others'.
    """
    busy: Counter[str] = Counter(in_flight or {})

    def work() -> list[tuple[DueDelivery, SubscriptionRecord, bytes, datetime]]:
        at = now()
        if per_endpoint:
            # Each subscription is read for as many as its receiver has room
            # for (those of one receiver share it: the claim below keeps count).
            room = {
                webhook_id: per_endpoint - busy[rules.endpoint(url)]
                for webhook_id, url in rows.active_endpoints().items()
            }
            open_to = [webhook_id for webhook_id, left in room.items() if left > 0]
            due = rows.due_deliveries(at, limit, webhook_ids=open_to, room=room)
        else:
            due = rows.due_deliveries(at, limit)
        if not due:
            return []
        subscriptions = rows.subscriptions(d.webhook_id for d in due)
        payloads = rows.payloads(
            d.event_id
            for d in due
            if (subscription := subscriptions.get(d.webhook_id)) is not None and subscription.active
        )
        dropped: dict[str, list[str]] = {ERROR_INACTIVE: [], ERROR_DELETED: [], ERROR_EXPIRED: []}
        claimed: list[tuple[DueDelivery, SubscriptionRecord, bytes, datetime]] = []
        for delivery in due:
            subscription = subscriptions.get(delivery.webhook_id)
            payload, created = payloads.get(delivery.event_id) or (None, at)
            if subscription is None:
                dropped[ERROR_DELETED].append(delivery.id)
            elif not subscription.active:
                dropped[ERROR_INACTIVE].append(delivery.id)
            elif payload is None:
                dropped[ERROR_EXPIRED].append(delivery.id)
            elif len(claimed) < limit:
                if per_endpoint:
                    where = rules.endpoint(subscription.url)
                    if busy[where] >= per_endpoint:
                        continue  # stays due for a later claim
                    busy[where] += 1
                claimed.append((delivery, subscription, webhook_events.body(payload), created))
        for error, ids in dropped.items():
            rows.give_up(ids, error)
        rows.lease([claim[0].id for claim in claimed], at + lease)
        return claimed

    opened: dict[str, rules.Secrets | None] = {}
    jobs = []
    for delivery, subscription, body, created in tx.write(work):
        if subscription.id not in opened:
            opened[subscription.id] = _open_secrets(sealer, subscription)
        jobs.append(Job(delivery, subscription.url, body, opened[subscription.id], created))
    return jobs


def record(
    results: Sequence[tuple[Job, rules.Answer]],
    schedule: Sequence[timedelta] = rules.SCHEDULE,
) -> int:
    """Writes each attempt and what it makes of its delivery and subscription,
    in one transaction; how many were recorded (an attempt recorded already,
    by a worker whose lease passed, is not recorded twice)."""

    def work() -> int:
        at = now()
        recorded = 0
        # Per subscription, its last outcome in this batch: None for a success.
        last_error: dict[str, str | None] = {}
        judged = [
            (job.delivery, answer, rules.verdict(answer, job.delivery.attempt + 1, at, schedule))
            for job, answer in results
        ]
        for (delivery, _, verdict), written in zip(
            judged, attempt_rows.record_attempts(judged, at), strict=True
        ):
            if written:
                recorded += 1
                last_error[delivery.webhook_id] = verdict.error
        attempt_rows.mark_healthy(w for w, error in last_error.items() if error is None)
        for webhook_id in sorted(w for w, error in last_error.items() if error is not None):
            _note_failure(webhook_id, str(last_error[webhook_id]), at)
        return recorded

    return tx.write(work)


def _note_failure(webhook_id: str, error: str, at: datetime) -> None:
    subscription = attempt_rows.mark_failing(webhook_id, at)
    if subscription is None or not subscription.active:
        return
    if rules.should_disable(subscription.failing_since, at):
        assert subscription.failing_since is not None
        reason = rules.disabled_reason(subscription.failing_since, error)
        if attempt_rows.disable(webhook_id, reason, at):
            log.warning(
                "webhook subscription disabled", extra={"webhook_id": webhook_id, "why": reason}
            )


def prune(retention: timedelta = RETENTION) -> tuple[int, int]:
    """Removes events older than `retention` (real time) with their finished
    deliveries and attempts, a batch per transaction; (deliveries, events)."""
    before = now() - retention
    deliveries = events = 0
    for _ in range(PRUNE_BATCHES_MAX):
        removed_deliveries, removed_events = tx.write(lambda: rows.prune_finished(before))
        deliveries += removed_deliveries
        events += removed_events
        if removed_deliveries < rows.PRUNE_BATCH and removed_events < rows.PRUNE_BATCH:
            break
    return deliveries, events


def secret_unreadable(duration_ms: int = 0) -> rules.Answer:
    """What an attempt whose secret does not open comes to."""
    return rules.Answer(error=ERROR_SECRET, duration_ms=duration_ms)
