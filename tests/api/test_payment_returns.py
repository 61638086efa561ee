"""A bill payment the payee refuses after it left (PROCESSING -> FAILED): the
money comes back from bill-pay clearing, on both databases, over REST and gRPC.

In the sandbox a number at the payee ending 0001 is returned by the payee at
the estimated delivery (server.domain.payments.SANDBOX_PAYEE_RETURNS).
"""

from __future__ import annotations

import grpc

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.domain import payments as rules
from server.run import Stack
from tests.api.test_payments import (
    CLEARING,
    _advance_to,
    _balance_minor,
    _events,
    _get,
    _pay,
    _payee,
    _today,
    payer,
)
from tests.common import envelope
from tests.common.money import (
    account,
    assert_ledger_consistent,
    assert_limit_usage_consistent,
    open_account,
)
from tests.common.principals import Caller
from tests.conftest import Rest

__all__ = ["payer"]  # the fixture, used by name


def test_a_payment_the_payee_returns_fails_and_gives_the_money_back(
    rest: Rest, payer: Caller, stack: Stack, grpc_channel: grpc.Channel
) -> None:
    source = open_account(rest, owner=str(payer.user_id), funded=500)
    payee = _payee(payer, number="RB77660001")
    clearing_before = _balance_minor(stack, CLEARING)
    today = _today(rest)

    created = envelope.success(_pay(payer, source, payee, 120), 201)["transaction"]
    assert (created["status"], created["balanceAfter"]) == ("PROCESSING", 380)
    assert _balance_minor(stack, CLEARING) - clearing_before == 120_00

    delivery = rules.estimated_delivery(today, "UTILITY")
    _advance_to(rest, delivery)
    failed = _get(payer.rest, created["id"])
    assert failed["status"] == "FAILED"
    assert failed["failureCode"] == rules.PAYEE_RETURNED
    assert failed["failureReason"] == rules.SANDBOX_PAYEE_RETURNS["0001"].reason
    assert "completedAt" not in failed and "balanceAfter" not in failed
    assert account(rest, source)["balance"] == 500
    assert account(rest, source)["availableBalance"] == 500
    assert _balance_minor(stack, CLEARING) == clearing_before
    assert _events(stack, created["id"]) == ["transaction.created", "transaction.failed"]
    lines = envelope.success(payer.rest.get(f"/v1/transactions?accountId={source}&type=PAYMENT"))
    [line] = lines["transactions"]
    assert line["status"] == "FAILED" and "balanceAfter" not in line

    read = pb_grpc.TransactionServiceStub(grpc_channel).GetTransaction(
        pb.GetTransactionRequest(transaction_id=created["id"])
    )
    assert read.transaction.status == tpb.TransactionStatusEnum.FAILED
    assert read.transaction.failure_code == rules.PAYEE_RETURNED

    # Nothing moves again; a final FAILED cannot be cancelled.
    _advance_to(rest, delivery + (delivery - today))
    assert account(rest, source)["balance"] == 500
    envelope.error(
        payer.rest.post(f"/v1/transactions/{created['id']}/cancel", json={}), 409, "TXN007"
    )
    assert_ledger_consistent(stack)
    assert_limit_usage_consistent(stack)
