"""Webhook delivery with several workers and dead ones: no event fanned out
twice, no delivery sent twice by racing workers, a delivery a dead worker
had claimed sent again once its lease passes, old events pruned."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import peewee
import pytest

from server.crypto.fields import FieldSealer
from server.domain.webhook_delivery import Answer
from server.services import webhook_delivery as deliveries
from server.store import outbox, tx
from server.store import webhook_deliveries as store
from server.store.models import OutboxEvent
from server.store.webhook_models import WebhookAttempt, WebhookDeliveryRow
from tests.common.webhook_receiver import Receiver, receiving
from tests.workers.webhook_support import (
    deliveries_of,
    quiet_everything,
    running_worker,
    sealer_for,
    subscribe,
    wait_until,
)

EVENTS = 150


@pytest.fixture(scope="module")
def sealer(tmp_path_factory: pytest.TempPathFactory) -> FieldSealer:
    return sealer_for(tmp_path_factory.mktemp("webhook-keys"))


@pytest.fixture(autouse=True)
def _quiet(database: peewee.Database) -> Iterator[None]:
    quiet_everything()
    yield
    quiet_everything()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def _emit_many(count: int) -> list[str]:
    now = deliveries.now()
    return tx.write(
        lambda: outbox.emit_many([("user.created", f"usr_{i}", {}) for i in range(count)], now)
    )


def test_racing_workers_send_each_delivery_once(sealer: FieldSealer, receiver: Receiver) -> None:
    webhook_id = subscribe(sealer, receiver.url, ["user.created"])
    event_ids = _emit_many(EVENTS)
    with running_worker(sealer, concurrency=8), running_worker(sealer, concurrency=8):
        receiver.wait_for(lambda r: len(r) >= EVENTS)
        time.sleep(0.3)  # a second send would arrive meanwhile
    hits = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert set(hits) == set(event_ids)
    assert max(hits.values()) == 1
    rows = deliveries_of(webhook_id)
    assert len(rows) == EVENTS
    wait_until(lambda: all(d.status == "SUCCEEDED" for d in deliveries_of(webhook_id)))
    assert (
        WebhookAttempt.select().where(WebhookAttempt.delivery_id.in_([d.id for d in rows])).count()
        == EVENTS
    )


def test_fanning_one_event_out_twice_breaks_the_unique_key(sealer: FieldSealer) -> None:
    webhook_id = subscribe(sealer, "http://127.0.0.1:9/", ["user.created"])
    (event_id,) = _emit_many(1)
    deliveries.fan_out()
    with pytest.raises(peewee.IntegrityError):
        tx.write(
            lambda: store.create_deliveries(
                [(event_id, "user.created", webhook_id)], deliveries.now()
            )
        )
    assert len(deliveries_of(webhook_id)) == 1


def test_a_delivery_claimed_by_a_dead_worker_is_sent_after_its_lease(
    sealer: FieldSealer, receiver: Receiver
) -> None:
    webhook_id = subscribe(sealer, receiver.url, ["user.created"])
    (event_id,) = _emit_many(1)
    deliveries.fan_out()
    (abandoned,) = deliveries.claim(10, sealer, lease=timedelta(seconds=1.5))
    # The worker that claimed it dies here, before sending. Another finds
    # nothing due until the lease passes, then sends it.
    assert deliveries.claim(10, sealer) == []
    started = time.monotonic()
    with running_worker(sealer):
        (request,) = receiver.wait_for(lambda r: len(r) >= 1)
        waited = time.monotonic() - started
        wait_until(lambda: deliveries_of(webhook_id)[0].status == "SUCCEEDED")
    assert waited >= 1.0
    assert request.headers["webhook-id"] == event_id
    # The dead worker's answer, should it come back late, is not recorded twice.
    assert deliveries.record([(abandoned, Answer(response_code=200))]) == 0
    (delivery,) = deliveries_of(webhook_id)
    assert delivery.attempt == 1


def test_old_events_are_pruned_with_their_finished_deliveries(sealer: FieldSealer) -> None:
    webhook_id = subscribe(sealer, "http://127.0.0.1:9/", ["user.created"])
    old_done, old_failing, recent, unpublished = _emit_many(4)
    deliveries.fan_out()
    long_ago = deliveries.now() - timedelta(days=31)

    def age() -> None:
        OutboxEvent.update(created_at=long_ago).where(
            OutboxEvent.event_id.in_([old_done, old_failing, unpublished])
        ).execute()
        OutboxEvent.update(published_at=None).where(OutboxEvent.event_id == unpublished).execute()
        WebhookDeliveryRow.update(status="SUCCEEDED", next_attempt_at=None).where(
            WebhookDeliveryRow.event_id.in_([old_done, recent])
        ).execute()
        WebhookDeliveryRow.update(status="FAILED").where(
            WebhookDeliveryRow.event_id == old_failing
        ).execute()

    tx.write(age)
    done_delivery = next(d for d in deliveries_of(webhook_id) if d.event_id == old_done)
    WebhookAttempt.create(
        id=f"{done_delivery.id}.1",
        delivery_id=done_delivery.id,
        attempt=1,
        response_code=200,
        duration_ms=1,
        attempted_at=long_ago,
    )
    removed_deliveries, removed_events = deliveries.prune()
    assert (removed_deliveries, removed_events) >= (1, 1)
    kept_events = {
        row.event_id
        for row in OutboxEvent.select().where(
            OutboxEvent.event_id.in_([old_done, old_failing, recent, unpublished])
        )
    }
    assert kept_events == {old_failing, recent, unpublished}
    assert {d.event_id for d in deliveries_of(webhook_id)} == {old_failing, recent, unpublished}
    assert (
        WebhookAttempt.select().where(WebhookAttempt.delivery_id == done_delivery.id).count() == 0
    )
