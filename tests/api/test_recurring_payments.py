"""Recurring payments: each run is a bill payment made by CreatePayment's use case.

Over REST through Envoy and over gRPC, on both databases.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import grpc

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from server.store.sandbox import payee_id as sandbox_payee_id
from tests.common import envelope
from tests.common import recurring as rec
from tests.common.money import ALICE, BOB, assert_ledger_consistent, balance, open_account
from tests.common.users import outbox_events
from tests.conftest import Rest

ELECTRIC = sandbox_payee_id("elec")  # a bank-wide biller, number on record ****1187


def _payment_body(source: str, start: date, **extra: object) -> dict[str, object]:
    body = rec.body(source, "", start, **{"amount": 20, "frequency": "MONTHLY", **extra})
    del body["toAccountId"]
    return {**body, "payeeId": ELECTRIC}


def test_a_recurring_payment_pays_the_payee_on_each_date(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack
) -> None:
    source = open_account(rest, funded=100)
    start = rec.today(rest) + timedelta(days=1)
    created = rec.create(rest, _payment_body(source, start, description="Power bill"))
    assert created["type"] == "RECURRING_PAYMENT" and created["payeeId"] == ELECTRIC
    assert created["payeeAccountNumber"] == "****1187" and "toAccountId" not in created
    own_number = rec.create(
        rest, _payment_body(source, start, amount=5, accountNumber="CUSTACC9876")
    )
    assert own_number["payeeAccountNumber"] == "****9876"

    rec.advance_to(rest, rec.after_nine(start))

    for schedule, number, amount in ((created, "****1187", 20), (own_number, "****9876", 5)):
        (run,) = rec.runs(stack, schedule["id"])
        assert run[2] == start.isoformat()
        stub = pb_grpc.TransactionServiceStub(grpc_channel)
        paid = stub.GetTransaction(
            pb.GetTransactionRequest(transaction_id=run[0]), timeout=30
        ).transaction
        assert paid.type == tpb.TransactionTypeEnum.PAYMENT and paid.amount == amount
        assert paid.payee.id == ELECTRIC and paid.payee_account_number == number
        assert paid.recurring_transaction_id == schedule["id"]
        assert not paid.HasField("initiated_by")
        assert rec.get(rest, schedule["id"])["executionCount"] == 1
        (event,) = outbox_events(stack, schedule["id"], "recurring.executed")
        assert event["data"]["transactionId"] == run[0]
    assert balance(rest, source) == 75
    for schedule in (created, own_number):
        envelope.success(rest.post(f"{rec.PATH}/{schedule['id']}/cancel", json={}))
    assert_ledger_consistent(stack)


def test_a_refused_payment_run_is_recorded_failed(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=1, type_="SAVINGS")
    start = rec.today(rest) + timedelta(days=1)
    body = {**_payment_body(source, start), "frequency": "DAILY"}
    recurring_id = rec.create(rest, body)["id"]
    rec.advance_to(rest, rec.after_nine(start))
    (run,) = rec.runs(stack, recurring_id)
    line = envelope.success(rest.get(f"/v1/transactions/{run[0]}"))["transaction"]
    assert (line["type"], line["status"], line["failureCode"]) == ("PAYMENT", "FAILED", "TXN001")
    (event,) = outbox_events(stack, recurring_id, "recurring.failed")
    assert event["data"]["failureCode"] == "TXN001"
    assert balance(rest, source) == 1
    envelope.success(rest.post(f"{rec.PATH}/{recurring_id}/cancel", json={}))
    assert_ledger_consistent(stack)


def test_recurring_payment_refusals(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, owner=BOB, funded=10)
    target = open_account(rest, owner=BOB)
    start = rec.today(rest) + timedelta(days=1)
    # A payee of another customer (Alice's) is not found, never forbidden.
    alices = envelope.success(
        rest.post(
            "/v1/payees",
            json={
                "ownerId": ALICE,
                "name": f"Gym {uuid.uuid4().hex[:6]}",
                "type": "OTHER",
                "accountNumber": "GYM12345",
            },
        ),
        201,
    )["payee"]["id"]
    cases: list[tuple[dict[str, object], int, str, str]] = [
        ({**_payment_body(source, start), "payeeId": alices}, 404, "NOT_FOUND", "payeeId"),
        ({**_payment_body(source, start), "payeeId": "payee_nosuch"}, 404, "NOT_FOUND", "payeeId"),
        (
            {**_payment_body(source, start), "accountNumber": "not a number!"},
            422,
            "VALIDATION_ERROR",
            "accountNumber",
        ),
        (
            {**_payment_body(source, start), "description": "x" * 141},
            422,
            "VALIDATION_ERROR",
            "description",
        ),
        (
            {**rec.body(source, target, start), "accountNumber": "AB1234"},
            422,
            "VALIDATION_ERROR",
            "accountNumber",
        ),
    ]
    for body, status, code, field in cases:
        envelope.error(rest.post(rec.PATH, json=body), status, code, field)
    listed = envelope.success(rest.get(f"{rec.PATH}?accountId={source}"))
    assert listed["recurringTransactions"] == []


def test_an_active_recurring_payment_keeps_its_payee(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, owner=BOB, funded=10)
    start = rec.today(rest) + timedelta(days=2)
    payee = envelope.success(
        rest.post(
            "/v1/payees",
            json={
                "ownerId": BOB,
                "name": f"Landlord {uuid.uuid4().hex[:6]}",
                "type": "OTHER",
                "accountNumber": "FLAT42",
            },
        ),
        201,
    )["payee"]["id"]
    recurring_id = rec.create(rest, {**_payment_body(source, start), "payeeId": payee})["id"]
    envelope.error(rest.delete(f"/v1/payees/{payee}"), 409, "CONFLICT")
    envelope.success(rest.post(f"{rec.PATH}/{recurring_id}/cancel", json={}))
    envelope.success(rest.delete(f"/v1/payees/{payee}"))
    envelope.error(rest.get(f"/v1/payees/{payee}"), 404, "NOT_FOUND")
