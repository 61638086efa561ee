"""A transfer's audit event commits with the transfer (server.domain.audit_drafts).

On PostgreSQL an immediate transfer is posted by a micro-batch, which
appends the audit events of its calls in its own transaction: the event and
the money move in one commit, or neither does. Every call still has exactly
one event, with the outcome and the ids the interceptor records for any
call; a call the batch could not audit (the log refusing writes) appends its
own, as every call does. SQLite posts without batches and gets the same
events from the interceptor; each test runs on both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2

from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.api.test_audit import _OUTAGE, _RECOVERY, _health_becomes
from tests.common import audit, envelope, users
from tests.common.money import BOB, open_account, query
from tests.conftest import Rest

CREATE_TRANSFER = "/backoffice.v1.TransactionService/CreateTransfer"
CALLS = 48


def _events_of(stack: Stack, request_id: str) -> list[tuple[Any, ...]]:
    return query(
        stack,
        "SELECT outcome_code, resource_ids, method FROM audit_events WHERE request_id = %s",
        (request_id,),
    )


# PostgreSQL: each row of these tables notes the (top-level) transaction that wrote it.
_NOTE_TRANSACTIONS = [
    "CREATE TABLE test_written_by (row_id TEXT, txid BIGINT)",
    (
        "CREATE FUNCTION test_note_txid() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN INSERT INTO test_written_by VALUES (NEW.id, txid_current()); RETURN NEW;"
        " END $$"
    ),
    (
        "CREATE TRIGGER test_note_audit AFTER INSERT ON audit_events"
        " FOR EACH ROW EXECUTE FUNCTION test_note_txid()"
    ),
    (
        "CREATE TRIGGER test_note_ledger AFTER INSERT ON ledger_transactions"
        " FOR EACH ROW EXECUTE FUNCTION test_note_txid()"
    ),
]
_FORGET_TRANSACTIONS = [
    "DROP TRIGGER test_note_audit ON audit_events",
    "DROP TRIGGER test_note_ledger ON ledger_transactions",
    "DROP FUNCTION test_note_txid()",
    "DROP TABLE test_written_by",
]


@pytest.fixture
def written_by(stack: Stack) -> Iterator[Callable[[str, str], bool] | None]:
    """On PostgreSQL: whether an audit event (by request id) and a journal row
    (by id) were written by one transaction. None on SQLite."""
    if not stack.settings.database_url:
        yield None
        return
    for statement in _NOTE_TRANSACTIONS:
        users.db_execute(stack, statement)

    def together(request_id: str, transaction_id: str) -> bool:
        rows = query(
            stack,
            "SELECT count(DISTINCT w.txid) FROM test_written_by w"
            " WHERE w.row_id = %s OR w.row_id = (SELECT id FROM audit_events"
            " WHERE request_id = %s)",
            (transaction_id, request_id),
        )
        return rows == [(1,)]

    try:
        yield together
    finally:
        for statement in _FORGET_TRANSACTIONS:
            users.db_execute(stack, statement)


def test_concurrent_transfers_each_have_one_event_committed_with_them(
    rest: Rest,
    stack: Stack,
    grpc_channel: grpc.Channel,
    admin_token: str,
    written_by: Callable[[str, str], bool] | None,
) -> None:
    source, target = open_account(rest, funded=CALLS * 10), open_account(rest, owner=BOB)
    poor = open_account(rest, funded=1)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    prefix = audit.request_id("batched")

    def call(number: int) -> tuple[str, str]:
        rid = f"{prefix}-{number}"
        # Every fourth from an account that cannot pay: refused in the batch.
        from_id = poor if number % 4 == 0 else source
        request = pb.CreateTransferRequest(
            from_account_id=from_id, to_account_id=target, amount=5, description="audited"
        )
        metadata = [("authorization", f"Bearer {admin_token}"), ("x-request-id", rid)]
        try:
            answer = stub.CreateTransfer(request, metadata=metadata, timeout=60)
        except grpc.RpcError as error:
            return rid, f"refused:{error.code().name}"
        return rid, answer.transaction.id

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, range(CALLS)))
    for number, (rid, outcome) in enumerate(results):
        (event,) = _events_of(stack, rid)  # one event per call, never two
        code, resource_ids, method = event
        assert method == CREATE_TRANSFER
        if number % 4 == 0:
            assert outcome == "refused:FAILED_PRECONDITION"
            assert (code, resource_ids) == ("TXN001", f'["{poor}", "{target}"]')
            continue
        assert code == "OK"
        assert resource_ids == f'["{source}", "{target}", "{outcome}"]'
        if written_by is not None:
            assert written_by(rid, outcome), f"{rid}: not committed with its transfer"
    assert audit.verify(rest)["ok"] is True


def test_a_replayed_transfer_is_a_call_of_its_own(rest: Rest, stack: Stack) -> None:
    source, target = open_account(rest, funded=100), open_account(rest, owner=BOB)
    key = {"Idempotency-Key": audit.request_id("key")}
    first, second = audit.request_id("first"), audit.request_id("again")
    body = {"fromAccountId": source, "toAccountId": target, "amount": 7}
    response = rest.post(
        "/v1/transactions/transfer", json=body, headers={**key, "X-Request-ID": first}
    )
    made = envelope.success(response, 201)["transaction"]["id"]
    replay = rest.post(
        "/v1/transactions/transfer", json=body, headers={**key, "X-Request-ID": second}
    )
    assert envelope.success(replay, 201)["transaction"]["id"] == made
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert _events_of(stack, first) == [
        ("OK", f'["{source}", "{target}", "{made}"]', CREATE_TRANSFER)
    ]
    # The replay made nothing: its event names what its request named.
    assert _events_of(stack, second) == [("OK", f'["{source}", "{target}"]', CREATE_TRANSFER)]


def test_a_transfer_the_log_cannot_take_is_done_and_its_event_waits(
    rest: Rest, stack: Stack, grpc_channel: grpc.Channel
) -> None:
    """As for any call (test_audit.py's outage): the work is done and answered,
    its event waits in the backlog, new calls are refused until it is written."""
    source, target = open_account(rest, funded=100), open_account(rest, owner=BOB)
    backend = "postgres" if stack.settings.database_url else "sqlite"
    done = audit.request_id("done")
    for statement in _OUTAGE[backend]:
        users.db_execute(stack, statement)
    try:
        response = rest.post(
            "/v1/transactions/transfer",
            json={"fromAccountId": source, "toAccountId": target, "amount": 9},
            headers={"X-Request-ID": done},
        )
        made = envelope.success(response, 201)["transaction"]["id"]
        refused = rest.get("/v1/sandbox/clock")
        envelope.error(refused, 503, "UNAVAILABLE")
        _health_becomes(grpc_channel, health_pb2.HealthCheckResponse.NOT_SERVING)
    finally:
        for statement in _RECOVERY[backend]:
            users.db_execute(stack, statement)
    _health_becomes(grpc_channel, health_pb2.HealthCheckResponse.SERVING)  # backlog written
    assert _events_of(stack, done) == [
        ("OK", f'["{source}", "{target}", "{made}"]', CREATE_TRANSFER)
    ]
    assert audit.verify(rest)["ok"] is True
