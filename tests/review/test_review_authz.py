"""Another customer's exports, reports, statements and disputes, asked for by
every path that reaches them (REST aliases and gRPC), and writes with a token
that may only read: refused, and refused alike for an id that names nothing,
so ids cannot be probed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from backoffice.v1 import transaction_service_pb2 as txn_pb
from backoffice.v1 import transaction_service_pb2_grpc as txn_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.money import open_account, transfer
from tests.common.principals import (
    CUSTOMER_SCOPES,
    READ,
    STAFF_SCOPES,
    Caller,
    create_user,
    user_caller,
)
from tests.conftest import Rest

StatusCode = grpc.StatusCode


@pytest.fixture(scope="module")
def world(stack: Stack, rest: Rest, raw_channel: grpc.Channel) -> Iterator[dict[str, Any]]:
    alice_id = create_user(rest, "CUSTOMER", "Alice Review")
    bob_id = create_user(rest, "CUSTOMER", "Bob Review")
    teller_id = create_user(rest, "TELLER")
    callers = {
        "alice": user_caller(stack, raw_channel, "alice", alice_id, CUSTOMER_SCOPES),
        "alice_read": user_caller(stack, raw_channel, "alice_read", alice_id, READ),
        "bob": user_caller(stack, raw_channel, "bob", bob_id, CUSTOMER_SCOPES),
        "teller": user_caller(stack, raw_channel, "teller", teller_id, STAFF_SCOPES),
    }
    account = open_account(rest, owner=alice_id, funded=500)
    other = open_account(rest, owner=bob_id)
    debit = envelope.success(transfer(callers["alice"].rest, account, other, 25), 201)
    dispute = envelope.success(
        callers["alice"].rest.post(
            f"/v1/transactions/{debit['transaction']['id']}/disputes",
            json={"reason": "UNAUTHORIZED_TRANSACTION"},
        ),
        201,
    )["dispute"]
    report = envelope.success(
        callers["alice"].rest.post(
            "/v1/reports/custom",
            json={
                "dateRange": {"from": "2026-01-01", "to": "2026-01-31"},
                "accountIds": [account],
                "format": "csv",
            },
        ),
        202,
    )["report"]
    try:
        yield {
            **callers,
            "account": account,
            "transaction": debit["transaction"]["id"],
            "dispute": dispute["id"],
            "report": report["id"],
        }
    finally:
        for one in callers.values():
            one.close()


def test_another_customers_export_is_not_found(world: dict[str, Any]) -> None:
    bob: Caller = world["bob"]
    for prefix in ("/v1", "/api", "/api/v1"):
        for account in (world["account"], "acc_doesnotexist000000"):
            response = bob.rest.get(
                f"{prefix}/transactions/export", params={"accountId": account, "format": "pdf"}
            )
            envelope.error(response, 404, "TXN002")
    with pytest.raises(grpc.RpcError) as caught:
        list(
            txn_grpc.TransactionServiceStub(bob.channel).ExportTransactions(
                txn_pb.ExportTransactionsRequest(account_id=world["account"]),
                metadata=[("authorization", f"Bearer {bob.token}")],
                timeout=30,
            )
        )
    assert caught.value.code() == StatusCode.NOT_FOUND


def test_another_customers_reports_are_refused_alike(world: dict[str, Any]) -> None:
    bob: Caller = world["bob"]
    for path in ("/v1/reports/daily", "/backoffice/v1/reports/daily", "/v1/reports/monthly"):
        for account in (world["account"], "acc_doesnotexist000000"):
            envelope.error(bob.rest.get(path, params={"accountId": account}), 403, "FORBIDDEN")
        envelope.error(bob.rest.get(path), 403, "FORBIDDEN")  # bank-wide: staff only
    body = {"dateRange": {"from": "2026-01-01", "to": "2026-01-31"}}
    for path in ("/v1/reports/custom", "/backoffice/v1/reports/custom"):
        envelope.error(
            bob.rest.post(path, json={**body, "accountIds": [world["account"]]}), 403, "FORBIDDEN"
        )
    for suffix in ("", "/download"):
        for report in (world["report"], "rpt_doesnotexist000000"):
            envelope.error(bob.rest.get(f"/v1/reports/{report}{suffix}"), 404, "NOT_FOUND")


def test_another_customers_statements_are_not_found(world: dict[str, Any]) -> None:
    bob: Caller = world["bob"]
    for account in (world["account"], "acc_doesnotexist000000"):
        envelope.error(bob.rest.get(f"/v1/accounts/{account}/statements"), 404, "NOT_FOUND")
    for suffix in ("", "/download"):
        envelope.error(
            bob.rest.get(f"/v1/statements/stm_doesnotexist000000{suffix}"), 404, "NOT_FOUND"
        )


def test_another_customers_dispute_is_not_found(world: dict[str, Any]) -> None:
    bob: Caller = world["bob"]
    envelope.error(bob.rest.get(f"/v1/disputes/{world['dispute']}"), 404, "NOT_FOUND")
    listed = envelope.success(bob.rest.get("/v1/disputes", params={"accountId": world["account"]}))
    assert listed.get("disputes", []) == []
    listed = envelope.success(
        bob.rest.get("/v1/disputes", params={"transactionId": world["transaction"]})
    )
    assert listed.get("disputes", []) == []
    # Bob received the transfer: he may see it, but it is not his debit to dispute.
    response = bob.rest.post(
        f"/v1/transactions/{world['transaction']}/disputes",
        json={"reason": "UNAUTHORIZED_TRANSACTION"},
    )
    envelope.error(response, 409, "CONFLICT")


def test_customers_and_readers_may_not_write_here(world: dict[str, Any]) -> None:
    resolve = f"/v1/disputes/{world['dispute']}:resolve"
    for name in ("alice", "bob", "alice_read"):
        envelope.error(
            world[name].rest.post(resolve, json={"outcome": "CUSTOMER_FAVOR"}), 403, "FORBIDDEN"
        )
    reader: Caller = world["alice_read"]
    envelope.error(
        reader.rest.post(
            f"/v1/transactions/{world['transaction']}/disputes",
            json={"reason": "UNAUTHORIZED_TRANSACTION"},
        ),
        403,
        "FORBIDDEN",
    )
    envelope.error(
        reader.rest.post(
            "/v1/reports/custom",
            json={
                "dateRange": {"from": "2026-01-01", "to": "2026-01-31"},
                "accountIds": [world["account"]],
            },
        ),
        403,
        "FORBIDDEN",
    )
    for name in ("alice", "teller"):
        envelope.error(world[name].rest.get("/v1/ledger/trial-balance"), 403, "FORBIDDEN")
    # The owner still reads her own report once it is made.
    for _ in range(60):
        shown = envelope.success(world["alice"].rest.get(f"/v1/reports/{world['report']}"))
        if shown["report"]["status"] in ("COMPLETED", "FAILED"):
            break
        time.sleep(0.5)
    assert shown["report"]["status"] == "COMPLETED"
