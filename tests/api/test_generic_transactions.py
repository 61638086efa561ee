"""The generic POST /transactions for the staff-only types: REVERSAL by the
same use case as ReverseTransaction; FEE, INTEREST and ADJUSTMENT postings.

Over REST through Envoy and over gRPC, on both databases; after every money
scenario the ledger balances.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from server.store.bootstrap import internal_account_id
from tests.common import envelope
from tests.common.accounts import Db
from tests.common.corrections import account_minor, customer, events, postings
from tests.common.money import BOB, assert_ledger_consistent, balance, open_account, transfer
from tests.common.principals import CUSTOMER_SCOPES, client_caller
from tests.conftest import Rest

REVERSAL = tpb.TransactionTypeEnum.REVERSAL
ADJUSTMENT = tpb.TransactionTypeEnum.ADJUSTMENT
CREDIT = tpb.TransactionDirectionEnum.CREDIT
POSTING_ERROR = tpb.TransactionReversalReasonEnum.POSTING_ERROR


@pytest.fixture
def db(stack: Stack) -> Iterator[Db]:
    connection = Db(stack)
    yield connection
    connection.close()


def _paid(rest: Rest, source: str, target: str, amount: float) -> str:
    return str(envelope.success(transfer(rest, source, target, amount), 201)["transaction"]["id"])


def _reverse(session: Rest, original: str, **body: Any) -> Any:
    body = {"type": "REVERSAL", "originalTransactionId": original, **body}
    body.setdefault("reversalReason", "POSTING_ERROR")
    return session.post("/v1/transactions", json=body)


def test_staff_reverse_through_the_generic_path(rest: Rest, stack: Stack, db: Db) -> None:
    source = open_account(rest, funded=500)
    target = open_account(rest, owner=BOB)
    original = _paid(rest, source, target, 120)

    reversal = envelope.success(_reverse(rest, original, notes="keyed twice"), 201)["transaction"]
    assert reversal["type"] == "REVERSAL" and reversal["status"] == "COMPLETED"
    assert reversal["originalTransactionId"] == original and reversal["amount"] == 120
    assert reversal["fromAccount"]["id"] == target and reversal["toAccount"]["id"] == source
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
    assert events(db, reversal["id"]) == ["transaction.created", "transaction.completed"]

    # A second reversal, through either path, is a conflict.
    envelope.error(_reverse(rest, original), 409, "CONFLICT")
    envelope.error(
        rest.post(f"/v1/transactions/{original}/reverse", json={"reason": "POSTING_ERROR"}),
        409,
        "CONFLICT",
    )
    assert balance(rest, source) == 500
    assert_ledger_consistent(stack)


def test_reversal_over_grpc(rest: Rest, grpc_channel: grpc.Channel, stack: Stack) -> None:
    source = open_account(rest, funded=200)
    original = _paid(rest, source, open_account(rest, owner=BOB), 50)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    request = pb.CreateTransactionRequest(
        type=REVERSAL, original_transaction_id=original, reversal_reason=POSTING_ERROR
    )
    response = stub.CreateTransaction(request, timeout=30)
    assert response.transaction.type == REVERSAL
    assert response.transaction.original_transaction_id == original
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateTransaction(request, timeout=30)
    envelope.grpc_error(raised.value, grpc.StatusCode.FAILED_PRECONDITION, "CONFLICT")
    assert balance(rest, source) == 200
    assert_ledger_consistent(stack)


def test_who_may_reverse_and_refused_requests(
    rest: Rest, stack: Stack, raw_channel: grpc.Channel
) -> None:
    payer = customer(rest, stack, raw_channel, funded=100)
    original = _paid(payer.caller.rest, payer.account_id, open_account(rest, owner=BOB), 10)
    envelope.error(_reverse(payer.caller.rest, original), 403, "FORBIDDEN")
    with pytest.raises(grpc.RpcError) as raised:
        pb_grpc.TransactionServiceStub(payer.caller.channel).CreateTransaction(
            pb.CreateTransactionRequest(
                type=REVERSAL, original_transaction_id=original, reversal_reason=POSTING_ERROR
            ),
            timeout=30,
        )
    envelope.grpc_error(raised.value, grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN")
    narrow = client_caller(stack, raw_channel, CUSTOMER_SCOPES)
    try:
        error = envelope.error(_reverse(narrow.rest, original), 403, "FORBIDDEN")
        assert "backoffice.admin" in error["message"]
    finally:
        narrow.close()

    missing = rest.post("/v1/transactions", json={"type": "REVERSAL", "reversalReason": "FRAUD"})
    assert envelope.error(missing, 422, "VALIDATION_ERROR")["field"] == "originalTransactionId"
    no_reason = rest.post(
        "/v1/transactions", json={"type": "REVERSAL", "originalTransactionId": original}
    )
    assert envelope.error(no_reason, 422, "VALIDATION_ERROR")["field"] == "reversalReason"
    error = envelope.error(
        _reverse(rest, original, reversalReason="OTHER"), 422, "VALIDATION_ERROR"
    )
    assert error["field"] == "notes"
    error = envelope.error(_reverse(rest, original, amount=10), 422, "VALIDATION_ERROR")
    assert error["field"] == "amount"
    transfer_with_notes = {
        "type": "TRANSFER",
        "fromAccountId": payer.account_id,
        "toAccountId": open_account(rest),
        "amount": 1,
        "notes": "x",
    }
    refused = rest.post("/v1/transactions", json=transfer_with_notes)
    assert envelope.error(refused, 422, "VALIDATION_ERROR")["field"] == "notes"
    envelope.error(_reverse(rest, "txn_doesnotexist0000"), 404, "NOT_FOUND")
    read = envelope.success(rest.get(f"/v1/transactions/{original}"))["transaction"]
    assert read["status"] == "COMPLETED"
    assert balance(rest, payer.account_id) == 90
    assert_ledger_consistent(stack)


def test_a_replayed_generic_reversal_answers_the_first_answer(
    rest: Rest, stack: Stack, db: Db
) -> None:
    source = open_account(rest, funded=100)
    original = _paid(rest, source, open_account(rest, owner=BOB), 25)
    headers = {"Idempotency-Key": f"reverse-{uuid.uuid4().hex}"}
    body = {"type": "REVERSAL", "originalTransactionId": original, "reversalReason": "FRAUD"}
    first = rest.post("/v1/transactions", json=body, headers=headers)
    second = rest.post("/v1/transactions", json=body, headers=headers)
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


def _post(session: Rest, kind: str, account: str, amount: float, **body: Any) -> Any:
    body = {"type": kind, "accountId": account, "amount": amount, **body}
    body.setdefault("description", f"{kind.lower()} by staff")
    return session.post("/v1/transactions", json=body)


def _eur_account(rest: Rest, funded: float) -> str:
    body = {"type": "CHECKING", "currency": "EUR", "ownerId": BOB, "nickname": "eur"}
    account: str = envelope.success(rest.post("/v1/accounts", json=body), 201)["account"]["id"]
    envelope.success(
        rest.post(
            "/v1/transactions/deposit",
            json={"accountId": account, "amount": funded, "method": "CASH"},
        ),
        201,
    )
    return account


@pytest.mark.parametrize(
    "case",
    [
        ("FEE", {}, "FEE_INCOME", -25_00),
        ("INTEREST", {}, "INTEREST_EXPENSE", 25_00),
        ("ADJUSTMENT", {"direction": "CREDIT"}, "SUSPENSE", 25_00),
        ("ADJUSTMENT", {"direction": "DEBIT"}, "SUSPENSE", -25_00),
    ],
)
def test_staff_postings_move_money_with_the_internal_account_of_the_currency(
    rest: Rest, stack: Stack, db: Db, case: tuple[str, dict[str, str], str, int]
) -> None:
    kind, extra, code, signed = case
    for currency, account in (
        ("USD", open_account(rest, funded=100)),
        ("EUR", _eur_account(rest, 100)),
    ):
        internal = internal_account_id(code, currency)
        internal_before = account_minor(db, internal)[0]
        posted = envelope.success(_post(rest, kind, account, 25, **extra), 201)["transaction"]
        assert posted["type"] == kind and posted["status"] == "COMPLETED"
        assert posted["amount"] == 25 and posted["currency"] == currency
        assert account_minor(db, account)[0] == 100_00 + signed
        assert account_minor(db, internal)[0] == internal_before - signed
        assert dict(postings(db, posted["id"])) == {account: signed, internal: -signed}
        lines = envelope.success(rest.get(f"/v1/transactions?accountId={account}"))
        line = {item["id"]: item for item in lines["transactions"]}[posted["id"]]
        assert line["type"] == kind
        assert line["direction"] == ("CREDIT" if signed > 0 else "DEBIT")
        assert line["description"] == f"{kind.lower()} by staff"
        assert events(db, posted["id"]) == ["transaction.created", "transaction.completed"]
    assert_ledger_consistent(stack)


def test_staff_posting_over_grpc_and_replayed(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack, db: Db
) -> None:
    account = open_account(rest, funded=10)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    response = stub.CreateTransaction(
        pb.CreateTransactionRequest(
            type=ADJUSTMENT, account_id=account, amount=4.5, description="fix", direction=CREDIT
        ),
        timeout=30,
    )
    assert response.transaction.type == ADJUSTMENT
    assert account_minor(db, account)[0] == 14_50

    headers = {"Idempotency-Key": f"fee-{uuid.uuid4().hex}"}
    body = {"type": "FEE", "accountId": account, "amount": 3, "description": "Paper statement"}
    first = rest.post("/v1/transactions", json=body, headers=headers)
    second = rest.post("/v1/transactions", json=body, headers=headers)
    assert envelope.success(first, 201) == envelope.success(second, 201)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert account_minor(db, account)[0] == 11_50
    assert_ledger_consistent(stack)


def test_staff_postings_refused(rest: Rest, stack: Stack, raw_channel: grpc.Channel) -> None:
    payer = customer(rest, stack, raw_channel, funded=50)
    for kind in ("FEE", "INTEREST", "ADJUSTMENT"):
        extra = {"direction": "CREDIT"} if kind == "ADJUSTMENT" else {}
        envelope.error(
            _post(payer.caller.rest, kind, payer.account_id, 5, **extra), 403, "FORBIDDEN"
        )
    narrow = client_caller(stack, raw_channel, CUSTOMER_SCOPES)
    try:
        envelope.error(_post(narrow.rest, "INTEREST", payer.account_id, 5), 403, "FORBIDDEN")
    finally:
        narrow.close()

    account = payer.account_id
    missing = _post(rest, "FEE", account, 5, description="")
    assert envelope.error(missing, 422, "VALIDATION_ERROR")["field"] == "description"
    too_long = _post(rest, "FEE", account, 5, description="x" * 256)
    assert envelope.error(too_long, 422, "VALIDATION_ERROR")["field"] == "description"
    no_side = _post(rest, "ADJUSTMENT", account, 5)
    assert envelope.error(no_side, 422, "VALIDATION_ERROR")["field"] == "direction"
    side_on_fee = _post(rest, "FEE", account, 5, direction="DEBIT")
    assert envelope.error(side_on_fee, 422, "VALIDATION_ERROR")["field"] == "direction"
    no_account = rest.post(
        "/v1/transactions", json={"type": "INTEREST", "amount": 5, "description": "i"}
    )
    assert envelope.error(no_account, 422, "VALIDATION_ERROR")["field"] == "accountId"
    method = _post(rest, "FEE", account, 5, method="CASH")
    assert envelope.error(method, 422, "VALIDATION_ERROR")["field"] == "method"
    envelope.error(_post(rest, "FEE", account, 50.01), 422, "TXN001")
    envelope.error(_post(rest, "ADJUSTMENT", account, 51, direction="DEBIT"), 422, "TXN001")
    envelope.error(_post(rest, "INTEREST", "acc_doesnotexist0000", 5), 404, "TXN002")
    assert balance(rest, account) == 50
    assert_ledger_consistent(stack)


def _refund(session: Rest, original: str, **body: Any) -> Any:
    return session.post(
        "/v1/transactions", json={"type": "REFUND", "originalTransactionId": original, **body}
    )


def test_staff_refund_a_debit_directly(
    rest: Rest, stack: Stack, db: Db, raw_channel: grpc.Channel
) -> None:
    payer = customer(rest, stack, raw_channel, funded=200)
    original = _paid(payer.caller.rest, payer.account_id, open_account(rest, owner=BOB), 100)
    refunds_account = internal_account_id("REFUNDS", "USD")
    refunds_before = account_minor(db, refunds_account)[0]

    part = envelope.success(_refund(rest, original, amount=30), 201)["transaction"]
    assert part["type"] == "REFUND" and part["status"] == "COMPLETED" and part["amount"] == 30
    assert part["originalTransactionId"] == original
    assert dict(postings(db, part["id"])) == {payer.account_id: 30_00, refunds_account: -30_00}
    assert (
        envelope.success(rest.get(f"/v1/transactions/{original}"))["transaction"]["status"]
        == "COMPLETED"
    )
    # A customer's request is bounded by the direct refund; it bounds the next one in turn.
    asked = payer.caller.rest.post(
        f"/v1/transactions/{original}/refund", json={"reason": "DUPLICATE_PAYMENT", "amount": 70.01}
    )
    envelope.error(asked, 422, "TXN005")
    asked = payer.caller.rest.post(
        f"/v1/transactions/{original}/refund", json={"reason": "DUPLICATE_PAYMENT", "amount": 20}
    )
    envelope.success(asked, 201)
    envelope.error(_refund(rest, original, amount=50.01), 422, "TXN005")

    rest_of_it = envelope.success(_refund(rest, original), 201)["transaction"]
    assert rest_of_it["amount"] == 50
    assert balance(rest, payer.account_id) == 180
    assert account_minor(db, refunds_account)[0] == refunds_before - 80_00
    lines = envelope.success(rest.get(f"/v1/transactions?accountId={payer.account_id}"))
    line = {item["id"]: item for item in lines["transactions"]}[rest_of_it["id"]]
    assert line["type"] == "REFUND" and line["direction"] == "CREDIT"
    assert events(db, rest_of_it["id"]) == ["transaction.created", "transaction.completed"]
    assert events(db, original).count("transaction.refunded") == 2
    assert_ledger_consistent(stack)


def test_a_whole_direct_refund_marks_the_original_refunded(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack, db: Db
) -> None:
    source = open_account(rest, funded=100)
    original = _paid(rest, source, open_account(rest, owner=BOB), 40)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    request = pb.CreateTransactionRequest(
        type=tpb.TransactionTypeEnum.REFUND, original_transaction_id=original
    )
    response = stub.CreateTransaction(request, timeout=30)
    assert response.transaction.type == tpb.TransactionTypeEnum.REFUND
    read = envelope.success(rest.get(f"/v1/transactions/{original}"))["transaction"]
    assert read["status"] == "REFUNDED"
    assert balance(rest, source) == 100
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateTransaction(request, timeout=30)
    envelope.grpc_error(raised.value, grpc.StatusCode.FAILED_PRECONDITION, "CONFLICT")
    assert_ledger_consistent(stack)


def test_direct_refunds_refused_and_replayed(
    rest: Rest, stack: Stack, db: Db, raw_channel: grpc.Channel
) -> None:
    payer = customer(rest, stack, raw_channel, funded=100)
    original = _paid(payer.caller.rest, payer.account_id, open_account(rest, owner=BOB), 10)
    envelope.error(_refund(payer.caller.rest, original), 403, "FORBIDDEN")
    narrow = client_caller(stack, raw_channel, CUSTOMER_SCOPES)
    try:
        envelope.error(_refund(narrow.rest, original), 403, "FORBIDDEN")
    finally:
        narrow.close()
    missing = rest.post("/v1/transactions", json={"type": "REFUND", "amount": 1})
    assert envelope.error(missing, 422, "VALIDATION_ERROR")["field"] == "originalTransactionId"
    envelope.error(_refund(rest, "txn_doesnotexist0000"), 404, "NOT_FOUND")
    deposit_id = envelope.success(
        rest.post(
            "/v1/transactions/deposit",
            json={"accountId": payer.account_id, "amount": 5, "method": "CASH"},
        ),
        201,
    )["transaction"]["id"]
    envelope.error(_refund(rest, deposit_id), 409, "CONFLICT")
    reason = _refund(rest, original, reversalReason="FRAUD")
    assert envelope.error(reason, 422, "VALIDATION_ERROR")["field"] == "reversalReason"

    headers = {"Idempotency-Key": f"refund-{uuid.uuid4().hex}"}
    first = _refund_with(rest, original, headers)
    second = _refund_with(rest, original, headers)
    assert envelope.success(first, 201) == envelope.success(second, 201)
    assert second.headers.get("Idempotent-Replayed") == "true"
    count = db.execute(
        "SELECT COUNT(*) FROM ledger_transactions WHERE original_transaction_id = ?"
        " AND type = 'REFUND'",
        (original,),
    )
    assert count == [(1,)]
    assert balance(rest, payer.account_id) == 99  # 100 - 10 paid + 5 deposited + 4 back
    assert_ledger_consistent(stack)


def _refund_with(rest: Rest, original: str, headers: dict[str, str]) -> Any:
    body = {"type": "REFUND", "originalTransactionId": original, "amount": 4}
    return rest.post("/v1/transactions", json=body, headers=headers)
