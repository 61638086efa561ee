"""What the webhook worker tests share: subscriptions written as rows, a
worker run on a thread of its own, the delivery rows read back."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from server.crypto.fields import FieldSealer, load_keyring
from server.domain.ids import new_id
from server.services import webhook_delivery as deliveries
from server.store import sealed, tx
from server.store.webhook_models import WebhookDeliveryRow, WebhookSubscription
from server.workers.webhooks import Knobs, Worker

PLAIN_SECRET = "test-secret-of-the-receiver"
FAST = (timedelta(milliseconds=200), timedelta(milliseconds=200), timedelta(milliseconds=200))


def sealer_for(directory: Path) -> FieldSealer:
    return load_keyring(directory / "keys")


def subscribe(
    sealer: FieldSealer,
    url: str,
    events: Sequence[str] = ("*",),
    *,
    secret: str = PLAIN_SECRET,
    previous_secret: str | None = None,
    previous_expires_in: timedelta | None = None,
    active: bool = True,
    failing_since_ago: timedelta | None = None,
) -> str:
    """A subscription row, its secrets sealed as the API seals them."""
    webhook_id = new_id("whk")
    now = deliveries.now()
    tx.write(
        lambda: WebhookSubscription.create(
            id=webhook_id,
            client_id="sandbox-client",
            url=url,
            events=json.dumps(list(events)),
            description=None,
            active=active,
            secret=sealed.seal(sealer, sealed.WEBHOOK_SECRET, webhook_id, secret),
            previous_secret=sealed.seal(
                sealer, sealed.WEBHOOK_PREVIOUS_SECRET, webhook_id, previous_secret
            ),
            previous_secret_expires_at=(
                now + previous_expires_in if previous_expires_in is not None else None
            ),
            failing_since=now - failing_since_ago if failing_since_ago else None,
            created_at=now,
            updated_at=now,
        )
    )
    return webhook_id


def quiet_everything() -> None:
    """Every subscription inactive, every delivery finished, every event
    published: the next test starts with nothing to send."""

    def work() -> None:
        WebhookSubscription.update(active=False).execute()
        WebhookDeliveryRow.update(status="DEAD", next_attempt_at=None).where(
            WebhookDeliveryRow.status.in_(("PENDING", "FAILED"))
        ).execute()

    tx.write(work)
    deliveries.fan_out(100_000)


def deliveries_of(webhook_id: str) -> list[WebhookDeliveryRow]:
    return list(
        WebhookDeliveryRow.select()
        .where(WebhookDeliveryRow.webhook_id == webhook_id)
        .order_by(WebhookDeliveryRow.created_at, WebhookDeliveryRow.id)
    )


def subscription(webhook_id: str) -> WebhookSubscription:
    return WebhookSubscription.get_by_id(webhook_id)


def wait_until(found: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


@contextmanager
def running_worker(sealer: FieldSealer, **knobs: Any) -> Iterator[Worker]:
    """A worker looping on a thread of its own until the block ends (its stop
    is SIGTERM's: attempts in flight finish and are recorded)."""
    settings: dict[str, Any] = {"poll_seconds": 0.02, "prune_first_seconds": 3600.0}
    worker = Worker(Knobs(**{**settings, **knobs}), sealer)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name="webhook-worker")
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive(), "the worker did not stop"
