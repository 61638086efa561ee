"""Disputes over gRPC, and the races: a dispute resolves exactly once, a
transaction has one open dispute, on both databases.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from backoffice.v1 import dispute_pb2 as resource_pb
from backoffice.v1 import dispute_service_pb2 as pb
from backoffice.v1 import dispute_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.disputes import DISPUTES, count, disputes_paid, opened, postings_of, resolve
from tests.common.money import balance
from tests.common.refunds import Scene, new_scene, paid
from tests.conftest import Rest

StatusCode = grpc.StatusCode
REASON = resource_pb.DisputeReasonEnum
OUTCOME = resource_pb.DisputeOutcomeEnum
STATUS = resource_pb.DisputeStatusEnum
CREDIT = resource_pb.ProvisionalCreditStatusEnum
RACERS = 6


@pytest.fixture
def scene(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Scene]:
    with new_scene(stack, raw_channel, rest) as made:
        yield made


def _grpc_fails(method: Any, request: Any, code: StatusCode, reason: str) -> Any:
    with pytest.raises(grpc.RpcError) as caught:
        method(request)
    return envelope.grpc_error(caught.value, code, reason)


def _race(work: Callable[[int], Any]) -> list[Any]:
    """`work(i)` in RACERS threads released together; their results (or errors) in order."""
    barrier = threading.Barrier(RACERS)
    results: list[Any] = [None] * RACERS

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # an RPC error is a result too
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_the_same_over_grpc(
    stack: Stack, grpc_channel: grpc.Channel, rest: Rest, scene: Scene
) -> None:
    original = paid(scene, 90)
    customer = pb_grpc.DisputeServiceStub(scene.customer.channel)
    staff = pb_grpc.DisputeServiceStub(grpc_channel)
    created = customer.CreateDispute(
        pb.CreateDisputeRequest(
            transaction_id=original["id"],
            reason=REASON.UNAUTHORIZED_TRANSACTION,
            description="Not me",
            amount=50,
        )
    ).dispute
    assert created.id.startswith("dsp_") and created.status == STATUS.OPEN
    assert created.provisional_credit_status == CREDIT.CREDITED
    assert created.HasField("provisional_credit_transaction_id") and not created.HasField("outcome")
    assert (created.amount, created.currency) == (50, "USD")
    assert balance(rest, scene.account) == 960
    assert customer.GetDispute(pb.GetDisputeRequest(dispute_id=created.id)).dispute == created
    listed = customer.ListDisputes(pb.ListDisputesRequest(status=STATUS.OPEN))
    assert [d.id for d in listed.disputes] == [created.id]
    # Refusals carry the contract's codes in ErrorInfo.
    request = pb.CreateDisputeRequest(transaction_id=original["id"], reason=REASON.MERCHANT_ERROR)
    _grpc_fails(customer.CreateDispute, request, StatusCode.FAILED_PRECONDITION, "CONFLICT")
    request = pb.CreateDisputeRequest(transaction_id=original["id"])
    info = _grpc_fails(
        customer.CreateDispute, request, StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR"
    )
    assert info.metadata["field"] == "reason"
    request = pb.CreateDisputeRequest(transaction_id="txn_nope", reason=REASON.MERCHANT_ERROR)
    _grpc_fails(customer.CreateDispute, request, StatusCode.NOT_FOUND, "NOT_FOUND")
    resolving = pb.ResolveDisputeRequest(dispute_id=created.id, outcome=OUTCOME.MERCHANT_FAVOR)
    _grpc_fails(customer.ResolveDispute, resolving, StatusCode.PERMISSION_DENIED, "FORBIDDEN")
    _grpc_fails(
        staff.ResolveDispute,
        pb.ResolveDisputeRequest(dispute_id=created.id),
        StatusCode.INVALID_ARGUMENT,
        "VALIDATION_ERROR",
    )
    resolved = staff.ResolveDispute(resolving)
    assert resolved.dispute.status == STATUS.RESOLVED
    assert resolved.dispute.outcome == OUTCOME.MERCHANT_FAVOR
    assert resolved.dispute.provisional_credit_status == CREDIT.REVERSED
    assert resolved.transaction.id == resolved.dispute.credit_reversal_transaction_id
    assert balance(rest, scene.account) == 910
    _grpc_fails(staff.ResolveDispute, resolving, StatusCode.FAILED_PRECONDITION, "CONFLICT")


@pytest.mark.parametrize("credited", [True, False], ids=["credited", "pending"])
def test_concurrent_resolutions_resolve_once(
    stack: Stack, rest: Rest, scene: Scene, credited: bool
) -> None:
    original = paid(scene, 120)
    paid_before = disputes_paid(stack)
    reason = "UNAUTHORIZED_TRANSACTION" if credited else "SERVICE_NOT_RECEIVED"
    dispute = opened(scene.customer.rest, original["id"], reason=reason)
    sessions = [Rest(stack.http_url) for _ in range(RACERS)]
    for session in sessions:
        session.headers["Authorization"] = rest.headers["Authorization"]
    outcomes = ["CUSTOMER_FAVOR", "MERCHANT_FAVOR"]
    try:
        answers = _race(lambda i: resolve(sessions[i], dispute["id"], outcomes[i % 2]))
    finally:
        for session in sessions:
            session.close()
    won = [a for a in answers if a.status_code == 200]
    assert len(won) == 1, [a.text for a in answers]
    for lost in answers:
        if lost is not won[0]:
            envelope.error(lost, 409, "CONFLICT")
    done = envelope.success(won[0])["dispute"]
    moved = postings_of(stack, dispute["id"])
    credit = {DISPUTES: -120_00, scene.account: 120_00}
    clawback = {DISPUTES: 120_00, scene.account: -120_00}
    if done["outcome"] == "CUSTOMER_FAVOR":
        assert moved == [credit] and balance(rest, scene.account) == 1000
        assert disputes_paid(stack) - paid_before == 120_00
    else:
        assert moved == ([credit, clawback] if credited else [])
        assert balance(rest, scene.account) == 880 and disputes_paid(stack) == paid_before


def test_concurrent_opens_make_one_open_dispute(stack: Stack, rest: Rest, scene: Scene) -> None:
    original = paid(scene, 75)
    paid_before = disputes_paid(stack)
    stub = pb_grpc.DisputeServiceStub(scene.customer.channel)
    request = pb.CreateDisputeRequest(
        transaction_id=original["id"], reason=REASON.UNAUTHORIZED_TRANSACTION, amount=10
    )
    answers = _race(lambda i: stub.CreateDispute(request))
    made = [a for a in answers if isinstance(a, pb.CreateDisputeResponse)]
    assert len(made) == 1, answers
    for lost in answers:
        if lost is not made[0]:
            assert isinstance(lost, grpc.RpcError), lost
            envelope.grpc_error(lost, StatusCode.FAILED_PRECONDITION, "CONFLICT")
    assert count(stack, original["id"]) == 1
    assert balance(rest, scene.account) == 935  # credited once
    assert disputes_paid(stack) - paid_before == 10_00
