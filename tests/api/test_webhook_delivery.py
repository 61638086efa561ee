"""Webhook delivery end to end: the stack's own worker (`python -m server
webhooks`, started beside the server) sends what calls over REST and gRPC
change to a subscription made through the API, signed as the contract says.
On both databases."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from standardwebhooks import Webhook

from backoffice.v1 import (
    account_pb2,
    account_service_pb2,
    account_service_pb2_grpc,
    transaction_pb2,
)
from backoffice.v1 import transaction_service_pb2 as txn_pb
from backoffice.v1 import transaction_service_pb2_grpc as txn_grpc
from server.run import Stack
from tests.common import envelope, users
from tests.common.accounts import Db
from tests.common.money import deposit, open_account, transfer
from tests.common.principals import Caller
from tests.common.webhook_receiver import Received, Receiver, receiving
from tests.common.webhooks import admin_client

EVENTS = ["user.created", "account.created", "transaction.created", "transaction.completed"]
PLAIN_SECRET = "a-plain-secret-of-the-receiver"


@pytest.fixture
def owner(stack: Stack, raw_channel: grpc.Channel) -> Iterator[Caller]:
    with admin_client(stack, raw_channel) as who:
        yield who


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@pytest.fixture
def db(stack: Stack) -> Iterator[Db]:
    database = Db(stack)
    try:
        yield database
    finally:
        database.close()


Subscribe = Callable[[str | None], tuple[str, str]]


@pytest.fixture
def subscribed(owner: Caller, receiver: Receiver) -> Iterator[Subscribe]:
    """Makes subscriptions to `receiver` through the API: (webhook id, secret)
    for a secret given (None: one the server makes); deleted at the end, so
    that the stack's worker stops sending to a receiver that is gone."""
    made: list[str] = []

    def make(secret: str | None) -> tuple[str, str]:
        body: dict[str, Any] = {"url": f"{receiver.url}/hooks/{uuid.uuid4().hex[:8]}"}
        body["events"] = EVENTS
        if secret is not None:
            body["secret"] = secret
        created = envelope.success(owner.rest.post("/v1/webhooks", json=body), 201)["webhook"]
        made.append(created["id"])
        return created["id"], created.get("secret") or str(secret)

    yield make
    for webhook_id in made:
        owner.rest.delete(f"/v1/webhooks/{webhook_id}")


def _signed(request: Received, secret: str) -> dict[str, Any]:
    key: str | bytes = secret if secret.startswith("whsec_") else secret.encode()
    document: dict[str, Any] = Webhook(key).verify(request.body, request.headers)
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-webhook-signature"] == f"sha256={expected}"
    assert request.headers["webhook-id"] == document["id"]
    assert document["type"] == document["event"]
    return document


def _arrived(
    receiver: Receiver, wanted: Callable[[dict[str, Any]], bool], count: int
) -> list[dict[str, Any]]:
    def found(received: list[Received]) -> bool:
        return len([r for r in received if wanted(r.document)]) >= count

    received = receiver.wait_for(found, timeout=30)
    return [r.document for r in received if wanted(r.document)]


def _user_id(document: dict[str, Any]) -> str | None:
    data = document["data"]
    return data.get("userId") or data.get("id")


def test_rest_changes_arrive_signed(
    owner: Caller, receiver: Receiver, subscribed: Subscribe, rest: Any
) -> None:
    webhook_id, secret = subscribed(None)
    assert secret.startswith("whsec_")
    user = users.create_rest(rest)
    source = open_account(rest, owner=user["id"])
    deposit(rest, source, 50)
    target = open_account(rest, owner=user["id"])
    moved = envelope.success(transfer(rest, source, target, 12.5), 201)["transaction"]

    created = _arrived(
        receiver, lambda d: d["event"] == "user.created" and _user_id(d) == user["id"], 1
    )
    assert created[0]["data"]["email"] == user["email"]
    accounts = _arrived(
        receiver,
        lambda d: (
            d["event"] == "account.created" and d["data"].get("accountId") in (source, target)
        ),
        2,
    )
    assert len(accounts) == 2
    for kind in ("transaction.created", "transaction.completed"):
        _arrived(
            receiver,
            lambda d, k=kind: d["event"] == k and d["data"].get("transactionId") == moved["id"],
            1,
        )
    for request in receiver.received:
        _signed(request, secret)
    _delivered(owner, webhook_id)


def _delivered(owner: Caller, webhook_id: str) -> None:
    """The delivery log over REST shows every delivery SUCCEEDED at attempt 1."""
    deadline = time.monotonic() + 20
    while True:
        listed = envelope.success(owner.rest.get(f"/v1/webhooks/{webhook_id}/deliveries"))
        rows = listed["deliveries"]
        if rows and all(row["status"] == "SUCCEEDED" for row in rows):
            break
        assert time.monotonic() < deadline, rows
        time.sleep(0.1)
    for row in rows:
        assert row["attempt"] == 1
        assert row["responseCode"] == 200


def test_grpc_changes_arrive_signed(
    owner: Caller, receiver: Receiver, subscribed: Subscribe, grpc_channel: grpc.Channel
) -> None:
    webhook_id, secret = subscribed(PLAIN_SECRET)
    assert secret == PLAIN_SECRET
    user = users.create_grpc(grpc_channel)
    accounts = account_service_pb2_grpc.AccountServiceStub(grpc_channel)
    opened = [
        accounts.CreateAccount(
            account_service_pb2.CreateAccountRequest(
                type=account_pb2.AccountTypeEnum.CHECKING, currency="USD", owner_id=user.id
            ),
            timeout=30,
        ).account.id
        for _ in range(2)
    ]
    transactions = txn_grpc.TransactionServiceStub(grpc_channel)
    transactions.CreateDeposit(
        txn_pb.CreateDepositRequest(
            account_id=opened[0],
            amount=20,
            method=transaction_pb2.DepositMethodEnum.CASH,
            location="Branch A",
        ),
        timeout=30,
    )
    moved = transactions.CreateTransfer(
        txn_pb.CreateTransferRequest(
            from_account_id=opened[0], to_account_id=opened[1], amount=7.25
        ),
        timeout=30,
    ).transaction
    _arrived(receiver, lambda d: d["event"] == "user.created" and _user_id(d) == user.id, 1)
    _arrived(
        receiver,
        lambda d: d["event"] == "account.created" and d["data"].get("accountId") in opened,
        2,
    )
    completed = _arrived(
        receiver,
        lambda d: (
            d["event"] == "transaction.completed" and d["data"].get("transactionId") == moved.id
        ),
        1,
    )
    assert completed[0]["data"]["amount"] in (7.25, "7.25")
    for request in receiver.received:
        _signed(request, PLAIN_SECRET)
    _delivered(owner, webhook_id)


def test_a_failing_receiver_gets_the_retry_with_the_same_id(
    receiver: Receiver, subscribed: Subscribe, rest: Any, db: Db
) -> None:
    """The first answer is a 500: the delivery is retried (after about 5 s)
    with the same webhook-id and body."""
    failed_once: set[str] = set()

    def answer(request: Received) -> tuple[int, bytes]:
        event_id = request.headers["webhook-id"]
        if event_id not in failed_once:
            failed_once.add(event_id)
            return 500, b"try later"
        return 204, b""

    receiver.answer = answer
    webhook_id, secret = subscribed(PLAIN_SECRET)
    user = users.create_rest(rest)
    (first,) = _arrived(receiver, lambda d: _user_id(d) == user["id"], 1)
    receiver.wait_for(lambda _r: len(receiver.of_event(first["id"])) >= 2, timeout=30)
    one, two = receiver.of_event(first["id"])[:2]
    assert one.body == two.body
    _signed(two, secret)
    query = (
        "SELECT status, attempt, error FROM webhook_deliveries"
        " WHERE webhook_id = ? AND event_id = ?"
    )
    deadline = time.monotonic() + 10
    rows = db.execute(query, (webhook_id, first["id"]))
    while rows[0][0] != "SUCCEEDED" and time.monotonic() < deadline:
        time.sleep(0.1)
        rows = db.execute(query, (webhook_id, first["id"]))
    assert rows == [("SUCCEEDED", 2, None)]
