"""WebhookService events and deliveries through the real server (REST via
Envoy and gRPC, both databases): the event list and its filters, ping,
the delivery log with its attempts, redelivery.

Events are written straight into the outbox in a window of their own (days
back, already published so the delivery worker leaves them alone), so the
filters see only this test's events whatever other tests emit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from backoffice.v1 import webhook_service_pb2 as pb
from backoffice.v1 import webhook_service_pb2_grpc as pb_grpc
from server.domain.ids import new_id
from server.run import Stack
from tests.common import envelope
from tests.common.accounts import Db, server_now
from tests.common.principals import Caller
from tests.common.webhooks import admin_client, stub, subscribe
from tests.conftest import Rest

StatusCode = grpc.StatusCode


@pytest.fixture(scope="module")
def db(stack: Stack) -> Iterator[Db]:
    database = Db(stack)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def owner(stack: Stack, raw_channel: grpc.Channel) -> Iterator[Caller]:
    with admin_client(stack, raw_channel) as who:
        yield who


def _iso(value: datetime) -> str:
    return value.isoformat() + "Z"


def _event(db: Db, event_type: str, at: datetime, data: dict[str, Any]) -> str:
    """An outbox event as the server writes one, already fanned out."""
    event_id = new_id("evt")
    payload = {"id": event_id, "event": event_type, "timestamp": _iso(at), "data": data}
    db.execute(
        "INSERT INTO outbox_events (event_id, type, aggregate_id, payload, created_at,"
        " published_at) VALUES (?, ?, ?, ?, ?, ?)",
        (event_id, event_type, "agg_test", json.dumps(payload), at, at),
    )
    return event_id


@pytest.fixture
def window(db: Db, rest: Rest) -> tuple[datetime, list[str]]:
    """Five events a few days back, a second apart (oldest first), and the window's start."""
    start = server_now(rest) - timedelta(days=20, seconds=uuid.uuid4().int % 100_000)
    kinds = [
        "transaction.created",
        "account.created",
        "transaction.completed",
        "transaction.failed",
        "user.created",
    ]
    ids = [
        _event(db, kind, start + timedelta(seconds=i), {"account_id": "acc_x", "n": i})
        for i, kind in enumerate(kinds)
    ]
    return start, ids


def _listed(rest: Rest, query: str) -> dict[str, Any]:
    return envelope.success(rest.get(f"/v1/events?{query}"))


# -- Events -----------------------------------------------------------------------------
def test_events_newest_first_with_filters(rest: Rest, window: tuple[datetime, list[str]]) -> None:
    start, ids = window
    span = f"since={_iso(start)}&until={_iso(start + timedelta(seconds=5))}"
    everything = _listed(rest, span)
    assert [event["id"] for event in everything["events"]] == ids[::-1]
    assert everything["pagination"]["totalCount"] == 5
    newest = everything["events"][0]
    assert newest["type"] == "user.created"
    assert newest["data"] == {"accountId": "acc_x", "n": 4}
    assert newest["createdAt"] == _iso(start + timedelta(seconds=4))

    family = _listed(rest, f"{span}&type=transaction.*")
    assert [event["id"] for event in family["events"]] == [ids[3], ids[2], ids[0]]
    exact = _listed(rest, f"{span}&type=account.created")
    assert [event["id"] for event in exact["events"]] == [ids[1]]
    narrow = _listed(
        rest,
        f"since={_iso(start + timedelta(seconds=1))}&until={_iso(start + timedelta(seconds=3))}",
    )
    assert [event["id"] for event in narrow["events"]] == [ids[2], ids[1]]


def test_events_paging(rest: Rest, window: tuple[datetime, list[str]]) -> None:
    start, ids = window
    span = f"since={_iso(start)}&until={_iso(start + timedelta(seconds=5))}"
    seen: list[str] = []
    page = _listed(rest, f"{span}&limit=2")
    while True:
        seen += [event["id"] for event in page["events"]]
        token = page["pagination"].get("nextPageToken")
        if not token:
            break
        page = _listed(rest, f"{span}&limit=2&pageToken={token}")
    assert seen == ids[::-1]
    third = _listed(rest, f"{span}&limit=2&page=3")
    assert [event["id"] for event in third["events"]] == [ids[0]]
    assert third["pagination"]["currentPage"] == 3
    token = _listed(rest, f"{span}&limit=2")["pagination"]["nextPageToken"]
    refused = rest.get(f"/v1/events?{span}&type=user.created&limit=2&pageToken={token}")
    envelope.error(refused, 422, "VALIDATION_ERROR", "pageToken")


def test_event_read_over_rest_and_grpc(
    rest: Rest, grpc_channel: grpc.Channel, window: tuple[datetime, list[str]]
) -> None:
    _, ids = window
    event = envelope.success(rest.get(f"/v1/events/{ids[2]}"))["event"]
    assert event["type"] == "transaction.completed"
    assert event["data"]["accountId"] == "acc_x"
    service = pb_grpc.WebhookServiceStub(grpc_channel)
    reply = service.GetWebhookEvent(pb.GetWebhookEventRequest(event_id=ids[2]), timeout=30)
    assert reply.event.id == ids[2] and reply.event.data["n"] == 2
    envelope.error(rest.get("/v1/events/evt_nothing"), 404, "NOT_FOUND")
    since = Timestamp()
    since.FromDatetime(window[0])
    # The window alone: other tests' events, written while the sandbox clock
    # stood elsewhere, may be newer.
    until = Timestamp()
    until.FromDatetime(window[0] + timedelta(seconds=10))
    listed = service.ListWebhookEvents(
        pb.ListWebhookEventsRequest(type="user.*", since=since, until=until, limit=100),
        timeout=30,
    )
    assert ids[4] in [item.id for item in listed.events]


def test_events_older_than_30_days_are_gone(db: Db, rest: Rest) -> None:
    old = server_now(rest) - timedelta(days=31)
    event_id = _event(db, "account.created", old, {"account_id": "acc_old"})
    envelope.error(rest.get(f"/v1/events/{event_id}"), 404, "NOT_FOUND")
    listed = _listed(
        rest, f"since={_iso(old - timedelta(days=1))}&until={_iso(old + timedelta(seconds=1))}"
    )
    assert listed["events"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=Transaction.*", "type"),
        ("type=transaction.*.*", "type"),
        ("type=" + "a" * 101, "type"),
        ("since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "until"),
        ("limit=-1", "limit"),
    ],
)
def test_event_list_refusals(rest: Rest, query: str, field: str) -> None:
    envelope.error(rest.get(f"/v1/events?{query}"), 422, "VALIDATION_ERROR", field)


# -- Ping ------------------------------------------------------------------------------
def test_ping_delivers_to_this_subscription_only(owner: Caller, rest: Rest, db: Db) -> None:
    everything = subscribe(owner, events=["*"])
    created = subscribe(owner)
    response = owner.rest.post(f"/v1/webhooks/{created['id']}/ping", json={})
    delivery = envelope.success(response, 202)["delivery"]
    assert delivery["id"].startswith("dlv_")
    assert delivery["status"] == "PENDING" and delivery["attempt"] == 0
    assert delivery["webhookId"] == created["id"]
    assert delivery["eventType"] == "webhook.ping"
    assert "redeliveryOf" not in delivery
    # A ping belongs to its subscription's delivery log, not to the bank's
    # events: no client (its owner included) lists it or reads it there.
    envelope.error(rest.get(f"/v1/events/{delivery['eventId']}"), 404, "NOT_FOUND")
    listed_events = envelope.success(rest.get("/v1/events?type=webhook.ping"))["events"]
    assert listed_events == []
    rows = db.execute(
        "SELECT webhook_id FROM webhook_deliveries WHERE event_id = ?", (delivery["eventId"],)
    )
    assert rows == [(created["id"],)]  # never fanned out to the `*` subscription
    published = db.execute(
        "SELECT published_at FROM outbox_events WHERE event_id = ?", (delivery["eventId"],)
    )
    assert published[0][0] is not None
    listed = envelope.success(owner.rest.get(f"/v1/webhooks/{created['id']}/deliveries"))
    assert [item["id"] for item in listed["deliveries"]] == [delivery["id"]]
    assert (
        envelope.success(owner.rest.get(f"/v1/webhooks/{everything['id']}/deliveries"))[
            "deliveries"
        ]
        == []
    )


def test_ping_refusals(owner: Caller) -> None:
    inactive = subscribe(owner, active=False)
    refused = owner.rest.post(f"/v1/webhooks/{inactive['id']}/ping", json={})
    envelope.error(refused, 409, "CONFLICT")
    with pytest.raises(grpc.RpcError) as caught:
        stub(owner).PingWebhookSubscription(
            pb.PingWebhookSubscriptionRequest(webhook_id=inactive["id"]), timeout=30
        )
    envelope.grpc_error(caught.value, StatusCode.FAILED_PRECONDITION, "CONFLICT")
    envelope.error(owner.rest.post("/v1/webhooks/whk_nope/ping", json={}), 404, "NOT_FOUND")


# -- The delivery log ------------------------------------------------------------------------
def _dead_delivery(db: Db, webhook_id: str, event_id: str, at: datetime) -> str:
    """A delivery whose 2 attempts failed and that is DEAD (the worker leaves it)."""
    delivery_id = new_id("dlv")
    db.execute(
        "INSERT INTO webhook_deliveries (id, event_id, event_type, webhook_id, status, attempt,"
        " response_code, response_body_excerpt, error, duration_ms, created_at,"
        " last_attempt_at) VALUES (?, ?, ?, ?, 'DEAD', 2, 410, 'gone', 'HTTP 410', 12, ?, ?)",
        (delivery_id, event_id, "account.created", webhook_id, at, at + timedelta(seconds=5)),
    )
    for attempt, code, error, next_at in (
        (2, 410, "HTTP 410", None),
        (1, 0, "timeout", at + timedelta(seconds=5)),
    ):
        db.execute(
            "INSERT INTO webhook_attempts (id, delivery_id, attempt, response_code,"
            " response_body_excerpt, error, duration_ms, attempted_at, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                f"att_{uuid.uuid4().hex[:20]}",
                delivery_id,
                attempt,
                code,
                "gone" if code else None,
                error,
                10_000 if not code else 12,
                at + timedelta(seconds=5 * (attempt - 1)),
                next_at,
            ),
        )
    return delivery_id


def test_get_delivery_with_attempts(owner: Caller, db: Db, rest: Rest) -> None:
    created = subscribe(owner)
    at = server_now(rest) - timedelta(hours=1)
    event_id = _event(db, "account.created", at, {"account_id": "acc_y"})
    delivery_id = _dead_delivery(db, created["id"], event_id, at)
    path = f"/v1/webhooks/{created['id']}/deliveries/{delivery_id}"
    data = envelope.success(owner.rest.get(path))
    assert data["delivery"]["status"] == "DEAD"
    assert data["delivery"]["responseCode"] == 410
    assert data["delivery"]["error"] == "HTTP 410"
    assert [attempt["attempt"] for attempt in data["attempts"]] == [1, 2]
    first, second = data["attempts"]
    assert first["error"] == "timeout" and first["responseCode"] == 0
    assert first["durationMs"] == 10_000 and "responseBodyExcerpt" not in first
    assert first["nextAttemptAt"] == _iso(at + timedelta(seconds=5))
    assert second["responseBodyExcerpt"] == "gone" and "nextAttemptAt" not in second
    reply = stub(owner).GetWebhookDelivery(
        pb.GetWebhookDeliveryRequest(webhook_id=created["id"], delivery_id=delivery_id),
        timeout=30,
    )
    assert [attempt.attempt for attempt in reply.attempts] == [1, 2]
    other = subscribe(owner)
    wrong = f"/v1/webhooks/{other['id']}/deliveries/{delivery_id}"
    envelope.error(owner.rest.get(wrong), 404, "NOT_FOUND")


def test_redeliver(owner: Caller, db: Db, rest: Rest) -> None:
    created = subscribe(owner)
    at = server_now(rest) - timedelta(hours=2)
    event_id = _event(db, "account.created", at, {"account_id": "acc_z"})
    # Deliveries run on real time (the redelivery's too), whatever the sandbox clock says.
    sent_at = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2)
    dead = _dead_delivery(db, created["id"], event_id, sent_at)
    base = f"/v1/webhooks/{created['id']}/deliveries"
    again = envelope.success(owner.rest.post(f"{base}/{dead}/redeliver", json={}), 202)["delivery"]
    assert again["id"] != dead and again["redeliveryOf"] == dead
    assert again["status"] == "PENDING" and again["attempt"] == 0
    assert again["eventId"] == event_id and again["eventType"] == "account.created"
    assert "nextAttemptAt" in again
    original = envelope.success(owner.rest.get(f"{base}/{dead}"))["delivery"]
    assert original["status"] == "DEAD" and original["attempt"] == 2
    listed = envelope.success(owner.rest.get(base))["deliveries"]
    assert [item["id"] for item in listed] == [again["id"], dead]
    only_dead = envelope.success(owner.rest.get(f"{base}?status=DEAD"))["deliveries"]
    assert [item["id"] for item in only_dead] == [dead]
    by_event = envelope.success(owner.rest.get(f"{base}?eventId={event_id}&limit=1"))
    assert by_event["pagination"]["totalCount"] == 2
    assert len(by_event["deliveries"]) == 1

    envelope.error(owner.rest.post(f"{base}/dlv_nope/redeliver", json={}), 404, "NOT_FOUND")
    envelope.error(owner.rest.get(f"{base}?status=LOST"), 400, "INVALID_REQUEST")
    envelope.success(owner.rest.patch(f"/v1/webhooks/{created['id']}", json={"active": False}))
    refused = owner.rest.post(f"{base}/{dead}/redeliver", json={})
    envelope.error(refused, 409, "CONFLICT")


def test_redeliver_of_an_expired_event(owner: Caller, db: Db, rest: Rest) -> None:
    created = subscribe(owner)
    at = server_now(rest) - timedelta(days=31)
    event_id = _event(db, "account.created", at, {"account_id": "acc_old"})
    dead = _dead_delivery(db, created["id"], event_id, at)
    path = f"/v1/webhooks/{created['id']}/deliveries/{dead}/redeliver"
    envelope.error(owner.rest.post(path, json={}), 404, "NOT_FOUND")
    request = pb.RedeliverWebhookEventRequest(webhook_id=created["id"], delivery_id=dead)
    with pytest.raises(grpc.RpcError) as caught:
        stub(owner).RedeliverWebhookEvent(request, timeout=30)
    envelope.grpc_error(caught.value, StatusCode.NOT_FOUND, "NOT_FOUND")


def test_delete_drops_deliveries_and_attempts(owner: Caller, db: Db, rest: Rest) -> None:
    created = subscribe(owner)
    at = server_now(rest) - timedelta(hours=3)
    event_id = _event(db, "account.created", at, {"account_id": "acc_d"})
    dead = _dead_delivery(db, created["id"], event_id, at)
    envelope.success(owner.rest.delete(f"/v1/webhooks/{created['id']}"))
    assert db.execute("SELECT id FROM webhook_deliveries WHERE id = ?", (dead,)) == []
    assert db.execute("SELECT id FROM webhook_attempts WHERE delivery_id = ?", (dead,)) == []
