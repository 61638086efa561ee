"""A movement that triggers the overdraft fee tells one balance after it:
the one right after its own posting, as reading it back does; the fee is a
FEE transaction of its own, posted after it.

Over REST through Envoy and over gRPC, on both databases.
"""

from __future__ import annotations

import grpc

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.money import BOB, assert_ledger_consistent, balance, open_account, transfer
from tests.conftest import Rest

BRANCH = tpb.WithdrawalMethodEnum.BRANCH


def _history(rest: Rest, account_id: str) -> list[dict[str, object]]:
    lines: list[dict[str, object]] = envelope.success(
        rest.get(f"/api/transactions?accountId={account_id}&sortBy=date&sortOrder=asc")
    )["transactions"]
    return lines


def test_a_withdrawal_into_the_overdraft_answers_what_reading_it_back_says(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack
) -> None:
    account = open_account(rest, funded=100, overdraft=500)
    body = {"accountId": account, "amount": 200, "method": "BRANCH", "location": "Branch A"}
    made = envelope.success(rest.post("/v1/transactions/withdrawal", json=body), 201)
    answered = made["transaction"]
    assert answered["balanceAfter"] == -100
    assert answered["fromAccount"]["balance"] == -100
    read = envelope.success(rest.get(f"/v1/transactions/{answered['id']}"))["transaction"]
    assert read["balanceAfter"] == -100
    # The fee follows as its own line: -100, then -135.
    lines = _history(rest, account)
    assert [(line["type"], line["balanceAfter"]) for line in lines] == [
        ("DEPOSIT", 100),
        ("WITHDRAWAL", -100),
        ("FEE", -135),
    ]
    assert balance(rest, account) == -135

    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    over_grpc = stub.CreateWithdrawal(
        pb.CreateWithdrawalRequest(account_id=account, amount=10, method=BRANCH, location="B"),
        timeout=30,
    ).transaction
    assert over_grpc.balance_after == -145
    got = stub.GetTransaction(pb.GetTransactionRequest(transaction_id=over_grpc.id), timeout=30)
    assert got.transaction.balance_after == -145
    assert balance(rest, account) == -180
    assert_ledger_consistent(stack)


def test_a_transfer_into_the_overdraft_answers_what_reading_it_back_says(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack
) -> None:
    source = open_account(rest, funded=100, overdraft=500)
    target = open_account(rest, owner=BOB)
    answered = envelope.success(transfer(rest, source, target, 300), 201)["transaction"]
    assert answered["balanceAfter"] == -200
    assert answered["fromAccount"]["balance"] == -200
    read = envelope.success(rest.get(f"/v1/transactions/{answered['id']}"))["transaction"]
    assert read["balanceAfter"] == -200
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    over_grpc = stub.CreateTransfer(
        pb.CreateTransferRequest(from_account_id=source, to_account_id=target, amount=20),
        timeout=30,
    ).transaction
    assert over_grpc.balance_after == -255
    assert over_grpc.from_account.balance == -255
    got = stub.GetTransaction(pb.GetTransactionRequest(transaction_id=over_grpc.id), timeout=30)
    assert got.transaction.balance_after == -255
    assert balance(rest, source) == -290
    assert_ledger_consistent(stack)
