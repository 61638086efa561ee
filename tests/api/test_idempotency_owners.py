"""Idempotency keys belong to the caller: the client, and the person when the token is one's.

Alice and Bob sign in through the same OAuth client (the sandbox client), as
the customers of one bank app do. One caller's key never replays or blocks
another's, over REST and over gRPC.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope, users
from tests.common.money import balance, open_account
from tests.common.principals import CUSTOMER_SCOPES, Caller, user_caller
from tests.conftest import Rest


@dataclass
class Customer:
    caller: Caller
    account: str


@pytest.fixture
def pair(
    stack: Stack, rest: Rest, raw_channel: grpc.Channel
) -> Iterator[tuple[Customer, Customer]]:
    """Two new customers of the same client, each with a funded account."""
    made = []
    for name in ("alice", "bob"):
        user_id = users.create_rest(rest)["id"]
        account = open_account(rest, owner=user_id, funded=100)
        made.append(
            Customer(user_caller(stack, raw_channel, name, user_id, CUSTOMER_SCOPES), account)
        )
    yield made[0], made[1]
    for customer in made:
        customer.caller.close()


def _key() -> str:
    return f"owner-{uuid.uuid4()}"


def _transfer(session: Rest, source: str, target: str, key: str) -> Any:
    body = {"fromAccountId": source, "toAccountId": target, "amount": 10}
    return session.post("/v1/transactions/transfer", json=body, headers={"Idempotency-Key": key})


def test_another_person_of_the_same_client_never_gets_a_stored_answer_over_rest(
    rest: Rest, pair: tuple[Customer, Customer]
) -> None:
    alice, bob = pair
    key = _key()
    first = _transfer(alice.caller.rest, alice.account, bob.account, key)
    created = envelope.success(first, 201)["transaction"]
    # Bob sends Alice's key and body: his own request, run as his (not his
    # account: 404), never Alice's stored answer.
    stolen = _transfer(bob.caller.rest, alice.account, bob.account, key)
    envelope.error(stolen, 404, "TXN002")
    assert "Idempotent-Replayed" not in stolen.headers
    assert created["id"] not in stolen.text
    # The sandbox client itself (no person) is another caller too: it runs anew.
    own = _transfer(rest, alice.account, bob.account, key)
    assert envelope.success(own, 201)["transaction"]["id"] != created["id"]
    assert "Idempotent-Replayed" not in own.headers
    # Alice still gets her own answer back.
    again = _transfer(alice.caller.rest, alice.account, bob.account, key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert envelope.success(again, 201)["transaction"]["id"] == created["id"]
    assert balance(rest, alice.account) == 80


def test_a_key_used_first_by_another_person_does_not_block_mine_over_rest(
    rest: Rest, pair: tuple[Customer, Customer]
) -> None:
    alice, bob = pair
    key = _key()
    envelope.success(_transfer(bob.caller.rest, bob.account, alice.account, key), 201)
    mine = _transfer(alice.caller.rest, alice.account, bob.account, key)
    envelope.success(mine, 201)
    assert "Idempotent-Replayed" not in mine.headers
    assert (balance(rest, alice.account), balance(rest, bob.account)) == (100, 100)


def _grpc_transfer(who: Customer, source: str, target: str, key: str) -> tuple[Any, Any]:
    stub = pb_grpc.TransactionServiceStub(who.caller.channel)
    request = pb.CreateTransferRequest(from_account_id=source, to_account_id=target, amount=10)
    return stub.CreateTransfer.with_call(request, metadata=[("idempotency-key", key)], timeout=30)


def test_keys_belong_to_the_person_over_grpc(rest: Rest, pair: tuple[Customer, Customer]) -> None:
    alice, bob = pair
    key, other_key = _key(), _key()
    first, _ = _grpc_transfer(alice, alice.account, bob.account, key)
    # Bob's own transfer with the key Alice used: executed, not a 409.
    bobs, call = _grpc_transfer(bob, bob.account, alice.account, key)
    assert ("idempotent-replayed", "true") not in call.initial_metadata()
    assert bobs.transaction.id != first.transaction.id
    # Bob sends Alice's key and body: run as his own request, not her answer.
    _grpc_transfer(alice, alice.account, bob.account, other_key)
    with pytest.raises(grpc.RpcError) as caught:
        _grpc_transfer(bob, alice.account, bob.account, other_key)
    envelope.grpc_error(caught.value, grpc.StatusCode.NOT_FOUND, "TXN002")
    assert ("idempotent-replayed", "true") not in (caught.value.initial_metadata() or ())
    replayed, call = _grpc_transfer(alice, alice.account, bob.account, key)
    assert ("idempotent-replayed", "true") in call.initial_metadata()
    assert replayed.SerializeToString() == first.SerializeToString()
    assert (balance(rest, alice.account), balance(rest, bob.account)) == (90, 110)
