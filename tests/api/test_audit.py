"""The audit log through the real server: recording, listing, verifying, tampering, outages."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import grpc
import pytest
import requests
from grpc_health.v1 import health_pb2
from grpc_health.v1 import health_pb2_grpc as health_grpc

from backoffice.v1 import audit_service_pb2 as audit_pb
from backoffice.v1 import audit_service_pb2_grpc as audit_grpc
from backoffice.v1 import sandbox_service_pb2 as sandbox_pb
from backoffice.v1 import sandbox_service_pb2_grpc as sandbox_grpc
from server.config import REPO_ROOT
from server.run import Stack, settings_env
from tests.common import audit, envelope, users
from tests.common.auth import LIMITED_CLIENT, SANDBOX_CLIENT, token_over_rest
from tests.common.money import ALICE_CHECKING, BOB_CHECKING
from tests.conftest import Rest

CREATE_USER = "/backoffice.v1.UserService/CreateUser"
GET_USER = "/backoffice.v1.UserService/GetUser"
GET_CLOCK = "/backoffice.v1.SandboxService/GetClock"


def _now() -> datetime:
    return datetime.now(UTC)


def _when(event: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(event["createdAt"]).replace("Z", "+00:00"))


# -- What is recorded -----------------------------------------------------------------------
def test_a_rest_call_is_recorded_with_its_facts(rest: Rest) -> None:
    started = _now()
    rid = audit.request_id("create")
    body = users.user_body(phone="+14155550177", taxId="321-54-9876")
    response = rest.post("/v1/users", json=body, headers={"X-Request-ID": rid})
    user_id = envelope.success(response, 201)["user"]["id"]
    event = audit.find(rest, rid, method=CREATE_USER)
    assert event["id"].startswith("aud_")
    assert event["method"] == CREATE_USER
    assert event["outcomeCode"] == "OK"
    assert event["requestId"] == rid
    assert event.get("clientId") == "sandbox-client"  # acting for itself: no user
    assert event.get("actorId", "") == ""
    assert event["ipAddress"] == "127.0.0.1"
    # The created resource's id, read from the response.
    assert event["resourceIds"] == [user_id]
    assert started.timestamp() - 1 <= _when(event).timestamp() <= _now().timestamp() + 1
    assert str(event["createdAt"]).endswith("Z")
    assert isinstance(event["sequence"], str) and int(event["sequence"]) >= 1
    assert audit.HASH_RE.match(event["hash"]) and audit.HASH_RE.match(event["previousHash"])
    # No body, so no secret, reaches the log.
    text = json.dumps(event)
    for secret in (users.PASSWORD, "4155550177", "321-54-9876", "321549876", body["email"]):
        assert secret not in text


def test_a_grpc_call_is_recorded(rest: Rest, grpc_channel: grpc.Channel) -> None:
    rid = audit.request_id("grpc")
    sandbox_grpc.SandboxServiceStub(grpc_channel).GetClock(
        sandbox_pb.GetClockRequest(), metadata=[("x-request-id", rid)], timeout=30
    )
    event = audit.find(rest, rid, method="GetClock")
    assert (event["method"], event["outcomeCode"], event["ipAddress"]) == (
        GET_CLOCK,
        "OK",
        "127.0.0.1",
    )
    assert event.get("resourceIds", []) == []


def test_a_failed_call_records_its_error_code_and_resources(rest: Rest) -> None:
    rid = audit.request_id("txn005")
    body = {"fromAccountId": ALICE_CHECKING, "toAccountId": BOB_CHECKING, "amount": 0.001}
    response = rest.post("/v1/transactions/transfer", json=body, headers={"X-Request-ID": rid})
    envelope.error(response, 422, "TXN005", "amount")
    event = audit.find(rest, rid, outcome="TXN005")
    assert event["outcomeCode"] == "TXN005"
    assert event["method"] == "/backoffice.v1.TransactionService/CreateTransfer"
    assert event["resourceIds"] == [ALICE_CHECKING, BOB_CHECKING]


def test_refused_credentials_and_scopes_are_recorded(
    rest: Rest, anonymous: Rest, stack: Stack
) -> None:
    rid = audit.request_id("anonymous")
    envelope.error(
        anonymous.get("/v1/audit-events", headers={"X-Request-ID": rid}), 401, "UNAUTHORIZED"
    )
    event = audit.find(rest, rid, outcome="UNAUTHORIZED")
    assert (event.get("clientId", ""), event.get("actorId", "")) == ("", "")
    limited = token_over_rest(stack.http_url, LIMITED_CLIENT)["access_token"]
    rid = audit.request_id("limited")
    response = rest.get(
        "/v1/audit-events",
        headers={"X-Request-ID": rid, "Authorization": f"Bearer {limited}"},
    )
    envelope.error(response, 403, "FORBIDDEN")
    event = audit.find(rest, rid, outcome="FORBIDDEN")
    assert event["clientId"] == "sandbox-limited"
    assert event["method"] == "/backoffice.v1.AuditService/ListAuditEvents"


def test_oauth_calls_are_recorded_without_a_caller(rest: Rest, stack: Stack) -> None:
    rid = audit.request_id("token")
    response = requests.post(
        f"{stack.http_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=SANDBOX_CLIENT,
        headers={"X-Request-ID": rid},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    event = audit.find(rest, rid, method="Token")
    assert event["method"] == "/backoffice.v1.OAuthService/Token"
    assert (event["outcomeCode"], event.get("clientId", ""), event.get("actorId", "")) == (
        "OK",
        "",
        "",
    )
    # Nothing of the form (the client secret) is recorded.
    assert SANDBOX_CLIENT[1] not in json.dumps(event)


def test_an_idempotent_replay_is_a_call_of_its_own(rest: Rest) -> None:
    body = users.user_body()
    key = {"Idempotency-Key": f"audit-{uuid.uuid4().hex}"}
    first, second = audit.request_id("first"), audit.request_id("replay")
    envelope.success(rest.post("/v1/users", json=body, headers={**key, "X-Request-ID": first}), 201)
    replay = rest.post("/v1/users", json=body, headers={**key, "X-Request-ID": second})
    envelope.success(replay, 201)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert audit.find(rest, first, method="CreateUser")["outcomeCode"] == "OK"
    assert audit.find(rest, second, method="CreateUser")["outcomeCode"] == "OK"


# -- Listing ----------------------------------------------------------------------------------
@pytest.fixture
def touched_user(rest: Rest) -> dict[str, object]:
    """A new user read five times, and once refused an update: 7 events name it."""
    user_id = users.create_rest(rest)["id"]
    for _ in range(5):
        envelope.success(rest.get(f"/v1/users/{user_id}"))
    envelope.error(
        rest.patch(f"/v1/users/{user_id}", json={"phone": "not a phone"}),
        422,
        "VALIDATION_ERROR",
        "phone",
    )
    return {"id": user_id}


def test_filters_by_resource_method_and_outcome(
    rest: Rest, touched_user: dict[str, object]
) -> None:
    user_id = touched_user["id"]

    def count(**filters: object) -> int:
        data = audit.events(rest, resource_id=user_id, **filters)
        assert all(user_id in event["resourceIds"] for event in data["events"])
        return int(data["pagination"]["totalCount"])

    assert count(method="GetUser") == 5
    assert count(method=GET_USER) == 5
    assert count(method=GET_USER.lstrip("/")) == 5
    assert count(method="NoSuchRpc") == 0
    assert count(method="CreateUser", outcome="OK") == 1
    assert count(outcome="ERROR") == 1
    assert count(outcome="error") == 1
    assert count(outcome="VALIDATION_ERROR") == 1
    assert count(method="GetUser", outcome="ERROR") == 0
    assert count(client_id="sandbox-client", method="GetUser") == 5
    assert count(client_id="someone-else") == 0
    assert count(actor_id="usr_nobody") == 0


def test_paging_by_page_and_by_token_both_orders(
    rest: Rest, touched_user: dict[str, object]
) -> None:
    filters = {"resource_id": touched_user["id"], "method": "GetUser"}
    newest_first = audit.events(rest, **filters)["events"]
    sequences = [int(event["sequence"]) for event in newest_first]
    assert len(sequences) == 5 and sequences == sorted(sequences, reverse=True)
    oldest_first = audit.events(rest, order="ASC", **filters)["events"]
    assert [e["id"] for e in oldest_first] == [e["id"] for e in reversed(newest_first)]

    pages = [audit.events(rest, page=page, limit=2, **filters) for page in (1, 2, 3)]
    assert [len(page["events"]) for page in pages] == [2, 2, 1]
    assert [e["id"] for page in pages for e in page["events"]] == [e["id"] for e in newest_first]
    first = pages[0]["pagination"]
    assert (first["totalCount"], first["totalPages"], first["hasNext"]) == (5, 3, True)
    assert pages[2]["pagination"]["hasNext"] is False

    seen: list[str] = []
    token = ""
    while True:
        params = {"limit": 2, **filters, **({"page_token": token} if token else {})}
        data = audit.events(rest, **params)
        seen.extend(event["id"] for event in data["events"])
        token = data["pagination"].get("nextPageToken", "")
        if not token:
            break
    assert seen == [event["id"] for event in newest_first]


def test_filters_by_time(rest: Rest, touched_user: dict[str, object]) -> None:
    filters = {"resource_id": touched_user["id"], "method": "GetUser", "order": "asc"}
    reads = audit.events(rest, **filters)["events"]
    middle = reads[2]["createdAt"]
    since = audit.events(rest, since=middle, **filters)["events"]
    until = audit.events(rest, until=middle, **filters)["events"]
    assert [e["id"] for e in since] == [e["id"] for e in reads[2:]]
    assert [e["id"] for e in until] == [e["id"] for e in reads[:2]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"order": "sideways"}, "order"),
        ({"page": 101, "limit": 100}, "page"),
        ({"page_token": "not-a-token"}, "page_token"),
        ({"since": "2025-01-02T00:00:00Z", "until": "2025-01-01T00:00:00Z"}, "since"),
        ({"outcome": "X" * 201}, "outcome"),
    ],
)
def test_list_validation(rest: Rest, params: dict[str, object], field: str) -> None:
    envelope.error(rest.get("/v1/audit-events", params=params), 422, "VALIDATION_ERROR", field)


def test_a_page_token_only_works_with_its_filters(rest: Rest) -> None:
    token = audit.events(rest, limit=1, outcome="OK")["pagination"]["nextPageToken"]
    envelope.error(
        rest.get("/v1/audit-events", params={"limit": 1, "outcome": "TXN005", "page_token": token}),
        422,
        "VALIDATION_ERROR",
        "page_token",
    )
    # The limit is capped, not refused.
    assert audit.events(rest, limit=1000)["pagination"]["perPage"] == 100


# -- Verifying ---------------------------------------------------------------------------------
def test_verify_over_rest_and_grpc(rest: Rest, grpc_channel: grpc.Channel) -> None:
    data = audit.verify(rest)
    assert data["ok"] is True and int(data["checkedCount"]) >= 1
    assert audit.HASH_RE.match(data["lastHash"])
    assert int(data["toSequence"]) - int(data["fromSequence"]) + 1 == int(data["checkedCount"])
    assert data.get("failure", "") == "" and data.get("firstBrokenId", "") == ""
    stub = audit_grpc.AuditServiceStub(grpc_channel)
    reply = stub.VerifyAuditLog(
        audit_pb.VerifyAuditLogRequest(from_sequence=2, to_sequence=4), timeout=60
    )
    assert (reply.ok, reply.checked_count, reply.from_sequence, reply.to_sequence) == (
        True,
        3,
        2,
        4,
    )
    envelope.error(
        rest.post("/v1/audit-events:verify", json={"fromSequence": 5, "toSequence": 2}),
        422,
        "VALIDATION_ERROR",
        "fromSequence",
    )
    envelope.error(
        rest.post("/v1/audit-events:verify", json={"fromSequence": -1}),
        422,
        "VALIDATION_ERROR",
        "fromSequence",
    )


def test_a_tampered_event_is_reported_first(rest: Rest, stack: Stack) -> None:
    rid = audit.request_id("victim")
    envelope.success(rest.get("/v1/sandbox/clock", headers={"X-Request-ID": rid}))
    victim = audit.find(rest, rid, method="GetClock")
    with audit.owner_session(stack) as cursor:
        cursor.execute(
            "UPDATE audit_events SET outcome_code = %s WHERE id = %s", ("FORBIDDEN", victim["id"])
        )
        try:
            data = audit.verify(rest)
            assert data["ok"] is False
            assert data["firstBrokenId"] == victim["id"]
            assert data["firstBrokenSequence"] == victim["sequence"]
            assert data["failure"] == "hash_mismatch"
            assert int(data["checkedCount"]) == (
                int(victim["sequence"]) - int(data["fromSequence"]) + 1
            )
        finally:
            cursor.execute(
                "UPDATE audit_events SET outcome_code = %s WHERE id = %s", ("OK", victim["id"])
            )
    assert audit.verify(rest)["ok"] is True


def test_the_database_refuses_changes_to_the_log(rest: Rest, stack: Stack) -> None:
    rid = audit.request_id("guarded")
    envelope.success(rest.get("/v1/sandbox/clock", headers={"X-Request-ID": rid}))
    victim = audit.find(rest, rid, method="GetClock")
    for statement in (
        "UPDATE audit_events SET outcome_code = 'X' WHERE id = %s",
        "DELETE FROM audit_events WHERE id = %s",
    ):
        with pytest.raises(Exception, match="append-only"):
            users.db_execute(stack, statement, (victim["id"],))
    assert audit.stored_event(stack, victim["id"])["outcome"] == "OK"


def test_parallel_calls_do_not_fork_the_chain(rest: Rest, grpc_channel: grpc.Channel) -> None:
    stub = sandbox_grpc.SandboxServiceStub(grpc_channel)
    prefix = audit.request_id("burst")
    lock = threading.Lock()
    failures: list[str] = []

    def call(number: int) -> None:
        try:
            stub.GetClock(
                sandbox_pb.GetClockRequest(),
                metadata=[("x-request-id", f"{prefix}-{number}")],
                timeout=60,
            )
        except grpc.RpcError as exc:
            with lock:
                failures.append(exc.code().name)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(call, range(160)))
    assert failures == []
    result = audit.verify(rest)
    assert result["ok"] is True, result
    recorded = [
        event
        for page in (1, 2)
        for event in audit.events(rest, method="GetClock", limit=100, page=page)["events"]
        if event["requestId"].startswith(prefix)
    ]
    assert len(recorded) == 160
    sequences = sorted(int(event["sequence"]) for event in recorded)
    assert len(set(sequences)) == 160


# -- When the audit store fails ---------------------------------------------------------------
_OUTAGE = {
    "sqlite": [
        (
            "CREATE TRIGGER audit_test_outage BEFORE INSERT ON audit_events"
            " BEGIN SELECT RAISE(ABORT, 'audit store down (test)'); END"
        ),
    ],
    "postgres": [
        (
            "CREATE FUNCTION audit_test_outage() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'audit store down (test)'; END $$"
        ),
        (
            "CREATE TRIGGER audit_test_outage BEFORE INSERT ON audit_events"
            " FOR EACH ROW EXECUTE FUNCTION audit_test_outage()"
        ),
    ],
}
_RECOVERY = {
    "sqlite": ["DROP TRIGGER audit_test_outage"],
    "postgres": [
        "DROP TRIGGER audit_test_outage ON audit_events",
        "DROP FUNCTION audit_test_outage()",
    ],
}


def _health(channel: grpc.Channel, service: str = "") -> int:
    return int(
        health_grpc.HealthStub(channel)
        .Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        .status
    )


def _health_becomes(channel: grpc.Channel, status: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while _health(channel) != status:
        assert time.monotonic() < deadline, f"health is not {status} after {seconds} s"
        time.sleep(0.1)


def test_an_audit_outage_answers_done_work_then_refuses_new_work(
    rest: Rest, stack: Stack, grpc_channel: grpc.Channel
) -> None:
    backend = "postgres" if stack.settings.database_url else "sqlite"
    done, refused, after = (audit.request_id(label) for label in ("done", "refused", "after"))
    serving = health_pb2.HealthCheckResponse.SERVING
    assert _health(grpc_channel) == serving
    for statement in _OUTAGE[backend]:
        users.db_execute(stack, statement)
    try:
        # The call is answered: its work is done, only its event waits.
        envelope.success(rest.get("/v1/sandbox/clock", headers={"X-Request-ID": done}))
        # New work is refused while the backlog cannot be written.
        response = rest.get("/v1/sandbox/clock", headers={"X-Request-ID": refused})
        envelope.error(response, 503, "UNAVAILABLE")
        assert response.headers["X-Request-ID"] == refused
        # ... and the server says so to load balancers, for every service.
        _health_becomes(grpc_channel, health_pb2.HealthCheckResponse.NOT_SERVING)
        assert _health(grpc_channel, "backoffice.v1.TransactionService") == (
            health_pb2.HealthCheckResponse.NOT_SERVING
        )
    finally:
        for statement in _RECOVERY[backend]:
            users.db_execute(stack, statement)
    # The backlog is written without any call (a balancer sends none meanwhile).
    _health_becomes(grpc_channel, serving)
    envelope.success(rest.get("/v1/sandbox/clock", headers={"X-Request-ID": after}))
    events = [audit.find(rest, rid, method="GetClock") for rid in (done, refused, after)]
    assert [event["outcomeCode"] for event in events] == ["OK", "UNAVAILABLE", "OK"]
    sequences = [int(event["sequence"]) for event in events]
    assert sequences == sorted(sequences)
    assert audit.verify(rest)["ok"] is True
    # The event was in the server log the whole time (ids only).
    log = (stack.log_dir / "server.log").read_text()
    lines = [line for line in log.splitlines() if "audit write failed" in line and done in line]
    assert lines and json.loads(lines[0])["audit_event"]["method"] == GET_CLOCK


# -- Pruning from the command line -------------------------------------------------------------
def test_prune_audit_command(rest: Rest, stack: Stack) -> None:
    def prune(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "server", "prune-audit", *args],
            cwd=REPO_ROOT,
            env=settings_env(stack.settings),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    done = prune("--older-than-days", "1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"audit_events_pruned": 0, "retention_days": 1}
    refused = prune("--older-than-days", "0")
    assert refused.returncode == 2 and "between 1 and" in refused.stderr
    assert audit.verify(rest)["ok"] is True
