"""WebhookService subscriptions through the real server: REST via Envoy and
gRPC, on both databases; the production mode's URL rules on a stack of
their own."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest

from backoffice.v1 import webhook_service_pb2 as pb
from server.run import Stack
from tests.common import audit, envelope
from tests.common.accounts import Db
from tests.common.auth import create_client, token_over_rest
from tests.common.principals import CUSTOMER_SCOPES, Caller, client_caller
from tests.common.stack import stack_settings, started
from tests.common.webhooks import SEED_BODY, admin_client, stub, subscribe
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


@pytest.fixture
def other(stack: Stack, raw_channel: grpc.Channel) -> Iterator[Caller]:
    with admin_client(stack, raw_channel) as who:
        yield who


def _stored(db: Db, webhook_id: str) -> tuple[Any, ...]:
    rows = db.execute(
        "SELECT secret, previous_secret, previous_secret_expires_at, client_id"
        " FROM webhook_subscriptions WHERE id = ?",
        (webhook_id,),
    )
    assert len(rows) == 1
    return rows[0]


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# -- Create, read, list ------------------------------------------------------------------
def test_seed_000_body_subscribes(owner: Caller, db: Db) -> None:
    created = subscribe(owner)
    assert created["id"].startswith("whk_")
    assert created["url"] == SEED_BODY["url"]
    assert created["events"] == SEED_BODY["events"]
    assert created["secret"] == "webhook_secret_key"
    assert created["active"] is True
    assert created["clientId"] == owner.name
    assert created["createdAt"] == created["updatedAt"]
    for absent in ("disabledReason", "disabledAt", "failingSince", "description"):
        assert absent not in created
    secret, previous, _, client_id = _stored(db, created["id"])
    assert secret.startswith("enc:v1:") and "webhook_secret_key" not in secret
    assert previous is None and client_id == owner.name

    shown = envelope.success(owner.rest.get(f"/v1/webhooks/{created['id']}"))["webhook"]
    assert "secret" not in shown
    assert shown == {key: value for key, value in created.items() if key != "secret"}
    listed = envelope.success(owner.rest.get("/v1/webhooks"))
    assert [item["id"] for item in listed["webhooks"]] == [created["id"]]
    assert "secret" not in listed["webhooks"][0]


def test_generated_secret_over_grpc(owner: Caller) -> None:
    request = pb.CreateWebhookSubscriptionRequest(
        url="https://hooks.example.com/in", events=["*"], description="Ledger mirror"
    )
    created = stub(owner).CreateWebhookSubscription(request, timeout=30).webhook
    assert created.secret.startswith("whsec_")
    assert len(base64.b64decode(created.secret.removeprefix("whsec_"), validate=True)) == 32
    assert created.active and created.description == "Ledger mirror"
    assert list(created.events) == ["*"]
    read = stub(owner).GetWebhookSubscription(
        pb.GetWebhookSubscriptionRequest(webhook_id=created.id), timeout=30
    )
    assert not read.webhook.HasField("secret")
    assert read.webhook.url == created.url


def test_inactive_on_create_and_list_filter_and_paging(owner: Caller) -> None:
    made = [subscribe(owner, active=index != 1) for index in range(3)]
    newest_first = [item["id"] for item in reversed(made)]
    listed = envelope.success(owner.rest.get("/v1/webhooks?limit=2"))
    assert [item["id"] for item in listed["webhooks"]] == newest_first[:2]
    token = listed["pagination"]["nextPageToken"]
    following = envelope.success(owner.rest.get(f"/v1/webhooks?limit=2&pageToken={token}"))
    assert [item["id"] for item in following["webhooks"]] == newest_first[2:]
    assert following["pagination"]["hasNext"] is False
    second = envelope.success(owner.rest.get("/v1/webhooks?limit=2&page=2"))
    assert [item["id"] for item in second["webhooks"]] == newest_first[2:]
    inactive = envelope.success(owner.rest.get("/v1/webhooks?active=false"))
    assert [item["id"] for item in inactive["webhooks"]] == [made[1]["id"]]
    assert inactive["webhooks"][0]["active"] is False
    active = envelope.success(owner.rest.get("/v1/webhooks?active=true"))
    assert len(active["webhooks"]) == 2
    assert active["pagination"]["totalCount"] == 2


# -- Update and delete -----------------------------------------------------------------
def test_put_and_patch_change_only_what_they_name(owner: Caller) -> None:
    created = subscribe(owner, description="first")
    path = f"/v1/webhooks/{created['id']}"
    changed = envelope.success(
        owner.rest.put(path, json={"url": "https://other.example.com/h", "events": ["*"]})
    )["webhook"]
    assert changed["url"] == "https://other.example.com/h"
    assert changed["events"] == ["*"]
    assert changed["description"] == "first" and changed["active"] is True
    assert "secret" not in changed
    assert _parse(changed["updatedAt"]) >= _parse(created["updatedAt"])

    patched = envelope.success(
        owner.rest.patch(path, json={"active": False, "events": [], "description": ""})
    )["webhook"]
    assert patched["active"] is False
    assert patched["events"] == ["*"]  # an empty list leaves the types as they are
    assert "description" not in patched
    assert patched["url"] == "https://other.example.com/h"
    again = envelope.success(owner.rest.get(path))["webhook"]
    assert again == patched


def test_update_over_grpc_refuses_like_create(owner: Caller) -> None:
    created = subscribe(owner)
    request = pb.UpdateWebhookSubscriptionRequest(
        webhook_id=created["id"], events=["account.created", "nope.nothing"]
    )
    with pytest.raises(grpc.RpcError) as caught:
        stub(owner).UpdateWebhookSubscription(request, timeout=30)
    envelope.grpc_error(caught.value, StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert "nope.nothing" in (caught.value.details() or "")
    refused = owner.rest.patch(
        f"/v1/webhooks/{created['id']}", json={"url": "https://169.254.169.254/"}
    )
    envelope.error(refused, 422, "VALIDATION_ERROR", "url")


def test_delete(owner: Caller, db: Db) -> None:
    created = subscribe(owner)
    path = f"/v1/webhooks/{created['id']}"
    envelope.success(owner.rest.delete(path))
    envelope.error(owner.rest.get(path), 404, "NOT_FOUND")
    envelope.error(owner.rest.delete(path), 404, "NOT_FOUND")
    rows = db.execute("SELECT id FROM webhook_subscriptions WHERE id = ?", (created["id"],))
    assert rows == []
    with pytest.raises(grpc.RpcError) as caught:
        stub(owner).DeleteWebhookSubscription(
            pb.DeleteWebhookSubscriptionRequest(webhook_id=created["id"]), timeout=30
        )
    envelope.grpc_error(caught.value, StatusCode.NOT_FOUND, "NOT_FOUND")


# -- Owners --------------------------------------------------------------------------
def test_another_client_sees_nothing(owner: Caller, other: Caller) -> None:
    created = subscribe(owner)
    path = f"/v1/webhooks/{created['id']}"
    envelope.error(other.rest.get(path), 404, "NOT_FOUND")
    envelope.error(other.rest.put(path, json={"active": False}), 404, "NOT_FOUND")
    envelope.error(other.rest.patch(path, json={"active": False}), 404, "NOT_FOUND")
    envelope.error(other.rest.delete(path), 404, "NOT_FOUND")
    envelope.error(other.rest.post(f"{path}/rotate-secret", json={}), 404, "NOT_FOUND")
    envelope.error(other.rest.post(f"{path}/ping", json={}), 404, "NOT_FOUND")
    envelope.error(other.rest.get(f"{path}/deliveries"), 404, "NOT_FOUND")
    assert envelope.success(other.rest.get("/v1/webhooks"))["webhooks"] == []
    with pytest.raises(grpc.RpcError) as caught:
        stub(other).GetWebhookSubscription(
            pb.GetWebhookSubscriptionRequest(webhook_id=created["id"]), timeout=30
        )
    envelope.grpc_error(caught.value, StatusCode.NOT_FOUND, "NOT_FOUND")
    # Untouched by all that.
    assert envelope.success(owner.rest.get(path))["webhook"]["active"] is True


def test_needs_the_admin_scope(stack: Stack, raw_channel: grpc.Channel) -> None:
    narrow = client_caller(stack, raw_channel, CUSTOMER_SCOPES)
    try:
        envelope.error(narrow.rest.post("/v1/webhooks", json=SEED_BODY), 403, "FORBIDDEN")
        envelope.error(narrow.rest.get("/v1/events"), 403, "FORBIDDEN")
    finally:
        narrow.close()


def test_at_most_20_subscriptions_per_client(owner: Caller) -> None:
    for _ in range(20):
        subscribe(owner)
    refused = owner.rest.post("/v1/webhooks", json=SEED_BODY)
    envelope.error(refused, 422, "VALIDATION_ERROR")
    assert envelope.success(owner.rest.get("/v1/webhooks"))["pagination"]["totalCount"] == 20


# -- Refusals ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"events": ["account.created", "account.exploded"]}, "events", "account.exploded"),
        ({"events": ["webhook.ping"]}, "events", "webhook.ping"),
        ({"events": ["account.created", "account.created"]}, "events", "Duplicate"),
        ({"events": []}, "events", "at least one"),
        ({"events": ["account.created"] * 51}, "events", "at most 50"),
        ({"url": "http://your-app.com/webhooks"}, "url", "https"),
        ({"url": "https://169.254.169.254/latest/meta-data/"}, "url", "link-local"),
        ({"url": "https://10.0.0.1/hook"}, "url", "private"),
        ({"url": "https://100.64.0.7/hook"}, "url", "carrier-grade"),
        ({"url": "https://[::ffff:10.1.1.1]/hook"}, "url", "private"),
        ({"url": "https://user:pw@your-app.com/hook"}, "url", "user name"),
        ({"url": "your-app.com/hook"}, "url", "absolute"),
        ({"url": "https://your-app.com/" + "a" * 2048}, "url", "2048"),
        ({"url": ""}, "url", "required"),
        ({"secret": "x" * 15}, "secret", "16 to 100"),
        ({"secret": "x" * 101}, "secret", "16 to 100"),
        ({"secret": "webhook_secret_kéy"}, "secret", "ASCII"),
        ({"description": "d" * 201}, "description", "200"),
    ],
)
def test_refused_subscriptions(
    owner: Caller, change: dict[str, Any], field: str, words: str
) -> None:
    refused = owner.rest.post("/v1/webhooks", json={**SEED_BODY, **change})
    error = envelope.error(refused, 422, "VALIDATION_ERROR", field)
    assert words in error["message"]
    assert envelope.success(owner.rest.get("/v1/webhooks"))["webhooks"] == []


def test_refusal_over_grpc_names_the_field(owner: Caller) -> None:
    request = pb.CreateWebhookSubscriptionRequest(
        url="https://your-app.com/h", events=["transaction.created", "user.nope"]
    )
    with pytest.raises(grpc.RpcError) as caught:
        stub(owner).CreateWebhookSubscription(request, timeout=30)
    info = envelope.grpc_error(caught.value, StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == "events"
    assert info.metadata["event_type"] == "user.nope"


@pytest.mark.parametrize(
    "url", ["http://localhost:8765/hooks", "http://127.0.0.1/h", "http://[::1]:9000/h"]
)
def test_sandbox_accepts_loopback_http(owner: Caller, url: str) -> None:
    assert subscribe(owner, url=url)["url"] == url


@pytest.mark.parametrize("port", ["envoy_admin_port", "http_port", "https_port", "grpc_port"])
def test_sandbox_loopback_never_reaches_the_banks_own_ports(
    stack: Stack, owner: Caller, port: str
) -> None:
    # Envoy's admin interface would stop Envoy on a POST to /quitquitquit.
    url = f"http://127.0.0.1:{getattr(stack.settings, port)}/quitquitquit"
    refused = owner.rest.post("/v1/webhooks", json={**SEED_BODY, "url": url})
    error = envelope.error(refused, 422, "VALIDATION_ERROR", "url")
    assert "own ports" in error["message"]
    created = subscribe(owner, url="http://127.0.0.1:8765/hooks")
    changed = owner.rest.patch(f"/v1/webhooks/{created['id']}", json={"url": url})
    envelope.error(changed, 422, "VALIDATION_ERROR", "url")


# -- Rotation ------------------------------------------------------------------------
def test_rotate_keeps_the_old_secret_a_day(owner: Caller, db: Db) -> None:
    created = subscribe(owner)
    before = datetime.now(UTC)
    rotated = envelope.success(
        owner.rest.post(f"/v1/webhooks/{created['id']}/rotate-secret", json={})
    )
    assert rotated["webhook"]["secret"].startswith("whsec_")
    expires = _parse(rotated["previousSecretExpiresAt"])
    assert before + timedelta(hours=24) - timedelta(seconds=5) <= expires
    assert expires <= datetime.now(UTC) + timedelta(hours=24)
    secret, previous, previous_expires_at, _ = _stored(db, created["id"])
    assert secret.startswith("enc:v1:") and previous.startswith("enc:v1:")
    assert previous_expires_at is not None
    shown = envelope.success(owner.rest.get(f"/v1/webhooks/{created['id']}"))["webhook"]
    assert "secret" not in shown

    chosen = envelope.success(
        owner.rest.post(
            f"/v1/webhooks/{created['id']}/rotate-secret",
            json={"secret": "another_secret_key", "expirePreviousNow": True},
        )
    )
    assert chosen["webhook"]["secret"] == "another_secret_key"
    assert "previousSecretExpiresAt" not in chosen
    _, previous, previous_expires_at, _ = _stored(db, created["id"])
    assert previous is None and previous_expires_at is None


def test_rotate_refusals(owner: Caller) -> None:
    created = subscribe(owner)
    path = f"/v1/webhooks/{created['id']}/rotate-secret"
    envelope.error(
        owner.rest.post(path, json={"secret": "short"}), 422, "VALIDATION_ERROR", "secret"
    )
    envelope.error(
        owner.rest.post("/v1/webhooks/whk_nope/rotate-secret", json={}), 404, "NOT_FOUND"
    )
    request = pb.RotateWebhookSecretRequest(webhook_id=created["id"], expire_previous_now=True)
    reply = stub(owner).RotateWebhookSecret(request, timeout=30)
    assert reply.webhook.secret.startswith("whsec_")
    assert not reply.HasField("previous_secret_expires_at")


# -- Production mode -------------------------------------------------------------------
@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rest]:
    """An admin client of a production-mode stack (SQLite), for this module only."""
    tmp = tmp_path_factory.mktemp("stack-production-webhooks")
    with started(stack_settings(tmp, mode="production")) as stack:
        client = create_client(stack.settings)
        token = str(token_over_rest(stack.http_url, client)["access_token"])
        with Rest(stack.http_url) as session:
            session.headers["Authorization"] = f"Bearer {token}"
            yield session


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8765/hooks",
        "http://127.0.0.1/h",
        "http://[::1]:9000/h",
        "https://127.0.0.1/h",
        "https://[::1]/h",
        "https://[::ffff:127.0.0.1]/h",
        "https://localhost/h",
        "https://169.254.169.254/h",
        "https://10.0.0.1/h",
        "https://0.0.0.0/h",
    ],
)
def test_production_refuses_loopback_and_private(production: Rest, url: str) -> None:
    refused = production.post("/v1/webhooks", json={**SEED_BODY, "url": url})
    envelope.error(refused, 422, "VALIDATION_ERROR", "url")


def test_production_accepts_seed_000(production: Rest) -> None:
    created = envelope.success(production.post("/v1/webhooks", json=SEED_BODY), 201)
    assert created["webhook"]["url"] == SEED_BODY["url"]
    assert created["webhook"]["secret"] == "webhook_secret_key"


# -- Audit and Idempotency-Key ----------------------------------------------------------
def test_writes_are_audited_without_the_secret(owner: Caller, rest: Rest) -> None:
    rid = audit.request_id("webhook")
    response = owner.rest.post("/v1/webhooks", json=SEED_BODY, headers={"X-Request-ID": rid})
    created = envelope.success(response, 201)["webhook"]
    event = audit.find(rest, rid, method="/backoffice.v1.WebhookService/CreateWebhookSubscription")
    assert event["outcomeCode"] == "OK" and event["clientId"] == owner.name
    assert created["id"] in event["resourceIds"]
    assert "webhook_secret_key" not in json.dumps(event)
    rid = audit.request_id("webhook-rotate")
    path = f"/v1/webhooks/{created['id']}/rotate-secret"
    envelope.success(owner.rest.post(path, json={}, headers={"X-Request-ID": rid}))
    event = audit.find(rest, rid, method="/backoffice.v1.WebhookService/RotateWebhookSecret")
    assert created["id"] in event["resourceIds"]


def test_ping_honours_idempotency_keys_and_create_makes_a_new_one(owner: Caller) -> None:
    key = {"Idempotency-Key": f"ping-{uuid.uuid4().hex}"}
    created = subscribe(owner)
    path = f"/v1/webhooks/{created['id']}/ping"
    first = envelope.success(owner.rest.post(path, json={}, headers=key), 202)["delivery"]
    replayed = owner.rest.post(path, json={}, headers=key)
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert envelope.success(replayed, 202)["delivery"]["id"] == first["id"]
    # The answer of a create holds the secret, which is never stored to be replayed.
    key = {"Idempotency-Key": f"create-{uuid.uuid4().hex}"}
    one = envelope.success(owner.rest.post("/v1/webhooks", json=SEED_BODY, headers=key), 201)
    two = envelope.success(owner.rest.post("/v1/webhooks", json=SEED_BODY, headers=key), 201)
    assert one["webhook"]["id"] != two["webhook"]["id"]


def test_switched_off_subscription_shows_why_and_active_again_clears_it(
    owner: Caller, db: Db
) -> None:
    created = subscribe(owner)
    since = datetime(2026, 1, 1, 8, 0, 0)
    db.execute(
        "UPDATE webhook_subscriptions SET active = ?, failing_since = ?, disabled_at = ?,"
        " disabled_reason = ? WHERE id = ?",
        (False, since, since + timedelta(days=3), "failing since then: HTTP 503", created["id"]),
    )
    path = f"/v1/webhooks/{created['id']}"
    shown = envelope.success(owner.rest.get(path))["webhook"]
    assert shown["active"] is False
    assert shown["disabledReason"] == "failing since then: HTTP 503"
    assert shown["failingSince"] == "2026-01-01T08:00:00Z"
    assert shown["disabledAt"] == "2026-01-04T08:00:00Z"
    again = envelope.success(owner.rest.patch(path, json={"active": True}))["webhook"]
    assert again["active"] is True
    for cleared in ("disabledReason", "disabledAt", "failingSince"):
        assert cleared not in again
