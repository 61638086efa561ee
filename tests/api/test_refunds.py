"""Refund requests through the real server: REST via Envoy and gRPC, on both databases.

A fresh customer with a funded account of their own pays a fresh account of
another customer; the customer asks for the money back and staff (the
sandbox client, ADMIN) review it. After each scenario the ledger must still
balance and the bank's refunds account must have paid exactly what was
credited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import grpc
import pytest

from backoffice.v1 import refund_pb2
from backoffice.v1 import refund_service_pb2 as pb
from backoffice.v1 import refund_service_pb2_grpc as pb_grpc
from backoffice.v1 import transaction_service_pb2 as tpb
from backoffice.v1 import transaction_service_pb2_grpc as tpb_grpc
from server.run import Stack
from server.store.bootstrap import internal_account_id
from tests.common import envelope
from tests.common.accounts import server_now
from tests.common.money import (
    BOB,
    assert_ledger_consistent,
    balance,
    open_account,
    query,
    transfer,
)
from tests.common.principals import CUSTOMER_SCOPES, Caller, create_user, user_caller
from tests.common.users import outbox_events
from tests.conftest import Rest

StatusCode = grpc.StatusCode
REFUNDS = internal_account_id("REFUNDS")


@dataclass
class Scene:
    """A customer, their funded account, another customer's account."""

    customer: Caller
    account: str
    payee: str


@pytest.fixture
def scene(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Scene]:
    user_id = create_user(rest, "CUSTOMER", "Refund Tester")
    customer = user_caller(stack, raw_channel, "customer", user_id, CUSTOMER_SCOPES)
    account = open_account(rest, owner=user_id, funded=1000)
    payee = open_account(rest, owner=BOB)
    yield Scene(customer, account, payee)
    customer.close()
    assert_ledger_consistent(stack)


def _paid(scene: Scene, amount: float) -> dict[str, Any]:
    """A COMPLETED transfer from the customer's account to the other customer's."""
    response = transfer(scene.customer.rest, scene.account, scene.payee, amount)
    return envelope.success(response, 201)["transaction"]  # type: ignore[no-any-return]


def _ask(caller: Rest, transaction_id: str, **body: Any) -> Any:
    body.setdefault("reason", "DUPLICATE_PAYMENT")
    return caller.post(f"/v1/transactions/{transaction_id}/refund", json=body)


def _asked(caller: Rest, transaction_id: str, **body: Any) -> dict[str, Any]:
    data = envelope.success(_ask(caller, transaction_id, **body), 201)
    return data["refundRequest"]  # type: ignore[no-any-return]


def _approve(caller: Rest, request_id: str, **body: Any) -> Any:
    return caller.post(f"/v1/refund-requests/{request_id}/approve", json=body)


def _reject(caller: Rest, request_id: str, reason: str = "Not a duplicate") -> Any:
    return caller.post(f"/v1/refund-requests/{request_id}/reject", json={"reason": reason})


def _transaction(rest: Rest, transaction_id: str) -> dict[str, Any]:
    return envelope.success(rest.get(f"/v1/transactions/{transaction_id}"))["transaction"]  # type: ignore[no-any-return]


def _refunds_paid(stack: Stack) -> int:
    """Minor units the refunds account has paid out so far (its balance, negated)."""
    return -int(query(stack, "SELECT balance_minor FROM accounts WHERE id = %s", (REFUNDS,))[0][0])


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


# --- the whole life of a request ------------------------------------------------------------


def test_request_then_full_approval_refunds_the_original(
    stack: Stack, rest: Rest, scene: Scene
) -> None:
    original = _paid(scene, 150)
    paid_before = _refunds_paid(stack)
    response = _ask(
        scene.customer.rest,
        original["id"],
        description="Accidental duplicate payment",
    )
    request = envelope.success(response, 201)["refundRequest"]
    assert response.json()["message"] == "Refund request submitted"
    assert request["id"].startswith("ref_")
    assert request["originalTransaction"] == original["id"]
    assert (request["amount"], request["currency"]) == (150, "USD")
    assert (request["status"], request["reason"]) == ("PENDING_REVIEW", "DUPLICATE_PAYMENT")
    assert request["accountId"] == scene.account
    assert request["requestedBy"] == scene.customer.user_id
    assert request["description"] == "Accidental duplicate payment"
    created = _stamp(request["createdAt"])
    resolution = _stamp(request["expectedResolution"])
    # Three business days: at least three calendar days, at most five (a weekend).
    assert timedelta(days=3) <= resolution - created <= timedelta(days=5)
    assert resolution.time() == created.time()
    assert not {"reviewedBy", "refundTransactionId", "approvedAmount", "rejectionReason"} & set(
        request
    )
    # Nothing moves while the request is under review.
    assert balance(rest, scene.account) == 850 and _refunds_paid(stack) == paid_before

    approval = envelope.success(_approve(rest, request["id"], notes="Duplicate confirmed"))
    done, refund = approval["refundRequest"], approval["transaction"]
    assert (done["status"], done["approvedAmount"]) == ("COMPLETED", 150)
    assert done["reviewNotes"] == "Duplicate confirmed" and done["completedAt"]
    assert done["refundTransactionId"] == refund["id"]
    assert (refund["type"], refund["status"], refund["amount"]) == ("REFUND", "COMPLETED", 150)
    assert refund["originalTransactionId"] == original["id"]
    assert refund["refundRequestId"] == request["id"]
    assert refund["toAccount"]["id"] == scene.account and "fromAccount" not in refund
    assert refund["toAccount"]["balance"] == 1000 and refund["balanceAfter"] == 1000

    assert balance(rest, scene.account) == 1000 and balance(rest, scene.payee) == 150
    assert _refunds_paid(stack) - paid_before == 150_00
    got = _transaction(scene.customer.rest, original["id"])
    assert (got["status"], got["refundedAmount"]) == ("REFUNDED", 150)
    assert _transaction(scene.customer.rest, refund["id"])["refundRequestId"] == request["id"]
    history = envelope.success(
        scene.customer.rest.get(f"/v1/transactions?accountId={scene.account}")
    )
    statuses = {item["id"]: item["status"] for item in history["transactions"]}
    assert statuses[original["id"]] == "REFUNDED" and statuses[refund["id"]] == "COMPLETED"
    (event,) = outbox_events(stack, original["id"], "transaction.refunded")
    assert event["data"]["status"] == "REFUNDED"
    assert (event["data"]["refundAmount"], event["data"]["refundedAmount"]) == (150, 150)
    assert event["data"]["refundTransactionId"] == refund["id"]
    assert event["data"]["refundRequestId"] == request["id"]
    assert [
        e["data"]["status"] for e in outbox_events(stack, refund["id"], "transaction.completed")
    ] == ["COMPLETED"]
    # The customer follows it; a refunded transaction cannot be asked again.
    seen = envelope.success(scene.customer.rest.get(f"/v1/refund-requests/{request['id']}"))
    assert seen["refundRequest"] == done
    envelope.error(_ask(scene.customer.rest, original["id"]), 409, "CONFLICT")


def test_two_partial_requests_and_what_remains(stack: Stack, rest: Rest, scene: Scene) -> None:
    original = _paid(scene, 100)
    paid_before = _refunds_paid(stack)
    first = _asked(scene.customer.rest, original["id"], amount=30)
    second = _asked(scene.customer.rest, original["id"], amount=50.25, reason="INCORRECT_AMOUNT")
    assert (first["amount"], second["amount"]) == (30, 50.25)
    # Open requests count: 19.75 is all that may still be asked.
    error = envelope.error(
        _ask(scene.customer.rest, original["id"], amount=19.76), 422, "TXN005", "amount"
    )
    assert error["message"] == "The amount exceeds what can still be refunded"
    envelope.success(_approve(rest, first["id"]))
    got = _transaction(rest, original["id"])
    assert (got["status"], got["refundedAmount"]) == ("COMPLETED", 30)
    # A partial approval: staff give back 40.25 of the 50.25 asked.
    envelope.error(_approve(rest, second["id"], amount=50.26), 422, "TXN005", "amount")
    done = envelope.success(_approve(rest, second["id"], amount=40.25))["refundRequest"]
    assert (done["amount"], done["approvedAmount"]) == (50.25, 40.25)
    got = _transaction(rest, original["id"])
    assert (got["status"], got["refundedAmount"]) == ("COMPLETED", 70.25)
    # Without an amount, a request asks for the whole rest.
    last = _asked(scene.customer.rest, original["id"])
    assert last["amount"] == 29.75
    envelope.error(_ask(scene.customer.rest, original["id"], amount=0.01), 422, "TXN005", "amount")
    envelope.success(_approve(rest, last["id"]))
    got = _transaction(rest, original["id"])
    assert (got["status"], got["refundedAmount"]) == ("REFUNDED", 100)
    assert balance(rest, scene.account) == 1000
    assert _refunds_paid(stack) - paid_before == 100_00
    events = outbox_events(stack, original["id"], "transaction.refunded")
    assert [e["data"]["refundedAmount"] for e in events] == [30, 70.25, 100]


# --- what a request may name ----------------------------------------------------------------


def test_requests_on_what_is_not_a_refundable_debit_are_conflicts(rest: Rest, scene: Scene) -> None:
    customer = scene.customer.rest
    deposit = envelope.success(
        rest.post(
            "/v1/transactions/deposit",
            json={"accountId": scene.account, "amount": 20, "method": "CASH"},
        ),
        201,
    )["transaction"]
    envelope.error(_ask(customer, deposit["id"]), 409, "CONFLICT")
    # A transfer between two accounts of the same customer.
    own = open_account(rest, owner=scene.customer.user_id or "")
    moved = envelope.success(transfer(customer, scene.account, own, 10), 201)["transaction"]
    envelope.success(transfer(customer, scene.account, scene.payee, 5), 201)
    error = envelope.error(_ask(customer, moved["id"]), 409, "CONFLICT")
    assert "own accounts" in error["message"]
    # Not COMPLETED: a transfer scheduled for later.
    later = (server_now(rest).date() + timedelta(days=30)).isoformat()
    scheduled = envelope.success(
        transfer(customer, scene.account, scene.payee, 10, scheduled=True, scheduledDate=later),
        201,
    )["transaction"]
    assert scheduled["status"] == "SCHEDULED"
    error = envelope.error(_ask(customer, scheduled["id"]), 409, "CONFLICT")
    assert "COMPLETED" in error["message"]
    # A transfer the customer received is not a debit of theirs.
    received = envelope.success(transfer(rest, scene.payee, scene.account, 5), 201)
    envelope.error(_ask(customer, received["transaction"]["id"]), 409, "CONFLICT")


def test_request_checks_reason_amount_text_and_who_asks(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest, scene: Scene
) -> None:
    original = _paid(scene, 40)
    customer = scene.customer.rest
    envelope.error(
        customer.post(f"/v1/transactions/{original['id']}/refund", json={}),
        422,
        "VALIDATION_ERROR",
        "reason",
    )
    for amount in (0, -1, 0.001):
        envelope.error(_ask(customer, original["id"], amount=amount), 422, "TXN005", "amount")
    envelope.error(_ask(customer, original["id"], amount=40.01), 422, "TXN005", "amount")
    envelope.error(
        _ask(customer, original["id"], description="x" * 501),
        422,
        "VALIDATION_ERROR",
        "description",
    )
    envelope.error(_ask(customer, "txn_doesnotexist0000"), 404, "NOT_FOUND", "transactionId")
    # Another customer's transaction is not found, not forbidden.
    stranger_id = create_user(rest, "CUSTOMER", "Someone Else")
    stranger = user_caller(stack, raw_channel, "stranger", stranger_id, CUSTOMER_SCOPES)
    try:
        envelope.error(_ask(stranger.rest, original["id"]), 404, "NOT_FOUND", "transactionId")
    finally:
        stranger.close()
    # Staff may ask for the customer; nothing was stored by the refusals above.
    request = _asked(rest, original["id"], reason="MERCHANT_ERROR")
    assert request["amount"] == 40 and "requestedBy" not in request
    count = query(
        stack, "SELECT COUNT(*) FROM refund_requests WHERE transaction_id = %s", (original["id"],)
    )[0][0]
    assert count == 1


def test_past_sixty_days_a_request_is_refused(stack: Stack, rest: Rest, scene: Scene) -> None:
    original = _paid(scene, 25)
    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": 60}))
    error = envelope.error(
        _ask(scene.customer.rest, original["id"]), 422, "VALIDATION_ERROR", "transactionId"
    )
    assert "60 days" in error["message"]
    assert (
        query(
            stack,
            "SELECT COUNT(*) FROM refund_requests WHERE transaction_id = %s",
            (original["id"],),
        )[0][0]
        == 0
    )


# --- review ---------------------------------------------------------------------------------


def test_only_staff_review_and_each_request_is_decided_once(
    stack: Stack, rest: Rest, scene: Scene
) -> None:
    original = _paid(scene, 60)
    first = _asked(scene.customer.rest, original["id"], amount=20)
    second = _asked(scene.customer.rest, original["id"], amount=20)
    paid_before = _refunds_paid(stack)
    envelope.error(_approve(scene.customer.rest, first["id"]), 403, "FORBIDDEN")
    envelope.error(_reject(scene.customer.rest, first["id"]), 403, "FORBIDDEN")
    envelope.error(_approve(rest, "ref_doesnotexist000"), 404, "NOT_FOUND", "refundRequestId")

    envelope.success(_approve(rest, first["id"]))
    error = envelope.error(_approve(rest, first["id"]), 409, "CONFLICT")
    assert "COMPLETED" in error["message"]
    envelope.error(_reject(rest, first["id"]), 409, "CONFLICT")

    envelope.error(_reject(rest, second["id"], reason=" "), 422, "VALIDATION_ERROR", "reason")
    rejected = envelope.success(_reject(rest, second["id"]))["refundRequest"]
    assert (rejected["status"], rejected["rejectionReason"]) == ("REJECTED", "Not a duplicate")
    assert "refundTransactionId" not in rejected and rejected["reviewedAt"]
    envelope.error(_approve(rest, second["id"]), 409, "CONFLICT")
    envelope.error(_reject(rest, second["id"]), 409, "CONFLICT")

    assert _refunds_paid(stack) - paid_before == 20_00
    got = _transaction(rest, original["id"])
    assert (got["status"], got["refundedAmount"]) == ("COMPLETED", 20)
    # The rejected request no longer holds its amount: 40 may be asked again.
    assert _asked(scene.customer.rest, original["id"])["amount"] == 40


def test_customers_list_and_read_only_their_own(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest, scene: Scene
) -> None:
    original = _paid(scene, 80)
    older = _asked(scene.customer.rest, original["id"], amount=10)
    newer = _asked(scene.customer.rest, original["id"], amount=20)
    envelope.success(_reject(rest, older["id"]))
    mine = envelope.success(scene.customer.rest.get("/v1/refund-requests"))
    assert [r["id"] for r in mine["refundRequests"]] == [newer["id"], older["id"]]
    assert mine["pagination"]["totalCount"] == 2
    oldest_first = envelope.success(
        scene.customer.rest.get("/v1/refund-requests?sortOrder=asc&limit=1")
    )
    assert [r["id"] for r in oldest_first["refundRequests"]] == [older["id"]]
    token = oldest_first["nextPageToken"]
    following = envelope.success(
        scene.customer.rest.get(f"/v1/refund-requests?sortOrder=asc&limit=1&pageToken={token}")
    )
    assert [r["id"] for r in following["refundRequests"]] == [newer["id"]]
    pending = envelope.success(scene.customer.rest.get("/v1/refund-requests?status=PENDING_REVIEW"))
    assert [r["id"] for r in pending["refundRequests"]] == [newer["id"]]
    # Staff see every customer's, filtered by transaction.
    staff = envelope.success(rest.get(f"/v1/refund-requests?transactionId={original['id']}"))
    assert {r["id"] for r in staff["refundRequests"]} == {older["id"], newer["id"]}

    stranger_id = create_user(rest, "CUSTOMER", "Someone Else")
    stranger = user_caller(stack, raw_channel, "stranger", stranger_id, CUSTOMER_SCOPES)
    try:
        envelope.error(
            stranger.rest.get(f"/v1/refund-requests/{newer['id']}"),
            404,
            "NOT_FOUND",
            "refundRequestId",
        )
        theirs = envelope.success(
            stranger.rest.get(f"/v1/refund-requests?accountId={scene.account}")
        )
        assert theirs["refundRequests"] == [] and theirs["pagination"]["totalCount"] == 0
    finally:
        stranger.close()


def test_idempotent_replays_create_and_refund_once(stack: Stack, rest: Rest, scene: Scene) -> None:
    original = _paid(scene, 70)
    key = {"Idempotency-Key": f"refund-{uuid.uuid4().hex}"}
    body = {"reason": "SERVICE_NOT_RECEIVED", "amount": 70}
    path = f"/v1/transactions/{original['id']}/refund"
    first = scene.customer.rest.post(path, json=body, headers=key)
    replay = scene.customer.rest.post(path, json=body, headers=key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert envelope.success(replay, 201) == envelope.success(first, 201)
    request_id = envelope.success(first, 201)["refundRequest"]["id"]
    paid_before = _refunds_paid(stack)
    approve_key = {"Idempotency-Key": f"approve-{uuid.uuid4().hex}"}
    approved = rest.post(f"/v1/refund-requests/{request_id}/approve", json={}, headers=approve_key)
    again = rest.post(f"/v1/refund-requests/{request_id}/approve", json={}, headers=approve_key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert envelope.success(again) == envelope.success(approved)
    assert _refunds_paid(stack) - paid_before == 70_00
    refunds = query(
        stack,
        "SELECT COUNT(*) FROM ledger_transactions WHERE original_transaction_id = %s"
        " AND type = 'REFUND'",
        (original["id"],),
    )
    assert refunds[0][0] == 1
    assert balance(rest, scene.account) == 1000


def test_concurrent_approvals_refund_once(stack: Stack, rest: Rest, scene: Scene) -> None:
    original = _paid(scene, 50)
    first = _asked(scene.customer.rest, original["id"], amount=30)
    second = _asked(scene.customer.rest, original["id"], amount=20)
    paid_before = _refunds_paid(stack)
    work = [first["id"]] * 3 + [second["id"]] * 3
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        answers = list(pool.map(lambda request_id: _approve(rest, request_id), work))
    assert sorted(a.status_code for a in answers) == [200, 200, 409, 409, 409, 409]
    for answer in answers:
        if answer.status_code == 409:
            envelope.error(answer, 409, "CONFLICT")
    assert _refunds_paid(stack) - paid_before == 50_00
    got = _transaction(rest, original["id"])
    assert (got["status"], got["refundedAmount"]) == ("REFUNDED", 50)
    assert len(outbox_events(stack, original["id"], "transaction.refunded")) == 2


# --- gRPC -----------------------------------------------------------------------------------


def _grpc_fails(method: Any, request: Any, code: StatusCode, reason: str) -> Any:
    with pytest.raises(grpc.RpcError) as caught:
        method(request, timeout=30)
    return envelope.grpc_error(caught.value, code, reason)


def test_the_same_over_grpc(stack: Stack, grpc_channel: grpc.Channel, scene: Scene) -> None:
    original = _paid(scene, 90)
    customer = tpb_grpc.TransactionServiceStub(scene.customer.channel)
    asked = customer.RefundTransaction(
        tpb.RefundTransactionRequest(
            transaction_id=original["id"],
            reason=refund_pb2.RefundReasonEnum.UNAUTHORIZED_TRANSACTION,
            amount=60,
        ),
        timeout=30,
    ).refund_request
    assert asked.status == refund_pb2.RefundRequestStatusEnum.PENDING_REVIEW
    assert asked.amount == 60 and not asked.HasField("description")
    assert not asked.HasField("refund_transaction_id") and not asked.HasField("approved_amount")
    info = _grpc_fails(
        customer.RefundTransaction,
        tpb.RefundTransactionRequest(
            transaction_id=original["id"],
            reason=refund_pb2.RefundReasonEnum.DUPLICATE_PAYMENT,
            amount=30.01,
        ),
        StatusCode.INVALID_ARGUMENT,
        "TXN005",
    )
    assert info.metadata["field"] == "amount" and info.metadata["refundable"] == "30.00"

    review = pb_grpc.RefundServiceStub(scene.customer.channel)
    _grpc_fails(
        review.ApproveRefundRequest,
        pb.ApproveRefundRequestRequest(refund_request_id=asked.id),
        StatusCode.PERMISSION_DENIED,
        "FORBIDDEN",
    )
    staff = pb_grpc.RefundServiceStub(grpc_channel)
    approved = staff.ApproveRefundRequest(
        pb.ApproveRefundRequestRequest(refund_request_id=asked.id, amount=45), timeout=30
    )
    assert approved.refund_request.status == refund_pb2.RefundRequestStatusEnum.COMPLETED
    assert approved.refund_request.approved_amount == 45
    assert approved.transaction.amount == 45
    assert approved.transaction.refund_request_id == asked.id
    _grpc_fails(
        staff.ApproveRefundRequest,
        pb.ApproveRefundRequestRequest(refund_request_id=asked.id),
        StatusCode.FAILED_PRECONDITION,
        "CONFLICT",
    )
    listed = review.ListRefundRequests(pb.ListRefundRequestsRequest(), timeout=30)
    assert [r.id for r in listed.refund_requests] == [asked.id]
    assert listed.refund_requests[0] == approved.refund_request
    got = review.GetRefundRequest(
        pb.GetRefundRequestRequest(refund_request_id=asked.id), timeout=30
    )
    assert got.refund_request == approved.refund_request
    assert balance_minor(stack, scene.account) == 1000_00 - 90_00 + 45_00


def balance_minor(stack: Stack, account_id: str) -> int:
    return int(
        query(stack, "SELECT balance_minor FROM accounts WHERE id = %s", (account_id,))[0][0]
    )
