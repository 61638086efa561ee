"""Recurring schedules refused: fields named, and other customers' schedules hidden.

Over REST through Envoy and over gRPC, on both databases.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import grpc
import pytest

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common import recurring as rec
from tests.common.money import BOB, open_account, query
from tests.common.principals import CUSTOMER_SCOPES, create_user, user_caller
from tests.conftest import Rest


def test_refusals_name_their_field(rest: Rest, grpc_channel: grpc.Channel, stack: Stack) -> None:
    source, target = rec.pair(rest)
    today = rec.today(rest)
    start = today + timedelta(days=1)
    good = rec.body(source, target, start)
    cases: list[tuple[dict[str, Any], int, str, str | None]] = [
        ({**good, "fromAccountId": ""}, 422, "VALIDATION_ERROR", "fromAccountId"),
        (
            {k: v for k, v in good.items() if k != "toAccountId"},
            422,
            "VALIDATION_ERROR",
            "toAccountId",
        ),
        ({**good, "payeeId": "payee_x"}, 422, "VALIDATION_ERROR", "payeeId"),
        ({**good, "toAccountId": source}, 422, "VALIDATION_ERROR", "toAccountId"),
        ({k: v for k, v in good.items() if k != "frequency"}, 422, "VALIDATION_ERROR", "frequency"),
        ({k: v for k, v in good.items() if k != "startDate"}, 422, "VALIDATION_ERROR", "startDate"),
        ({**good, "startDate": "tomorrow"}, 422, "VALIDATION_ERROR", "startDate"),
        (
            {**good, "startDate": (today - timedelta(days=1)).isoformat()},
            422,
            "VALIDATION_ERROR",
            "startDate",
        ),
        (
            {**good, "startDate": (today + timedelta(days=366)).isoformat()},
            422,
            "VALIDATION_ERROR",
            "startDate",
        ),
        ({**good, "endDate": today.isoformat()}, 422, "VALIDATION_ERROR", "endDate"),
        (
            {**good, "endDate": (start + timedelta(days=3700)).isoformat()},
            422,
            "VALIDATION_ERROR",
            "endDate",
        ),
        ({**good, "dayOfMonth": 5}, 422, "VALIDATION_ERROR", "dayOfMonth"),
        ({**good, "frequency": "MONTHLY", "dayOfMonth": 32}, 422, "VALIDATION_ERROR", "dayOfMonth"),
        ({**good, "amount": 0}, 422, "TXN005", "amount"),
        ({**good, "amount": 1.001}, 422, "TXN005", "amount"),
        ({**good, "amount": 10_000.01}, 422, "TXN005", "amount"),
        ({**good, "currency": "EUR"}, 422, "TXN006", "currency"),
        ({**good, "fromAccountId": "acc_nosuchaccount"}, 404, "TXN002", "fromAccountId"),
        ({**good, "toAccountId": "acc_nosuchaccount"}, 404, "TXN002", "toAccountId"),
        ({**good, "frequency": "HOURLY"}, 400, "INVALID_REQUEST", None),
        ({**good, "executionCount": 3}, 400, "INVALID_REQUEST", None),
    ]
    for body, status, code, field in cases:
        envelope.error(rest.post(rec.PATH, json=body), status, code, field)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    with pytest.raises(grpc.RpcError) as refused:
        stub.CreateRecurringTransaction(
            pb.CreateRecurringTransactionRequest(
                from_account_id=source,
                to_account_id=target,
                amount=1,
                frequency=tpb.RecurringFrequencyEnum.DAILY,
                start_date=start.isoformat(),
                day_of_month=3,
            ),
            timeout=30,
        )
    info = envelope.grpc_error(refused.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == "day_of_month"  # gRPC names the proto field
    envelope.error(rest.get(f"{rec.PATH}/rec_nosuchschedule"), 404, "NOT_FOUND")
    envelope.error(rest.get(f"{rec.PATH}?status=RUNNING"), 400, "INVALID_REQUEST")
    stored = query(
        stack, "SELECT COUNT(*) FROM recurring_transactions WHERE from_account_id = %s", (source,)
    )
    assert stored == [(0,)]


def test_customers_see_only_their_own_schedules(
    rest: Rest, raw_channel: grpc.Channel, stack: Stack
) -> None:
    owner = user_caller(
        stack, raw_channel, "owner", create_user(rest, "CUSTOMER", "Rec Owner"), CUSTOMER_SCOPES
    )
    other = user_caller(
        stack, raw_channel, "other", create_user(rest, "CUSTOMER", "Rec Other"), CUSTOMER_SCOPES
    )
    try:
        assert owner.user_id is not None and other.user_id is not None
        source = open_account(rest, owner=owner.user_id, funded=50)
        target = open_account(rest, owner=BOB)  # paying another customer is allowed
        start = rec.today(rest) + timedelta(days=1)
        mine = rec.create(owner.rest, rec.body(source, target, start))
        theirs_source = open_account(rest, owner=other.user_id, funded=50)
        rec.create(other.rest, rec.body(theirs_source, target, start))

        listed = envelope.success(owner.rest.get(rec.PATH))["recurringTransactions"]
        assert [item["id"] for item in listed] == [mine["id"]]
        assert rec.get(owner.rest, mine["id"])["id"] == mine["id"]
        envelope.error(other.rest.get(f"{rec.PATH}/{mine['id']}"), 404, "NOT_FOUND")
        envelope.error(
            other.rest.post(f"{rec.PATH}/{mine['id']}/cancel", json={}), 404, "NOT_FOUND"
        )
        envelope.error(other.rest.get(f"{rec.PATH}?accountId={source}"), 404, "TXN002", "accountId")
        envelope.error(
            other.rest.post(rec.PATH, json=rec.body(source, target, start)),
            404,
            "TXN002",
            "fromAccountId",
        )
        stub = pb_grpc.TransactionServiceStub(other.channel)
        with pytest.raises(grpc.RpcError) as hidden:
            stub.GetRecurringTransaction(
                pb.GetRecurringTransactionRequest(recurring_id=mine["id"]), timeout=30
            )
        envelope.grpc_error(hidden.value, grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
        assert rec.get(rest, mine["id"])["status"] == "ACTIVE"  # staff see every schedule
        cancelled = envelope.success(owner.rest.post(f"{rec.PATH}/{mine['id']}/cancel", json={}))
        assert cancelled["recurringTransaction"]["status"] == "CANCELLED"
        for item in envelope.success(other.rest.get(rec.PATH))["recurringTransactions"]:
            envelope.success(other.rest.post(f"{rec.PATH}/{item['id']}/cancel", json={}))
    finally:
        owner.close()
        other.close()
