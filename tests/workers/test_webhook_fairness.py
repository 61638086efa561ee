"""One receiver that is slow, down or does not resolve holds part of the
sending slots, never all of them: claims read due deliveries subscription by
subscription and cap each receiver (host and port); a host that does not
resolve is not asked for again for a minute. Both databases."""

from __future__ import annotations

import gzip
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import httpcore
import peewee
import pytest

from server.crypto.fields import FieldSealer
from server.domain import webhooks
from server.domain.webhook_delivery import endpoint
from server.services import webhook_delivery as deliveries
from server.store import outbox, tx
from server.store.webhook_models import WebhookSubscription
from server.workers.webhook_sender import PinnedBackend
from tests.common.webhook_receiver import Receiver, receiving
from tests.workers.webhook_support import (
    deliveries_of,
    quiet_everything,
    running_worker,
    sealer_for,
    subscribe,
    wait_until,
)

DEAD_HOST = "http://127.0.0.1:9/hooks"  # the discard port: nothing listens


@pytest.fixture(scope="module")
def sealer(tmp_path_factory: pytest.TempPathFactory) -> FieldSealer:
    return sealer_for(tmp_path_factory.mktemp("webhook-keys"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@pytest.fixture(autouse=True)
def _quiet(database: peewee.Database) -> Iterator[None]:
    quiet_everything()
    yield
    quiet_everything()


def _emit(count: int, event_type: str = "user.created") -> list[str]:
    now = deliveries.now()
    return tx.write(
        lambda: outbox.emit_many([(event_type, f"usr_{i}", {}) for i in range(count)], now)
    )


def test_a_backlog_of_one_subscription_never_fills_the_claim(sealer: FieldSealer) -> None:
    # Eight subscriptions of one receiver that is down, each with a backlog,
    # written before the one subscription whose receiver is up.
    down = [subscribe(sealer, DEAD_HOST, ["user.created"]) for _ in range(8)]
    _emit(40)
    deliveries.fan_out(100_000)
    up = subscribe(sealer, "http://127.0.0.1:8765/in", ["account.created"])
    _emit(1, "account.created")
    deliveries.fan_out(100_000)

    jobs = deliveries.claim(6, sealer, per_endpoint=3)
    by_receiver = Counter(endpoint(job.url) for job in jobs)
    assert by_receiver == {"127.0.0.1:9": 3, "127.0.0.1:8765": 1}
    # Read subscription by subscription: the 320 older deliveries of the
    # receiver that is down do not hide the one of the receiver that is up.
    assert [job.delivery.webhook_id for job in jobs].count(up) == 1
    assert {job.delivery.webhook_id for job in jobs} - {up} <= set(down)

    # Slots the worker already has in flight count: the down receiver gets none.
    _emit(1, "account.created")
    deliveries.fan_out(100_000)
    jobs = deliveries.claim(6, sealer, per_endpoint=3, in_flight={"127.0.0.1:9": 3})
    assert [job.delivery.webhook_id for job in jobs] == [up]
    # What was passed over stays due, unleased.
    assert sum(d.next_attempt_at <= deliveries.now() for s in down for d in deliveries_of(s)) > 0


def test_a_receiver_that_is_up_gets_its_events_while_another_hangs(
    sealer: FieldSealer,
) -> None:
    hanging_seconds = 3.0

    def hang(_request: object) -> tuple[int, bytes]:
        time.sleep(hanging_seconds)
        return 204, b""

    with receiving() as slow, receiving() as fast:
        slow.answer = hang
        for _ in range(4):
            subscribe(sealer, f"{slow.url}/slow", ["user.created"])
        quick = subscribe(sealer, f"{fast.url}/fast", ["account.created"])
        _emit(30)  # 120 deliveries to the hanging receiver first
        wanted = _emit(3, "account.created")
        started = time.monotonic()
        with running_worker(sealer, concurrency=8, per_endpoint=4):
            fast.wait_for(lambda r: len(r) >= len(wanted), timeout=hanging_seconds * 2)
            took = time.monotonic() - started
            wait_until(
                lambda: [d.status for d in deliveries_of(quick)] == ["SUCCEEDED"] * len(wanted)
            )
        assert {r.headers["webhook-id"] for r in fast.received} == set(wanted)
        # Without the cap, eight slots wait on the hanging receiver first.
        assert took < hanging_seconds


def _unresolvable(calls: list[str]) -> webhooks.Resolver:
    def resolve(host: str, *_: object) -> Sequence[Any]:
        calls.append(host)
        raise OSError("Name or service not known")

    return resolve


def test_a_host_that_does_not_resolve_is_not_asked_for_again_for_a_minute() -> None:
    calls: list[str] = []
    backend = PinnedBackend(
        sandbox=False,
        check=lambda host, port, sandbox: webhooks.check_host(
            host, port, sandbox, _unresolvable(calls)
        ),
    )
    for _ in range(3):
        with pytest.raises(httpcore.ConnectError, match="does not resolve"):
            backend.connect_tcp("gone.example", 443, timeout=1)
    assert calls == ["gone.example"]
    with pytest.raises(httpcore.ConnectError):
        backend.connect_tcp("other.example", 443, timeout=1)
    assert calls == ["gone.example", "other.example"]


def test_receivers_hold_no_slots_once_their_attempts_are_recorded(
    sealer: FieldSealer, receiver: Receiver
) -> None:
    webhook_id = subscribe(sealer, receiver.url, ["user.created"])
    _emit(5)
    with running_worker(sealer, concurrency=4, per_endpoint=2) as worker:
        wait_until(lambda: [d.status for d in deliveries_of(webhook_id)] == ["SUCCEEDED"] * 5)
        wait_until(lambda: not worker._per_endpoint and worker._in_flight == 0)
    assert len(receiver.received) == 5


# -- what one receiver's answers can do to the others ------------------------------------
def test_an_answer_with_nul_bytes_is_recorded(sealer: FieldSealer, receiver: Receiver) -> None:
    receiver.answer = lambda _request: (200, b"ok\x00")
    webhook_id = subscribe(sealer, receiver.url, ["user.created"])
    _emit(3)
    with running_worker(sealer, concurrency=4):
        wait_until(lambda: [d.status for d in deliveries_of(webhook_id)] == ["SUCCEEDED"] * 3)
    assert {d.response_body_excerpt for d in deliveries_of(webhook_id)} == {"ok\ufffd"}
    assert len(receiver.received) == 3  # recorded the first time: never sent again


def test_an_attempt_the_database_refuses_holds_back_no_other(
    sealer: FieldSealer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    poisoned = subscribe(sealer, f"{receiver.url}/poisoned", ["user.created"])
    healthy = subscribe(sealer, f"{receiver.url}/healthy", ["user.created"])
    record = deliveries.record

    def refusing(results: Sequence[Any], *args: Any) -> int:
        if any(job.delivery.webhook_id == poisoned for job, _ in results):
            raise peewee.IntegrityError("refused (test)")
        return record(results, *args)

    monkeypatch.setattr(deliveries, "record", refusing)
    _emit(6)
    with running_worker(sealer, concurrency=12, per_endpoint=12):
        wait_until(lambda: [d.status for d in deliveries_of(healthy)] == ["SUCCEEDED"] * 6)
    assert all(d.attempt == 0 for d in deliveries_of(poisoned))  # never recorded


def test_a_compressed_answer_is_never_inflated(sealer: FieldSealer, receiver: Receiver) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # 50 MB of zeros in about 50 KB

    receiver.answer = lambda _request: (200, bomb)
    receiver.extra_headers = {"content-encoding": "gzip"}
    webhook_id = subscribe(sealer, receiver.url, ["user.created"])
    _emit(1)
    tracemalloc.start()
    try:
        with running_worker(sealer, concurrency=2):
            wait_until(lambda: [d.status for d in deliveries_of(webhook_id)] == ["SUCCEEDED"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, peak
    (request,) = receiver.received
    assert request.headers["accept-encoding"] == "identity"


def test_a_fair_worker_gives_up_deliveries_of_inactive_and_deleted_subscriptions(
    sealer: FieldSealer,
) -> None:
    paused = subscribe(sealer, DEAD_HOST, ["user.created"])
    gone = subscribe(sealer, f"{DEAD_HOST}/gone", ["user.created"])
    _emit(2)
    deliveries.fan_out(100_000)

    def switch() -> None:
        WebhookSubscription.update(active=False).where(WebhookSubscription.id == paused).execute()
        WebhookSubscription.delete().where(WebhookSubscription.id == gone).execute()

    tx.write(switch)
    with running_worker(sealer, concurrency=4):  # fair: reads active subscriptions only
        wait_until(
            lambda: {d.status for d in deliveries_of(paused) + deliveries_of(gone)} == {"DEAD"}
        )
    assert {d.error for d in deliveries_of(paused)} == {deliveries.ERROR_INACTIVE}
    assert {d.error for d in deliveries_of(gone)} == {deliveries.ERROR_DELETED}
