"""Responses carry only the fields that apply (API_CONTRACT.md "Requests are strict").

A field that does not apply is absent: never an empty string, never an enum
`*_UNSPECIFIED`, over REST (through the real Envoy transcoder) and over gRPC
(`HasField` false). The sweep below reads every kind of resource the server
answers with, and every kind of transaction; `envelope.success` checks the
same on every REST success of the suite.

Also: where a transfer was made from (address, device) is shown only to
staff and to whoever initiated it, never to the receiver.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import grpc
import pytest

from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.money import ALICE_CARD, ALICE_CHECKING, deposit, open_account, transfer
from tests.common.principals import CUSTOMER_SCOPES, Caller, create_user, user_caller
from tests.conftest import Rest

BROWSER = {"User-Agent": "BankApp/1.0 (iOS)", "X-Client-Location": "New York, US"}


def test_clean_flags_empty_strings_and_unspecified_enums() -> None:
    assert envelope.unclean({"a": {"b": [{"c": ""}]}}) == ["a.b[0].c"]
    assert envelope.unclean({"method": "TRANSACTION_METHOD_UNSPECIFIED"}) == ["method"]
    assert envelope.unclean({"a": "x", "b": 0, "c": False, "d": [], "e": None}) == []


@pytest.fixture(scope="module")
def people(stack: Stack, rest: Rest, raw_channel: grpc.Channel) -> Iterator[dict[str, Caller]]:
    ids = {name: create_user(rest, "CUSTOMER", f"{name.title()} Fields") for name in ("a", "b")}
    callers = {
        name: user_caller(stack, raw_channel, name, user_id, CUSTOMER_SCOPES)
        for name, user_id in ids.items()
    }
    try:
        yield callers
    finally:
        for one in callers.values():
            one.close()


def _clean(response: Any, status: int = 200) -> dict[str, Any]:
    data = envelope.success(response, status)
    assert envelope.unclean(data) == [], data
    return data


def _every_transaction_kind(rest: Rest) -> dict[str, dict[str, Any]]:
    """One created transaction of each kind, by name, as its creation answered it."""
    source = open_account(rest, funded=200, overdraft=100)
    target = open_account(rest)
    today = date.fromisoformat(envelope.success(rest.get("/v1/sandbox/clock"))["clock"]["now"][:10])
    made = {
        "transfer": transfer(rest, source, target, 10, description="fields", reference="R-1"),
        "scheduled": transfer(
            rest, source, target, 5, scheduled=True, scheduledDate=str(today + timedelta(days=3))
        ),
        "check deposit": rest.post(
            "/v1/transactions/deposit",
            json={"accountId": target, "amount": 20, "method": "CHECK"},
        ),
        "branch withdrawal": rest.post(
            "/v1/transactions/withdrawal",
            json={"accountId": source, "amount": 5, "method": "BRANCH", "location": "Branch A"},
        ),
        "atm withdrawal": rest.post(
            "/v1/transactions/withdrawal",
            json={
                "accountId": ALICE_CHECKING,
                "amount": 10,
                "method": "ATM",
                "location": "ATM-NYC-001",
                "cardNumber": ALICE_CARD[0],
                "pin": ALICE_CARD[1],
            },
        ),
        "generic deposit": rest.post(
            "/v1/transactions",
            json={"type": "DEPOSIT", "accountId": source, "amount": 1, "method": "CASH"},
        ),
        # Takes the source below zero: a stand-alone FEE transaction follows.
        "overdraft": transfer(rest, source, target, 250),
    }
    return {name: _clean(response, 201)["transaction"] for name, response in made.items()}


def test_no_field_that_does_not_apply_is_printed(rest: Rest) -> None:
    created = _every_transaction_kind(rest)
    for name, txn in created.items():
        got = _clean(rest.get(f"/v1/transactions/{txn['id']}"))["transaction"]
        assert "method" not in got or got["type"] in ("DEPOSIT", "WITHDRAWAL"), name
        if txn["type"] == "TRANSFER":
            for absent in ("method", "holdId", "cardNumber", "atmNetwork", "rail", "purpose"):
                assert absent not in got, (name, absent)
    assert "holdId" in created["check deposit"]
    assert created["atm withdrawal"]["atmNetwork"] == "IN_NETWORK"
    assert created["atm withdrawal"]["cardNumber"] == "****1111"
    source = created["transfer"]["fromAccount"]["id"]
    target = created["transfer"]["toAccount"]["id"]
    for account_id in (source, target):
        listed = _clean(rest.get(f"/v1/transactions?accountId={account_id}&limit=100"))
        assert "nextPageToken" not in listed
        assert "FEE" in {t["type"] for t in listed["transactions"]} or account_id == target
        _clean(rest.post("/v1/transactions/search", json={"accountId": account_id}))
        _clean(rest.get(f"/v1/accounts/{account_id}"))
        _clean(rest.get(f"/v1/accounts/{account_id}/balance"))
        _clean(rest.get(f"/v1/accounts/{account_id}/holds"))
    paged = _clean(rest.get(f"/v1/transactions?accountId={source}&limit=1"))
    assert paged["nextPageToken"]
    fee = next(
        t for t in _clean(rest.get(f"/v1/transactions?accountId={source}&type=FEE"))["transactions"]
    )
    _clean(rest.get(f"/v1/transactions/{fee['id']}"))
    for path in (
        "/v1/accounts?limit=100",
        "/v1/users?limit=100",
        "/v1/clients",
        "/v1/clients/sandbox-client/api-keys",
        "/v1/audit-events?limit=100",
        "/v1/sandbox/clock",
    ):
        _clean(rest.get(path))
    _clean(rest.post("/v1/audit-events:verify", json={}))
    user_id = envelope.success(rest.get("/v1/users?limit=1"))["users"][0]["id"]
    _clean(rest.get(f"/v1/users/{user_id}"))
    _clean(rest.get("/v1/clients/sandbox-client"))


def test_grpc_fields_that_do_not_apply_have_no_presence(
    rest: Rest, grpc_channel: grpc.Channel
) -> None:
    source = open_account(rest, funded=50)
    target = open_account(rest)
    moved = envelope.success(transfer(rest, source, target, 5), 201)["transaction"]
    held = envelope.success(
        rest.post(
            "/v1/transactions/deposit", json={"accountId": target, "amount": 5, "method": "CHECK"}
        ),
        201,
    )["transaction"]
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    txn = stub.GetTransaction(pb.GetTransactionRequest(transaction_id=moved["id"])).transaction
    for name in ("method", "hold_id", "card_number", "atm_network", "rail", "purpose", "memo"):
        assert not txn.HasField(name), name  # type: ignore[arg-type]
    assert not txn.HasField("account_id") and not txn.HasField("description")
    dep = stub.GetTransaction(pb.GetTransactionRequest(transaction_id=held["id"])).transaction
    assert dep.HasField("hold_id") and dep.HasField("method") and dep.HasField("account_id")
    assert not dep.HasField("atm_network") and not dep.HasField("card_number")
    page = stub.ListTransactions(pb.ListTransactionsRequest(account_id=target, limit=100))
    assert not page.HasField("next_page_token")
    assert not page.pagination.HasField("next_page_token")
    assert all(item.HasField("direction") for item in page.transactions)


def test_receiver_does_not_see_where_a_transfer_came_from(
    rest: Rest, people: dict[str, Caller]
) -> None:
    sender, receiver = people["a"], people["b"]
    source = open_account(rest, owner=sender.user_id or "", funded=100)
    target = open_account(rest, owner=receiver.user_id or "")
    sent = envelope.success(
        sender.rest.post(
            "/v1/transactions/transfer",
            json={"fromAccountId": source, "toAccountId": target, "amount": 7},
            headers=BROWSER,
        ),
        201,
    )["transaction"]
    assert sent["metadata"]["device"] == BROWSER["User-Agent"]
    assert sent["initiatedBy"] == sender.user_id
    path = f"/v1/transactions/{sent['id']}"
    for reader in (sender.rest, rest):  # the initiator and staff
        seen = envelope.success(reader.get(path))["transaction"]
        assert seen["metadata"] == {
            "ipAddress": "127.0.0.1",
            "device": BROWSER["User-Agent"],
            "location": BROWSER["X-Client-Location"],
        }
        assert seen["initiatedBy"] == sender.user_id
    seen = envelope.success(receiver.rest.get(path))["transaction"]
    assert seen["id"] == sent["id"]
    assert "metadata" not in seen and "initiatedBy" not in seen
    assert "127.0.0.1" not in str(seen) and BROWSER["User-Agent"] not in str(seen)
    history = envelope.success(receiver.rest.get(f"/v1/transactions?accountId={target}"))
    assert "127.0.0.1" not in str(history) and BROWSER["User-Agent"] not in str(history)
    stub = pb_grpc.TransactionServiceStub(receiver.channel)
    txn = stub.GetTransaction(pb.GetTransactionRequest(transaction_id=sent["id"])).transaction
    assert not txn.HasField("metadata") and not txn.HasField("initiated_by")
    own = pb_grpc.TransactionServiceStub(sender.channel).GetTransaction(
        pb.GetTransactionRequest(transaction_id=sent["id"])
    )
    assert own.transaction.metadata.ip_address == "127.0.0.1"


def test_deposit_by_staff_hides_staff_metadata_from_the_owner(
    rest: Rest, people: dict[str, Caller]
) -> None:
    owner = people["b"]
    account_id = open_account(rest, owner=owner.user_id or "")
    made = deposit(rest, account_id, 3)
    assert made["metadata"]["ipAddress"] == "127.0.0.1"  # staff (the sandbox client) made it
    seen = envelope.success(owner.rest.get(f"/v1/transactions/{made['id']}"))["transaction"]
    assert "metadata" not in seen
