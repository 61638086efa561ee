"""Reviewing refund requests through the real server, over REST (Envoy) and gRPC,
on both databases: who decides, deciding once, lists, replays, races.

After each scenario the ledger must still balance (the `scene` fixture checks
it) and the bank's refunds account must have paid exactly what was approved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest

from backoffice.v1 import refund_pb2
from backoffice.v1 import refund_service_pb2 as pb
from backoffice.v1 import refund_service_pb2_grpc as pb_grpc
from backoffice.v1 import transaction_service_pb2 as tpb
from backoffice.v1 import transaction_service_pb2_grpc as tpb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.money import balance, open_account, query, transfer
from tests.common.principals import CUSTOMER_SCOPES, create_user, user_caller
from tests.common.refunds import (
    Scene,
    approve,
    asked,
    new_scene,
    paid,
    refunds_paid,
    reject,
    transaction,
)
from tests.common.users import db_execute as execute
from tests.common.users import outbox_events
from tests.conftest import Rest

StatusCode = grpc.StatusCode


@pytest.fixture
def scene(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Scene]:
    with new_scene(stack, raw_channel, rest) as made:
        yield made


# --- review ---------------------------------------------------------------------------------


def test_only_staff_review_and_each_request_is_decided_once(
    stack: Stack, rest: Rest, scene: Scene
) -> None:
    original = paid(scene, 60)
    first = asked(scene.customer.rest, original["id"], amount=20)
    second = asked(scene.customer.rest, original["id"], amount=20)
    paid_before = refunds_paid(stack)
    envelope.error(approve(scene.customer.rest, first["id"]), 403, "FORBIDDEN")
    envelope.error(reject(scene.customer.rest, first["id"]), 403, "FORBIDDEN")
    envelope.error(approve(rest, "ref_doesnotexist000"), 404, "NOT_FOUND", "refundRequestId")

    envelope.success(approve(rest, first["id"]))
    error = envelope.error(approve(rest, first["id"]), 409, "CONFLICT")
    assert "COMPLETED" in error["message"]
    envelope.error(reject(rest, first["id"]), 409, "CONFLICT")

    envelope.error(reject(rest, second["id"], reason=" "), 422, "VALIDATION_ERROR", "reason")
    rejected = envelope.success(reject(rest, second["id"]))["refundRequest"]
    assert (rejected["status"], rejected["rejectionReason"]) == ("REJECTED", "Not a duplicate")
    assert "refundTransactionId" not in rejected and rejected["reviewedAt"]
    envelope.error(approve(rest, second["id"]), 409, "CONFLICT")
    envelope.error(reject(rest, second["id"]), 409, "CONFLICT")

    assert refunds_paid(stack) - paid_before == 20_00
    got = transaction(rest, original["id"])
    assert (got["status"], got["refundedAmount"]) == ("COMPLETED", 20)
    # The rejected request no longer holds its amount: 40 may be asked again.
    assert asked(scene.customer.rest, original["id"])["amount"] == 40


def test_what_changed_since_the_request_blocks_its_approval(
    stack: Stack, rest: Rest, scene: Scene
) -> None:
    # The whole balance goes out, so that the account can be closed afterwards.
    original = paid(scene, 1000)
    request = asked(scene.customer.rest, original["id"], amount=10)
    envelope.success(rest.post(f"/v1/accounts/{scene.account}/close", json={}))
    envelope.error(approve(rest, request["id"]), 422, "TXN003", "accountId")
    assert transaction(rest, original["id"])["status"] == "COMPLETED"
    assert envelope.success(reject(rest, request["id"]))["refundRequest"]["status"] == "REJECTED"

    # An original that is no longer COMPLETED (reversed by staff meanwhile).
    other = open_account(rest, owner=scene.customer.user_id or "", funded=100)
    payment = envelope.success(transfer(scene.customer.rest, other, scene.payee, 40), 201)
    pending = asked(scene.customer.rest, payment["transaction"]["id"])
    query_changed = execute(
        stack,
        "UPDATE ledger_transactions SET status = 'REVERSED' WHERE id = %s",
        (payment["transaction"]["id"],),
    )
    assert query_changed == 1
    error = envelope.error(approve(rest, pending["id"]), 409, "CONFLICT")
    assert "REVERSED" in error["message"]
    assert balance(rest, other) == 60


def test_customers_list_and_read_only_their_own(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest, scene: Scene
) -> None:
    original = paid(scene, 80)
    older = asked(scene.customer.rest, original["id"], amount=10)
    newer = asked(scene.customer.rest, original["id"], amount=20)
    envelope.success(reject(rest, older["id"]))
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
    original = paid(scene, 70)
    key = {"Idempotency-Key": f"refund-{uuid.uuid4().hex}"}
    body = {"reason": "SERVICE_NOT_RECEIVED", "amount": 70}
    path = f"/v1/transactions/{original['id']}/refund"
    first = scene.customer.rest.post(path, json=body, headers=key)
    replay = scene.customer.rest.post(path, json=body, headers=key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert envelope.success(replay, 201) == envelope.success(first, 201)
    request_id = envelope.success(first, 201)["refundRequest"]["id"]
    paid_before = refunds_paid(stack)
    approve_key = {"Idempotency-Key": f"approve-{uuid.uuid4().hex}"}
    approved = rest.post(f"/v1/refund-requests/{request_id}/approve", json={}, headers=approve_key)
    again = rest.post(f"/v1/refund-requests/{request_id}/approve", json={}, headers=approve_key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert envelope.success(again) == envelope.success(approved)
    assert refunds_paid(stack) - paid_before == 70_00
    refunds = query(
        stack,
        "SELECT COUNT(*) FROM ledger_transactions WHERE original_transaction_id = %s"
        " AND type = 'REFUND'",
        (original["id"],),
    )
    assert refunds[0][0] == 1
    assert balance(rest, scene.account) == 1000


def test_concurrent_approvals_refund_once(stack: Stack, rest: Rest, scene: Scene) -> None:
    original = paid(scene, 50)
    first = asked(scene.customer.rest, original["id"], amount=30)
    second = asked(scene.customer.rest, original["id"], amount=20)
    paid_before = refunds_paid(stack)
    work = [first["id"]] * 3 + [second["id"]] * 3
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        answers = list(pool.map(lambda request_id: approve(rest, request_id), work))
    assert sorted(a.status_code for a in answers) == [200, 200, 409, 409, 409, 409]
    for answer in answers:
        if answer.status_code == 409:
            envelope.error(answer, 409, "CONFLICT")
    assert refunds_paid(stack) - paid_before == 50_00
    got = transaction(rest, original["id"])
    assert (got["status"], got["refundedAmount"]) == ("REFUNDED", 50)
    assert len(outbox_events(stack, original["id"], "transaction.refunded")) == 2


# --- gRPC -----------------------------------------------------------------------------------


def _grpc_fails(method: Any, request: Any, code: StatusCode, reason: str) -> Any:
    with pytest.raises(grpc.RpcError) as caught:
        method(request, timeout=30)
    return envelope.grpc_error(caught.value, code, reason)


def test_the_same_over_grpc(stack: Stack, grpc_channel: grpc.Channel, scene: Scene) -> None:
    original = paid(scene, 90)
    customer = tpb_grpc.TransactionServiceStub(scene.customer.channel)
    made = customer.RefundTransaction(
        tpb.RefundTransactionRequest(
            transaction_id=original["id"],
            reason=refund_pb2.RefundReasonEnum.UNAUTHORIZED_TRANSACTION,
            amount=60,
        ),
        timeout=30,
    ).refund_request
    assert made.status == refund_pb2.RefundRequestStatusEnum.PENDING_REVIEW
    assert made.amount == 60 and not made.HasField("description")
    assert not made.HasField("refund_transaction_id") and not made.HasField("approved_amount")
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
        pb.ApproveRefundRequestRequest(refund_request_id=made.id),
        StatusCode.PERMISSION_DENIED,
        "FORBIDDEN",
    )
    staff = pb_grpc.RefundServiceStub(grpc_channel)
    approved = staff.ApproveRefundRequest(
        pb.ApproveRefundRequestRequest(refund_request_id=made.id, amount=45), timeout=30
    )
    assert approved.refund_request.status == refund_pb2.RefundRequestStatusEnum.COMPLETED
    assert approved.refund_request.approved_amount == 45
    assert approved.transaction.amount == 45
    assert approved.transaction.refund_request_id == made.id
    _grpc_fails(
        staff.ApproveRefundRequest,
        pb.ApproveRefundRequestRequest(refund_request_id=made.id),
        StatusCode.FAILED_PRECONDITION,
        "CONFLICT",
    )
    listed = review.ListRefundRequests(pb.ListRefundRequestsRequest(), timeout=30)
    assert [r.id for r in listed.refund_requests] == [made.id]
    assert listed.refund_requests[0] == approved.refund_request
    got = review.GetRefundRequest(pb.GetRefundRequestRequest(refund_request_id=made.id), timeout=30)
    assert got.refund_request == approved.refund_request
    assert balance_minor(stack, scene.account) == 1000_00 - 90_00 + 45_00


def balance_minor(stack: Stack, account_id: str) -> int:
    return int(
        query(stack, "SELECT balance_minor FROM accounts WHERE id = %s", (account_id,))[0][0]
    )
