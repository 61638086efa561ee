"""BatchCreateTransfers: REST `POST /v1/transactions/transfers:batchCreate` and gRPC.

One result per request, in request order; a refused item never fails the
others; item idempotency keys share CreateTransfer's namespace; the whole
batch may carry an Idempotency-Key. Over REST through Envoy and over gRPC,
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
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
from tests.common.money import assert_ledger_consistent, balance, open_account, query
from tests.common.principals import CUSTOMER_SCOPES, READ, Caller, client_caller, user_caller
from tests.conftest import Rest

PATH = "/v1/transactions/transfers:batchCreate"


@dataclass
class Customer:
    caller: Caller
    user_id: str
    account: str


@pytest.fixture
def customers(
    stack: Stack, rest: Rest, raw_channel: grpc.Channel
) -> Iterator[tuple[Customer, Customer]]:
    """Two new customers, each with an account holding 100.00."""
    made = []
    for name in ("carol", "dave"):
        user_id = users.create_rest(rest)["id"]
        account = open_account(rest, owner=user_id, funded=100)
        made.append(
            Customer(
                user_caller(stack, raw_channel, name, user_id, CUSTOMER_SCOPES), user_id, account
            )
        )
    yield made[0], made[1]
    for customer in made:
        customer.caller.close()


def _key() -> str:
    return f"batch-{uuid.uuid4()}"


def _item(source: str, target: str, amount: Any, **extra: Any) -> dict[str, Any]:
    return {"fromAccountId": source, "toAccountId": target, "amount": amount, **extra}


def _batch(session: Rest, items: list[dict[str, Any]], **headers: str) -> Any:
    return session.post(PATH, json={"requests": items}, headers=headers)


def _results(response: Any) -> list[dict[str, Any]]:
    data = envelope.success(response, 200)
    assert list(data) == ["results"]
    return data["results"]  # type: ignore[no-any-return]


def _error(result: dict[str, Any], code: str, field: str | None = None) -> dict[str, Any]:
    assert "transaction" not in result, result
    error: dict[str, Any] = result["error"]
    assert error["code"] == code, error
    assert error["message"]
    assert error.get("field") == field, error
    return error


def _stub(channel: grpc.Channel) -> pb_grpc.TransactionServiceStub:
    return pb_grpc.TransactionServiceStub(channel)


# --- the happy path ----------------------------------------------------------------------


def test_a_batch_posts_every_transfer_in_request_order_over_rest(rest: Rest) -> None:
    a, b, c = (open_account(rest, funded=100) for _ in range(3))
    items = [
        _item(a, b, 10, description="first"),
        _item(b, c, 20.5, reference="REF-2"),
        _item(c, a, 0.25, currency="USD"),
    ]
    response = _batch(rest, items)
    assert response.json()["message"] == "Batch processed"
    results = _results(response)
    assert len(results) == 3
    transactions = [result["transaction"] for result in results]
    assert [t["amount"] for t in transactions] == [10, 20.5, 0.25]
    assert [t["fromAccount"]["id"] for t in transactions] == [a, b, c]
    assert [t["status"] for t in transactions] == ["COMPLETED"] * 3
    assert transactions[0]["description"] == "first"
    assert transactions[1]["reference"] == "REF-2"
    assert all(result.get("replayed", False) is False for result in results)
    assert len({t["id"] for t in transactions}) == 3
    assert (balance(rest, a), balance(rest, b), balance(rest, c)) == (90.25, 89.5, 120.25)
    # Each is an ordinary transfer: readable by id.
    got = envelope.success(rest.get(f"/v1/transactions/{transactions[1]['id']}"))
    assert got["transaction"]["type"] == "TRANSFER"


def test_a_batch_over_grpc(rest: Rest, grpc_channel: grpc.Channel) -> None:
    a, b = open_account(rest, funded=50), open_account(rest)
    request = pb.BatchCreateTransfersRequest(
        requests=[
            pb.BatchTransferItem(from_account_id=a, to_account_id=b, amount=5),
            pb.BatchTransferItem(from_account_id=a, to_account_id=b, amount=0.001),
            pb.BatchTransferItem(from_account_id=a, to_account_id=a, amount=1),
            pb.BatchTransferItem(from_account_id=a, to_account_id=b, amount=7),
        ]
    )
    response, call = _stub(grpc_channel).BatchCreateTransfers.with_call(request, timeout=60)
    assert ("x-bank-http-status", "200") in call.initial_metadata()
    first, precision, same, last = response.results
    assert first.WhichOneof("outcome") == "transaction" and first.transaction.amount == 5
    assert precision.error.code == "TXN005"
    # gRPC callers read proto names.
    assert precision.error.field == "requests[1].amount"
    assert same.error.code == "VALIDATION_ERROR"
    assert same.error.field == "requests[2].to_account_id"
    assert last.transaction.amount == 7
    assert (balance(rest, a), balance(rest, b)) == (38, 12)


# --- refusals, item by item --------------------------------------------------------------


def test_each_refusal_is_its_items_error_and_the_others_post(
    rest: Rest, customers: tuple[Customer, Customer]
) -> None:
    carol, dave = customers
    mine = open_account(rest, owner=carol.user_id, funded=30)
    missing = "acc_" + "z" * 20
    items = [
        _item(carol.account, dave.account, 10),  # 0 posts
        _item(mine, dave.account, 1_000),  # 1 insufficient funds
        _item(carol.account, missing, 1),  # 2 unknown destination
        _item(dave.account, carol.account, 1),  # 3 someone else's account
        _item(carol.account, dave.account, 1.234),  # 4 too many decimals
        _item(carol.account, carol.account, 1),  # 5 same account
        _item(carol.account, dave.account, 0),  # 6 zero
        {"toAccountId": dave.account, "amount": 1},  # 7 no source
        _item(mine, dave.account, 5, currency="EUR"),  # 8 another currency
        _item(mine, carol.account, 20),  # 9 posts
    ]
    results = _results(_batch(carol.caller.rest, items))
    assert len(results) == len(items)
    assert results[0]["transaction"]["amount"] == 10
    insufficient = _error(results[1], "TXN001", "requests[1].amount")
    # The values of the message; the field is named once, as the item's path.
    assert insufficient["metadata"]["available_minor"] == "3000"
    assert "field" not in insufficient["metadata"]
    _error(results[2], "TXN002", "requests[2].toAccountId")
    _error(results[3], "TXN002", "requests[3].fromAccountId")
    _error(results[4], "TXN005", "requests[4].amount")
    _error(results[5], "VALIDATION_ERROR", "requests[5].toAccountId")
    _error(results[6], "TXN005", "requests[6].amount")
    _error(results[7], "VALIDATION_ERROR", "requests[7].fromAccountId")
    _error(results[8], "TXN006", "requests[8].currency")
    assert results[9]["transaction"]["amount"] == 20
    # Another customer's account answers as a missing one does: no more is said.
    assert results[3]["error"]["message"] == results[2]["error"]["message"]
    assert "balance" not in str(results[3])
    assert balance(rest, carol.account) == 100 - 10 + 20
    assert balance(rest, mine) == 10
    assert balance(rest, dave.account) == 110


def test_field_names_follow_what_the_client_sent(rest: Rest) -> None:
    a = open_account(rest, funded=10)
    items = [{"from_account_id": a, "to_account_id": a, "amount": 1}]
    results = _results(_batch(rest, items))
    _error(results[0], "VALIDATION_ERROR", "requests[0].to_account_id")


def test_a_customer_cannot_move_another_customers_money(
    rest: Rest, customers: tuple[Customer, Customer]
) -> None:
    carol, dave = customers
    items = [_item(dave.account, carol.account, 50), _item(dave.account, carol.account, 50)]
    results = _results(_batch(carol.caller.rest, items))
    for index, result in enumerate(results):
        _error(result, "TXN002", f"requests[{index}].fromAccountId")
    reply = _stub(carol.caller.channel).BatchCreateTransfers(
        pb.BatchCreateTransfersRequest(
            requests=[
                pb.BatchTransferItem(
                    from_account_id=dave.account, to_account_id=carol.account, amount=50
                )
            ]
        ),
        timeout=30,
    )
    assert reply.results[0].error.code == "TXN002"
    assert (balance(rest, carol.account), balance(rest, dave.account)) == (100, 100)


def test_a_read_only_token_is_forbidden(
    stack: Stack, rest: Rest, raw_channel: grpc.Channel
) -> None:
    a, b = open_account(rest, funded=10), open_account(rest)
    reader = client_caller(stack, raw_channel, READ)
    try:
        envelope.error(_batch(reader.rest, [_item(a, b, 1)]), 403, "FORBIDDEN")
        with pytest.raises(grpc.RpcError) as caught:
            _stub(reader.channel).BatchCreateTransfers(
                pb.BatchCreateTransfersRequest(
                    requests=[pb.BatchTransferItem(from_account_id=a, to_account_id=b, amount=1)]
                ),
                timeout=30,
            )
        envelope.grpc_error(caught.value, grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN")
    finally:
        reader.close()
    assert balance(rest, a) == 10


# --- the batch as a whole ----------------------------------------------------------------


def test_an_empty_batch_is_refused(rest: Rest, grpc_channel: grpc.Channel) -> None:
    envelope.error(_batch(rest, []), 422, "VALIDATION_ERROR", "requests")
    envelope.error(rest.post(PATH, json={}), 422, "VALIDATION_ERROR", "requests")
    with pytest.raises(grpc.RpcError) as caught:
        _stub(grpc_channel).BatchCreateTransfers(pb.BatchCreateTransfersRequest(), timeout=30)
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == "requests"
    assert info.metadata["count"] == "0"
    item = pb.BatchTransferItem(from_account_id="acc_x", to_account_id="acc_y", amount=1)
    with pytest.raises(grpc.RpcError) as caught:
        _stub(grpc_channel).BatchCreateTransfers(
            pb.BatchCreateTransfersRequest(requests=[item] * 1_001), timeout=30
        )
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert (info.metadata["count"], info.metadata["max"]) == ("1001", "1000")


def test_a_thousand_transfers_are_taken_and_one_more_is_not(rest: Rest) -> None:
    a, b = open_account(rest, funded=20), open_account(rest)
    too_many = [_item(a, b, 0.01) for _ in range(1_001)]
    error = envelope.error(_batch(rest, too_many), 422, "VALIDATION_ERROR", "requests")
    assert "1,000" in error["message"]
    assert balance(rest, a) == 20
    results = _results(_batch(rest, too_many[:1_000]))
    assert len(results) == 1_000
    assert all("transaction" in result for result in results)
    assert len({result["transaction"]["id"] for result in results}) == 1_000
    assert (balance(rest, a), balance(rest, b)) == (10, 10)


@pytest.mark.parametrize(
    ("extra", "status", "code", "field"),
    [
        ({"color": "red"}, 400, "INVALID_REQUEST", "requests.color"),
        ({"scheduled": True}, 400, "INVALID_REQUEST", "requests.scheduled"),
        ({"scheduledDate": "2030-01-01"}, 400, "INVALID_REQUEST", "requests.scheduledDate"),
        ({"id": "txn_x"}, 400, "INVALID_REQUEST", "requests.id"),
        ({"amount": "1e3"}, 422, "TXN005", "requests.amount"),
        # Refused by the transcoder itself, which names no field.
        ({"amount": True}, 400, "INVALID_REQUEST", None),
        ({"description": "nul\u0000"}, 400, "INVALID_REQUEST", "requests.description"),
    ],
)
def test_a_malformed_item_refuses_the_whole_batch(
    rest: Rest, extra: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    a, b = open_account(rest, funded=10), open_account(rest)
    body = {"requests": [_item(a, b, 1), {**_item(a, b, 2), **extra}]}
    envelope.error(rest.post(PATH, json=body), status, code, field)
    assert balance(rest, a) == 10


def test_an_unknown_top_level_field_refuses_the_batch(rest: Rest) -> None:
    a, b = open_account(rest, funded=10), open_account(rest)
    body = {"requests": [_item(a, b, 1)], "dryRun": True}
    envelope.error(rest.post(PATH, json=body), 400, "INVALID_REQUEST", "dryRun")
    assert balance(rest, a) == 10


def test_a_body_over_a_mebibyte_is_too_large(rest: Rest) -> None:
    a, b = open_account(rest, funded=10), open_account(rest)
    long = "\u00e9" * 255  # two bytes each in UTF-8
    items = [_item(a, b, 0.01, description=long, reference="R" * 35) for _ in range(1_000)]
    envelope.error(_batch(rest, items), 413, "PAYLOAD_TOO_LARGE")
    assert balance(rest, a) == 10


def test_only_post_is_allowed(rest: Rest) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = rest.request(method, PATH)
        assert response.status_code == 405, (method, response.text)
        assert response.headers["Allow"] == "POST"


def test_two_items_with_one_key_refuse_the_batch(rest: Rest) -> None:
    a, b = open_account(rest, funded=10), open_account(rest)
    key = _key()
    items = [
        _item(a, b, 1, idempotencyKey=key),
        _item(a, b, 1),
        _item(a, b, 1, idempotencyKey=key),
    ]
    envelope.error(_batch(rest, items), 422, "VALIDATION_ERROR", "requests[2].idempotencyKey")
    assert balance(rest, a) == 10
    # The key was not taken: a batch without the duplicate uses it.
    results = _results(_batch(rest, items[:2]))
    assert all("transaction" in result for result in results)


def test_a_malformed_item_key_refuses_that_item_only(rest: Rest) -> None:
    a, b = open_account(rest, funded=10), open_account(rest)
    items = [_item(a, b, 1, idempotencyKey="has space"), _item(a, b, 2)]
    results = _results(_batch(rest, items))
    _error(results[0], "INVALID_REQUEST", "requests[0].idempotencyKey")
    assert results[1]["transaction"]["amount"] == 2
    assert balance(rest, a) == 8


# --- idempotency -------------------------------------------------------------------------


def test_an_item_key_replays_its_transfer_and_moves_the_money_once(rest: Rest) -> None:
    a, b = open_account(rest, funded=100), open_account(rest)
    key = _key()
    items = [_item(a, b, 10, idempotencyKey=key, description="rent"), _item(a, b, 1)]
    first = _results(_batch(rest, items))
    again = _results(_batch(rest, items))
    assert again[0]["replayed"] is True
    assert again[0]["transaction"] == first[0]["transaction"]
    # The keyless item is a new transfer each time.
    assert again[1]["transaction"]["id"] != first[1]["transaction"]["id"]
    assert balance(rest, a) == 88
    # The same key by CreateTransfer: the item's transaction, not a second transfer.
    single = rest.post(
        "/v1/transactions/transfer",
        json={"fromAccountId": a, "toAccountId": b, "amount": 10, "description": "rent"},
        headers={"Idempotency-Key": key},
    )
    assert single.headers["Idempotent-Replayed"] == "true"
    assert envelope.success(single, 201)["transaction"] == first[0]["transaction"]
    assert single.json()["message"] == "Transfer completed successfully"
    assert balance(rest, a) == 88


def test_a_create_transfer_key_replays_in_a_batch(rest: Rest, grpc_channel: grpc.Channel) -> None:
    a, b = open_account(rest, funded=100), open_account(rest)
    key = _key()
    stub = _stub(grpc_channel)
    single = stub.CreateTransfer(
        pb.CreateTransferRequest(from_account_id=a, to_account_id=b, amount=25, reference="R1"),
        metadata=[("idempotency-key", key)],
        timeout=30,
    )
    reply = stub.BatchCreateTransfers(
        pb.BatchCreateTransfersRequest(
            requests=[
                pb.BatchTransferItem(
                    from_account_id=a,
                    to_account_id=b,
                    amount=25,
                    reference="R1",
                    idempotency_key=key,
                )
            ]
        ),
        timeout=30,
    )
    assert reply.results[0].replayed
    assert (
        reply.results[0].transaction.SerializeToString() == single.transaction.SerializeToString()
    )
    assert balance(rest, a) == 75


def test_an_item_key_used_with_another_body_is_that_items_error(rest: Rest) -> None:
    a, b = open_account(rest, funded=100), open_account(rest)
    key, other = _key(), _key()
    envelope.success(
        rest.post(
            "/v1/transactions/transfer",
            json={"fromAccountId": a, "toAccountId": b, "amount": 5},
            headers={"Idempotency-Key": key},
        ),
        201,
    )
    _results(_batch(rest, [_item(a, b, 3, idempotencyKey=other)]))
    items = [
        _item(a, b, 6, idempotencyKey=key),  # CreateTransfer's key, another amount
        _item(a, b, 3, idempotencyKey=other, description="changed"),  # the batch's, changed
        _item(a, b, 2),
    ]
    results = _results(_batch(rest, items))
    _error(results[0], "IDEMPOTENCY_KEY_REUSED")
    _error(results[1], "IDEMPOTENCY_KEY_REUSED")
    assert results[2]["transaction"]["amount"] == 2
    assert balance(rest, a) == 90
    # A CreateTransfer with the item's key and another body: 409 too.
    reused = rest.post(
        "/v1/transactions/transfer",
        json={"fromAccountId": a, "toAccountId": b, "amount": 4},
        headers={"Idempotency-Key": other},
    )
    envelope.error(reused, 409, "IDEMPOTENCY_KEY_REUSED")


def test_a_refused_items_key_replays_the_refusal(rest: Rest) -> None:
    a, b = open_account(rest, funded=5), open_account(rest)
    key = _key()
    items = [_item(a, b, 50, idempotencyKey=key)]
    _error(_results(_batch(rest, items))[0], "TXN001", "requests[0].amount")
    envelope.success(
        rest.post(
            "/v1/transactions/deposit", json={"accountId": a, "amount": 100, "method": "CASH"}
        ),
        201,
    )
    # Stored as the key's outcome, as CreateTransfer stores it: no transfer now.
    again = _results(_batch(rest, items))[0]
    _error(again, "TXN001", "requests[0].amount")
    assert again["replayed"] is True
    single = rest.post(
        "/v1/transactions/transfer",
        json={"fromAccountId": a, "toAccountId": b, "amount": 50},
        headers={"Idempotency-Key": key},
    )
    envelope.error(single, 422, "TXN001")
    assert balance(rest, a) == 105


def test_another_callers_item_key_is_not_mine(
    rest: Rest, customers: tuple[Customer, Customer]
) -> None:
    carol, dave = customers
    key = _key()
    mine = _results(
        _batch(carol.caller.rest, [_item(carol.account, dave.account, 5, idempotencyKey=key)])
    )
    theirs = _results(
        _batch(dave.caller.rest, [_item(dave.account, carol.account, 5, idempotencyKey=key)])
    )
    assert theirs[0].get("replayed", False) is False
    assert theirs[0]["transaction"]["id"] != mine[0]["transaction"]["id"]
    assert (balance(rest, carol.account), balance(rest, dave.account)) == (100, 100)


def test_the_whole_batch_replays_with_its_idempotency_key(rest: Rest) -> None:
    a, b = open_account(rest, funded=100), open_account(rest)
    key = _key()
    items = [_item(a, b, 10), _item(a, b, 1_000), _item(a, b, 5)]
    first = _batch(rest, items, **{"Idempotency-Key": key})
    results = _results(first)
    assert "Idempotent-Replayed" not in first.headers
    again = _batch(rest, items, **{"Idempotency-Key": key})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _results(again) == results
    assert balance(rest, a) == 85
    changed = _batch(rest, items[:2], **{"Idempotency-Key": key})
    envelope.error(changed, 409, "IDEMPOTENCY_KEY_REUSED")
    # The batch's key is not an item's: an item using it is refused, not replayed.
    item_result = _results(_batch(rest, [_item(a, b, 10, idempotencyKey=key)]))[0]
    _error(item_result, "IDEMPOTENCY_KEY_REUSED")
    assert balance(rest, a) == 85


def test_the_whole_batch_replays_over_grpc(rest: Rest, grpc_channel: grpc.Channel) -> None:
    a, b = open_account(rest, funded=100), open_account(rest)
    request = pb.BatchCreateTransfersRequest(
        requests=[pb.BatchTransferItem(from_account_id=a, to_account_id=b, amount=3)]
    )
    metadata = [("idempotency-key", _key())]
    stub = _stub(grpc_channel)
    first = stub.BatchCreateTransfers(request, metadata=metadata, timeout=30)
    again, call = stub.BatchCreateTransfers.with_call(request, metadata=metadata, timeout=30)
    assert ("idempotent-replayed", "true") in call.initial_metadata()
    assert again.SerializeToString() == first.SerializeToString()
    assert balance(rest, a) == 97


# --- concurrency -------------------------------------------------------------------------


def test_two_batches_in_opposite_orders_both_finish(stack: Stack, rest: Rest) -> None:
    accounts = [open_account(rest, funded=1_000) for _ in range(4)]
    forward = [_item(accounts[i], accounts[(i + 1) % 4], 1) for i in range(4) for _ in range(25)]
    backward = [
        _item(accounts[(i + 1) % 4], accounts[i], 1) for i in reversed(range(4)) for _ in range(25)
    ]
    outcomes: dict[str, Any] = {}

    def send(name: str, items: list[dict[str, Any]]) -> None:
        with Rest(stack.http_url) as session:
            session.headers["Authorization"] = rest.headers["Authorization"]
            outcomes[name] = [_batch(session, items) for _ in range(3)]

    threads = [
        threading.Thread(target=send, args=(name, items))
        for name, items in (("forward", forward), ("backward", backward))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    for responses in outcomes.values():
        for response in responses:
            assert all("transaction" in result for result in _results(response))
    # Every account sent and received 75.00 each way.
    assert [balance(rest, account) for account in accounts] == [1_000] * 4
    assert_ledger_consistent(stack)
    count = query(
        stack,
        "SELECT COUNT(*) FROM ledger_transactions WHERE from_account_id IN (%s, %s, %s, %s)",
        tuple(accounts),
    )
    assert count[0][0] == 600


def test_concurrent_batches_with_the_same_item_keys_post_each_once(
    stack: Stack, rest: Rest
) -> None:
    a, b = open_account(rest, funded=100), open_account(rest)
    keys = [_key() for _ in range(5)]
    ordered = [_item(a, b, index + 1, idempotencyKey=key) for index, key in enumerate(keys)]
    batches = [ordered, list(reversed(ordered))] * 3
    answers: list[list[dict[str, Any]]] = [[] for _ in batches]

    def send(slot: int) -> None:
        with Rest(stack.http_url) as session:
            session.headers["Authorization"] = rest.headers["Authorization"]
            answers[slot] = _results(_batch(session, batches[slot]))

    threads = [threading.Thread(target=send, args=(slot,)) for slot in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    ids: dict[str, set[str]] = {key: set() for key in keys}
    for items, results in zip(batches, answers, strict=True):
        assert len(results) == 5
        for item, result in zip(items, results, strict=True):
            ids[item["idempotencyKey"]].add(result["transaction"]["id"])
    assert all(len(found) == 1 for found in ids.values()), ids
    assert sum(1 for results in answers for result in results if not result["replayed"]) == 5
    assert (balance(rest, a), balance(rest, b)) == (85, 15)
    assert_ledger_consistent(stack)
