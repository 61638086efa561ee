"""ReverseTransaction: staff mirror a COMPLETED transaction's postings into a
REVERSAL, linked both ways; once only; even when it overdraws.

Over REST through Envoy and over gRPC, on both databases; after every
scenario the ledger balances and the limit counters equal their rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import grpc
import pytest

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.accounts import Db, server_now
from tests.common.corrections import (
    BILL_PAY_CLEARING,
    FEE_INCOME,
    account_minor,
    advance,
    customer,
    events,
    posted_payment,
    postings,
)
from tests.common.money import BOB, assert_ledger_consistent, balance, open_account, transfer
from tests.conftest import Rest

REVERSED = tpb.TransactionStatusEnum.REVERSED
POSTING_ERROR = tpb.TransactionReversalReasonEnum.POSTING_ERROR


@pytest.fixture
def db(stack: Stack) -> Iterator[Db]:
    connection = Db(stack)
    yield connection
    connection.close()


def _reverse(session: Rest, transaction_id: str, **body: Any) -> Any:
    body.setdefault("reason", "POSTING_ERROR")
    return session.post(f"/v1/transactions/{transaction_id}/reverse", json=body)


def _paid(rest: Rest, source: str, target: str, amount: float) -> str:
    return str(envelope.success(transfer(rest, source, target, amount), 201)["transaction"]["id"])


def test_staff_reverse_a_transfer_and_both_sides_link(rest: Rest, stack: Stack, db: Db) -> None:
    source = open_account(rest, funded=500)
    target = open_account(rest, owner=BOB)
    original = _paid(rest, source, target, 120)

    data = envelope.success(_reverse(rest, original, notes="keyed twice"), 201)
    reversal, shown = data["transaction"], data["originalTransaction"]
    assert reversal["type"] == "REVERSAL" and reversal["status"] == "COMPLETED"
    assert reversal["originalTransactionId"] == original
    assert reversal["amount"] == 120
    assert reversal["fromAccount"]["id"] == target and reversal["toAccount"]["id"] == source
    assert reversal["toAccount"]["balance"] == 500 and reversal["fromAccount"]["balance"] == 0
    assert shown["id"] == original and shown["status"] == "REVERSED"
    assert shown["reversalTransactionId"] == reversal["id"]
    read = envelope.success(rest.get(f"/v1/transactions/{original}"))["transaction"]
    assert read["status"] == "REVERSED" and read["reversalTransactionId"] == reversal["id"]

    assert (balance(rest, source), balance(rest, target)) == (500, 0)
    assert sorted(postings(db, reversal["id"])) == sorted(
        (account, -amount) for account, amount in postings(db, original)
    )
    for account, direction in ((source, "CREDIT"), (target, "DEBIT")):
        lines = envelope.success(rest.get(f"/v1/transactions?accountId={account}"))
        by_id = {line["id"]: line for line in lines["transactions"]}
        assert by_id[reversal["id"]]["direction"] == direction
        assert by_id[reversal["id"]]["type"] == "REVERSAL"
        assert by_id[original]["status"] == "REVERSED"
    assert events(db, reversal["id"]) == ["transaction.created", "transaction.completed"]
    assert_ledger_consistent(stack)


def test_the_fee_is_mirrored_too(rest: Rest, stack: Stack, db: Db) -> None:
    source = open_account(rest, funded=300)
    fee_income_before = account_minor(db, FEE_INCOME)[0]
    original = posted_payment(db, source, 80_00, 2_50, server_now(rest), status="COMPLETED")
    data = envelope.success(_reverse(rest, original, reason="INCORRECT_AMOUNT"), 201)
    assert data["transaction"]["fee"] == 2.5
    assert account_minor(db, source) == (300_00, 0)
    assert account_minor(db, FEE_INCOME)[0] == fee_income_before
    mirrored = dict(postings(db, data["transaction"]["id"]))
    assert mirrored == {source: 82_50, BILL_PAY_CLEARING: -80_00, FEE_INCOME: -2_50}
    assert_ledger_consistent(stack)


def test_a_reversal_posts_even_when_the_money_was_spent(rest: Rest, stack: Stack, db: Db) -> None:
    payer = open_account(rest, funded=400)
    receiver = open_account(rest, owner=BOB)
    elsewhere = open_account(rest, owner=BOB)
    original = _paid(rest, payer, receiver, 300)
    _paid(rest, receiver, elsewhere, 250)  # the receiver spent most of it

    data = envelope.success(_reverse(rest, original, reason="INCORRECT_ACCOUNT"), 201)
    assert data["transaction"]["fromAccount"]["balance"] == -250
    assert (balance(rest, payer), balance(rest, receiver)) == (400, -250)
    # The bank charges no overdraft fee for its own correction.
    fees = db.execute(
        "SELECT COUNT(*) FROM ledger_transactions WHERE type = 'FEE' AND from_account_id = ?",
        (receiver,),
    )
    assert fees == [(0,)]
    assert_ledger_consistent(stack)


def test_a_transaction_is_reversed_once_and_a_reversal_never(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack
) -> None:
    source = open_account(rest, funded=200)
    original = _paid(rest, source, open_account(rest, owner=BOB), 50)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    response = stub.ReverseTransaction(
        pb.ReverseTransactionRequest(transaction_id=original, reason=POSTING_ERROR), timeout=30
    )
    assert response.original_transaction.status == REVERSED
    assert response.original_transaction.reversal_transaction_id == response.transaction.id
    assert response.transaction.original_transaction_id == original

    error = envelope.error(_reverse(rest, original), 409, "CONFLICT")
    assert "already reversed" in error["message"]
    with pytest.raises(grpc.RpcError) as raised:
        stub.ReverseTransaction(
            pb.ReverseTransactionRequest(transaction_id=original, reason=POSTING_ERROR), timeout=30
        )
    envelope.grpc_error(raised.value, grpc.StatusCode.FAILED_PRECONDITION, "CONFLICT")
    error = envelope.error(_reverse(rest, response.transaction.id), 409, "CONFLICT")
    assert "REVERSAL" in error["message"]
    assert balance(rest, source) == 200
    assert_ledger_consistent(stack)


def test_only_completed_transactions_are_reversed(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=200)
    tomorrow = server_now(rest).date() + timedelta(days=1)
    scheduled = envelope.success(
        transfer(
            rest,
            source,
            open_account(rest, owner=BOB),
            20,
            scheduled=True,
            scheduledDate=tomorrow.isoformat(),
        ),
        201,
    )["transaction"]["id"]
    error = envelope.error(_reverse(rest, scheduled), 409, "CONFLICT")
    assert "COMPLETED" in error["message"]
    envelope.error(_reverse(rest, "txn_doesnotexist0000"), 404, "NOT_FOUND")
    assert balance(rest, source) == 200


def test_who_may_reverse_and_refused_requests(
    rest: Rest, stack: Stack, raw_channel: grpc.Channel
) -> None:
    payer = customer(rest, stack, raw_channel, funded=100)
    original = _paid(payer.caller.rest, payer.account_id, open_account(rest, owner=BOB), 10)
    envelope.error(_reverse(payer.caller.rest, original), 403, "FORBIDDEN")
    with pytest.raises(grpc.RpcError) as raised:
        pb_grpc.TransactionServiceStub(payer.caller.channel).ReverseTransaction(
            pb.ReverseTransactionRequest(transaction_id=original, reason=POSTING_ERROR), timeout=30
        )
    envelope.grpc_error(raised.value, grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN")

    response = rest.post(f"/v1/transactions/{original}/reverse", json={})
    assert envelope.error(response, 422, "VALIDATION_ERROR")["field"] == "reason"
    error = envelope.error(_reverse(rest, original, reason="OTHER"), 422, "VALIDATION_ERROR")
    assert error["field"] == "notes"
    error = envelope.error(_reverse(rest, original, notes="x" * 501), 422, "VALIDATION_ERROR")
    assert error["field"] == "notes"
    read = envelope.success(rest.get(f"/v1/transactions/{original}"))["transaction"]
    assert read["status"] == "COMPLETED" and "reversalTransactionId" not in read
    assert balance(rest, payer.account_id) == 90


def test_a_replayed_reversal_answers_the_first_answer(rest: Rest, stack: Stack, db: Db) -> None:
    source = open_account(rest, funded=100)
    original = _paid(rest, source, open_account(rest, owner=BOB), 25)
    headers = {"Idempotency-Key": f"reverse-{uuid.uuid4().hex}"}
    url = f"/v1/transactions/{original}/reverse"
    first = rest.post(url, json={"reason": "FRAUD"}, headers=headers)
    second = rest.post(url, json={"reason": "FRAUD"}, headers=headers)
    assert envelope.success(first, 201) == envelope.success(second, 201)
    assert second.headers.get("Idempotent-Replayed") == "true"
    count = db.execute(
        "SELECT COUNT(*) FROM ledger_transactions WHERE original_transaction_id = ?"
        " AND type = 'REVERSAL'",
        (original,),
    )
    assert count == [(1,)]
    assert balance(rest, source) == 100
    assert_ledger_consistent(stack)


def test_a_refund_under_review_blocks_the_reversal(
    rest: Rest, stack: Stack, raw_channel: grpc.Channel
) -> None:
    payer = customer(rest, stack, raw_channel, funded=100)
    original = _paid(payer.caller.rest, payer.account_id, open_account(rest, owner=BOB), 40)
    asked = payer.caller.rest.post(
        f"/v1/transactions/{original}/refund", json={"reason": "DUPLICATE_PAYMENT"}
    )
    envelope.success(asked, 201)
    error = envelope.error(_reverse(rest, original), 409, "CONFLICT")
    assert "refund request" in error["message"]
    assert balance(rest, payer.account_id) == 60
    assert_ledger_consistent(stack)


def test_a_deposit_is_reversed_back_to_the_cash_vault(rest: Rest, stack: Stack, db: Db) -> None:
    account = open_account(rest, funded=70)
    deposit = envelope.success(
        rest.post(
            "/v1/transactions/deposit",
            json={"accountId": account, "amount": 30, "method": "CASH", "location": "Branch A"},
        ),
        201,
    )["transaction"]["id"]
    data = envelope.success(_reverse(rest, deposit, reason="DUPLICATE_TRANSACTION"), 201)
    assert data["transaction"]["fromAccount"]["id"] == account
    assert "toAccount" not in data["transaction"]
    assert data["originalTransaction"]["status"] == "REVERSED"
    assert balance(rest, account) == 70
    lines = envelope.success(rest.get(f"/v1/transactions?accountId={account}"))["transactions"]
    [line] = [line for line in lines if line["id"] == data["transaction"]["id"]]
    assert (line["direction"], line["amount"]) == ("DEBIT", 30)
    assert_ledger_consistent(stack)


def test_reversing_a_held_check_deposit_voids_its_hold(rest: Rest, stack: Stack, db: Db) -> None:
    account = open_account(rest, funded=100)
    before = envelope.success(rest.get(f"/v1/accounts/{account}"))["account"]
    deposit = envelope.success(
        rest.post(
            "/v1/transactions/deposit",
            json={"accountId": account, "amount": 40, "method": "CHECK", "location": "Branch A"},
        ),
        201,
    )["transaction"]
    assert deposit["holdId"]
    envelope.success(_reverse(rest, deposit["id"], reason="DUPLICATE_TRANSACTION"), 201)

    shown = envelope.success(rest.get(f"/v1/accounts/{account}"))["account"]
    assert shown["balance"] == before["balance"] == 100
    assert shown["availableBalance"] == before["availableBalance"]
    [hold] = envelope.success(rest.get(f"/v1/accounts/{account}/holds"))["holds"]
    assert hold["id"] == deposit["holdId"] and hold["status"] == "VOIDED"
    assert hold["resolvedAt"]

    advance(rest, days=5)
    after = envelope.success(rest.get(f"/v1/accounts/{account}"))["account"]
    assert (after["balance"], after["availableBalance"]) == (100, before["availableBalance"])
    [hold] = envelope.success(rest.get(f"/v1/accounts/{account}/holds"))["holds"]
    assert hold["status"] == "VOIDED"
    assert db.execute("SELECT held_minor FROM accounts WHERE id = ?", (account,)) == [(0,)]
    assert_ledger_consistent(stack)
