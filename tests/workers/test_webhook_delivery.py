"""The webhook worker against both databases and a local receiver: events
fanned out to matching active subscriptions, sent signed, retried with the
same id, given up, refused before connecting, subscriptions switched off."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from datetime import timedelta

import peewee
import pytest
from standardwebhooks import Webhook

from server.crypto.fields import FieldSealer
from server.domain import webhook_events
from server.domain.principal import ADMIN, Principal
from server.services import transfers
from server.services import webhook_delivery as deliveries
from server.services.context import RequestContext
from server.store import outbox, tx
from server.store.bootstrap import ensure_internal_accounts
from server.store.models import OutboxEvent
from server.store.webhook_models import WebhookAttempt, WebhookSubscription
from server.workers import webhook_sender
from tests.common.webhook_receiver import Received, Receiver, receiving
from tests.store import rows
from tests.workers.webhook_support import (
    FAST,
    PLAIN_SECRET,
    deliveries_of,
    quiet_everything,
    running_worker,
    sealer_for,
    subscribe,
    subscription,
    wait_until,
)

STAFF = RequestContext(principal=Principal(client_id="sandbox-client", role=ADMIN))
WHSEC = "whsec_" + base64.b64encode(b"w" * 32).decode()


@pytest.fixture(scope="module")
def sealer(tmp_path_factory: pytest.TempPathFactory) -> FieldSealer:
    return sealer_for(tmp_path_factory.mktemp("webhook-keys"))


@pytest.fixture(autouse=True)
def _quiet(database: peewee.Database) -> Iterator[None]:
    ensure_internal_accounts()
    quiet_everything()
    yield
    quiet_everything()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def _emit(event_type: str, data: dict[str, object] | None = None) -> str:
    return tx.write(lambda: outbox.emit(event_type, "agg_1", data or {}, deliveries.now()))


def _payload(event_id: str) -> str:
    return str(OutboxEvent.get(OutboxEvent.event_id == event_id).payload)


def test_a_transfer_arrives_signed_once_per_event(sealer: FieldSealer, receiver: Receiver) -> None:
    webhook_id = subscribe(
        sealer,
        receiver.url + "/hooks",
        ["transaction.created", "transaction.completed"],
        secret=WHSEC,
    )
    owner = rows.customer("Webhook Owner")
    source, target = rows.account(owner, 100_00), rows.account(owner, 0)
    movement = transfers.transfer(
        transfers.TransferInput(from_account_id=source, to_account_id=target, amount=12.5), STAFF
    )
    with running_worker(sealer):
        got = receiver.wait_for(lambda r: len(r) >= 2)
        time.sleep(0.2)  # nothing more arrives
    assert len(receiver.received) == 2
    assert {r.document["event"] for r in got} == {"transaction.created", "transaction.completed"}
    for request in got:
        event_id = request.headers["webhook-id"]
        assert request.path == "/hooks"
        assert request.body == webhook_events.body(_payload(event_id))
        assert request.document["id"] == event_id
        assert request.document["data"]["transactionId"] == movement.transaction.id
        _assert_signed(request, WHSEC)
    wait_until(lambda: all(d.status == "SUCCEEDED" for d in deliveries_of(webhook_id)))
    for delivery in deliveries_of(webhook_id):
        assert (delivery.attempt, delivery.response_code) == (1, 200)
        assert delivery.response_body_excerpt == "ok"
        assert delivery.delivered_at is not None
        assert delivery.next_attempt_at is None
        assert delivery.error is None
        logged = list(WebhookAttempt.select().where(WebhookAttempt.delivery_id == delivery.id))
        assert [(a.attempt, a.response_code) for a in logged] == [(1, 200)]


def _assert_signed(request: Received, secret: str) -> None:
    key: str | bytes = secret if secret.startswith("whsec_") else secret.encode()
    Webhook(key).verify(request.body, request.headers)
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-webhook-signature"] == f"sha256={expected}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "BankingBackOffice-Webhooks/1"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60


def test_only_matching_active_subscriptions_get_an_event(
    sealer: FieldSealer, receiver: Receiver
) -> None:
    accounts = subscribe(sealer, receiver.url + "/accounts", ["account.created"])
    everything = subscribe(sealer, receiver.url + "/all", ["*"])
    inactive = subscribe(sealer, receiver.url + "/off", ["*"], active=False)
    user_event = _emit("user.created", {"user_id": "usr_1"})
    account_event = _emit("account.created", {"account_id": "acc_1"})
    with running_worker(sealer):
        receiver.wait_for(lambda r: len(r) >= 3)
        time.sleep(0.2)
    by_path = sorted((r.path, r.headers["webhook-id"]) for r in receiver.received)
    assert by_path == sorted(
        [("/accounts", account_event), ("/all", user_event), ("/all", account_event)]
    )
    assert [d.event_type for d in deliveries_of(accounts)] == ["account.created"]
    assert len(deliveries_of(everything)) == 2
    assert deliveries_of(inactive) == []  # events while inactive are not queued
    # The events were published, so a subscription made later gets none of them.
    assert OutboxEvent.get(OutboxEvent.event_id == user_event).published_at is not None


def test_a_published_event_is_not_fanned_out_again(sealer: FieldSealer) -> None:
    event_id = _emit("user.created")
    tx.write(
        lambda: (
            OutboxEvent.update(published_at=deliveries.now())
            .where(OutboxEvent.event_id == event_id)
            .execute()
        )
    )
    webhook_id = subscribe(sealer, "http://127.0.0.1:9/never", ["*"])
    assert deliveries.fan_out() == 0
    assert deliveries_of(webhook_id) == []


def test_a_failed_attempt_is_retried_with_the_same_id_and_body(
    sealer: FieldSealer, receiver: Receiver
) -> None:
    answers = iter([(500, b"down for maintenance"), (200, b"thanks")])
    receiver.answer = lambda _request: next(answers)
    webhook_id = subscribe(sealer, receiver.url, ["user.created"])
    event_id = _emit("user.created", {"user_id": "usr_retry"})
    with running_worker(sealer, schedule=FAST):
        first, second = receiver.wait_for(lambda r: len(r) >= 2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event_id
    assert first.body == second.body
    _assert_signed(second, PLAIN_SECRET)
    (delivery,) = wait_until(
        lambda: [d for d in deliveries_of(webhook_id) if d.status == "SUCCEEDED"]
    )
    assert (delivery.attempt, delivery.response_body_excerpt) == (2, "thanks")
    logged = list(
        WebhookAttempt.select()
        .where(WebhookAttempt.delivery_id == delivery.id)
        .order_by(WebhookAttempt.attempt)
    )
    assert [(a.attempt, a.response_code, a.error) for a in logged] == [
        (1, 500, "HTTP 500"),
        (2, 200, None),
    ]
    assert logged[0].response_body_excerpt == "down for maintenance"
    assert logged[0].next_attempt_at is not None and logged[1].next_attempt_at is None
    assert subscription(webhook_id).failing_since is None  # the success ended the run


def test_the_last_failed_attempt_is_dead_and_410_at_once(
    sealer: FieldSealer, receiver: Receiver
) -> None:
    receiver.answer = lambda r: (410, b"gone") if r.path == "/gone" else (503, b"busy")
    failing = subscribe(sealer, receiver.url + "/busy", ["user.created"])
    gone = subscribe(sealer, receiver.url + "/gone", ["user.created"])
    _emit("user.created")
    with running_worker(sealer, schedule=FAST[:2]):
        wait_until(
            lambda: (
                [d.status for d in deliveries_of(failing) + deliveries_of(gone)] == ["DEAD", "DEAD"]
            )
        )
    (dead,) = deliveries_of(failing)
    assert (dead.attempt, dead.response_code, dead.error) == (3, 503, "HTTP 503")
    assert dead.next_attempt_at is None
    (gone_delivery,) = deliveries_of(gone)
    assert (gone_delivery.attempt, gone_delivery.error) == (1, "HTTP 410")
    assert [r.path for r in receiver.received].count("/busy") == 3
    assert subscription(failing).failing_since is not None
    assert subscription(failing).active  # three days have not passed


def test_during_a_rotation_both_secrets_sign(sealer: FieldSealer, receiver: Receiver) -> None:
    subscribe(
        sealer,
        receiver.url,
        ["user.created"],
        secret=WHSEC,
        previous_secret=PLAIN_SECRET,
        previous_expires_in=timedelta(hours=24),
    )
    _emit("user.created")
    with running_worker(sealer):
        (request,) = receiver.wait_for(lambda r: len(r) >= 1)
    entries = request.headers["webhook-signature"].split(" ")
    assert len(entries) == 2
    Webhook(WHSEC).verify(request.body, {**request.headers, "webhook-signature": entries[0]})
    Webhook(PLAIN_SECRET.encode()).verify(
        request.body, {**request.headers, "webhook-signature": entries[1]}
    )
    _assert_signed(request, WHSEC)  # X-Webhook-Signature: the new secret's only


def test_a_refused_address_gets_no_connection(sealer: FieldSealer, receiver: Receiver) -> None:
    """Production mode: the metadata address and a name resolving to loopback
    (the receiver itself, which would answer) are refused before connecting."""
    metadata = subscribe(sealer, "http://169.254.169.254/latest/meta-data", ["user.created"])
    loopback = subscribe(sealer, f"http://localhost:{receiver.address[1]}/hook", ["user.created"])
    _emit("user.created")
    with running_worker(sealer, sandbox=False) as worker:
        wait_until(
            lambda: [d.attempt for d in deliveries_of(metadata) + deliveries_of(loopback)] == [1, 1]
        )
        assert worker.sender.backend.connections == 0
    (refused,) = deliveries_of(metadata)
    assert (refused.status, refused.response_code) == ("FAILED", 0)
    assert refused.error == "address refused: link-local address"
    (local,) = deliveries_of(loopback)
    assert local.error is not None
    assert local.error.startswith("address refused: ") and "loopback address" in local.error
    assert receiver.received == []
    assert receiver.connections == 0


def test_the_checked_address_is_the_one_connected_to(
    sealer: FieldSealer, receiver: Receiver
) -> None:
    """The name is resolved by the check and the connection goes to what the
    check returned (here the receiver), while Host still names the name."""
    import ipaddress  # noqa: PLC0415

    seen: list[str] = []

    def check(host: str, port: int, sandbox: bool) -> list[ipaddress.IPv4Address]:
        seen.append(host)
        return [ipaddress.IPv4Address("127.0.0.1")]

    subscribe(sealer, f"http://hooks.example.invalid:{receiver.address[1]}/in", ["user.created"])
    _emit("user.created")
    with running_worker(sealer, check=check):
        (request,) = receiver.wait_for(lambda r: len(r) >= 1)
    assert seen == ["hooks.example.invalid"]
    assert request.headers["host"] == f"hooks.example.invalid:{receiver.address[1]}"


def test_redirects_timeouts_and_long_answers(
    sealer: FieldSealer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_sender, "ATTEMPT_TIMEOUT_SECONDS", 0.5)

    def answer(request: Received) -> tuple[int, bytes]:
        if request.path == "/slow":
            time.sleep(1.5)
        if request.path == "/moved":
            return 302, b"see elsewhere"
        return 200, b"x" * 5000

    receiver.answer = answer
    moved = subscribe(sealer, receiver.url + "/moved", ["user.created"])
    slow = subscribe(sealer, receiver.url + "/slow", ["user.created"])
    long = subscribe(sealer, receiver.url + "/long", ["user.created"])
    _emit("user.created")
    with running_worker(sealer):
        wait_until(
            lambda: (
                all(d.attempt == 1 for w in (moved, slow, long) for d in deliveries_of(w))
                and all(deliveries_of(w) for w in (moved, slow, long))
            )
        )
    (redirect,) = deliveries_of(moved)
    assert (redirect.status, redirect.response_code, redirect.error) == ("FAILED", 302, "HTTP 302")
    (timed_out,) = deliveries_of(slow)
    assert (timed_out.status, timed_out.response_code, timed_out.error) == ("FAILED", 0, "timeout")
    (kept,) = deliveries_of(long)
    assert kept.status == "SUCCEEDED"
    assert kept.response_body_excerpt == "x" * 1024
    assert [r.path for r in receiver.received].count("/moved") == 1


def test_a_subscription_failing_for_three_days_is_switched_off(
    sealer: FieldSealer, receiver: Receiver
) -> None:
    receiver.answer = lambda _request: (500, b"broken")
    webhook_id = subscribe(
        sealer, receiver.url, ["user.created"], failing_since_ago=timedelta(days=3, minutes=1)
    )
    _emit("user.created")
    with running_worker(sealer, schedule=FAST):
        wait_until(lambda: not subscription(webhook_id).active)
        # An event after that is not queued; the failed delivery is not retried.
        _emit("user.created")
        wait_until(lambda: deliveries_of(webhook_id)[0].status == "DEAD")
    disabled = subscription(webhook_id)
    assert disabled.disabled_reason is not None
    assert disabled.disabled_reason.startswith("failing since ")
    assert disabled.disabled_reason.endswith(": HTTP 500")
    assert disabled.disabled_at is not None
    (delivery,) = deliveries_of(webhook_id)
    assert (delivery.attempt, delivery.error) == (1, deliveries.ERROR_INACTIVE)
    assert len(receiver.received) == 1


def test_deliveries_of_a_deleted_subscription_or_expired_event_are_dead(
    sealer: FieldSealer,
) -> None:
    deleted = subscribe(sealer, "http://127.0.0.1:9/deleted", ["user.created"])
    kept = subscribe(sealer, "http://127.0.0.1:9/kept", ["user.created"])
    event_id = _emit("user.created")
    deliveries.fan_out()
    tx.write(
        lambda: WebhookSubscription.delete().where(WebhookSubscription.id == deleted).execute()
    )
    tx.write(lambda: OutboxEvent.delete().where(OutboxEvent.event_id == event_id).execute())
    assert deliveries.claim(10, sealer) == []
    assert [(d.status, d.error) for d in deliveries_of(deleted)] == [
        ("DEAD", deliveries.ERROR_DELETED)
    ]
    assert [(d.status, d.error) for d in deliveries_of(kept)] == [
        ("DEAD", deliveries.ERROR_EXPIRED)
    ]


def test_stopping_lets_attempts_in_flight_finish(sealer: FieldSealer, receiver: Receiver) -> None:
    def slow(_request: Received) -> tuple[int, bytes]:
        time.sleep(1.0)
        return 200, b"late but fine"

    receiver.answer = slow
    webhook_id = subscribe(sealer, receiver.url, ["user.created"])
    _emit("user.created")
    with running_worker(sealer):
        wait_until(lambda: receiver.received)
    # The block's end stopped the worker mid-attempt: the answer was recorded.
    (delivery,) = deliveries_of(webhook_id)
    assert (delivery.status, delivery.response_body_excerpt) == ("SUCCEEDED", "late but fine")
