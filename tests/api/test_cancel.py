"""CancelTransaction: scheduled transfers, pending and processing debits of any
kind, the 5-minute window, who may cancel, and the race with the worker.

Over REST through Envoy and over gRPC, on both databases; after every
scenario the ledger balances and the limit counters equal their rows.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
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
    account_minor,
    advance,
    customer,
    events,
    insert_transaction,
    posted_payment,
    postings,
    reserve,
)
from tests.common.money import BOB, assert_ledger_consistent, balance, open_account, transfer
from tests.conftest import Rest

CANCELLED = tpb.TransactionStatusEnum.CANCELLED


@pytest.fixture
def db(stack: Stack) -> Iterator[Db]:
    connection = Db(stack)
    yield connection
    connection.close()


def _today(rest: Rest) -> date:
    return server_now(rest).date()


def _schedule(
    rest: Rest, source: str, target: str, amount: float, *, by: Rest | None = None
) -> str:
    """A transfer scheduled for tomorrow, made by `by` (default: the sandbox client)."""
    day = (_today(rest) + timedelta(days=1)).isoformat()
    response = transfer(by or rest, source, target, amount, scheduled=True, scheduledDate=day)
    return str(envelope.success(response, 201)["transaction"]["id"])


def _cancel(session: Rest, transaction_id: str, **body: Any) -> Any:
    return session.post(f"/v1/transactions/{transaction_id}/cancel", json=body)


def test_the_owner_cancels_a_scheduled_transfer_and_it_never_runs(
    rest: Rest, stack: Stack, raw_channel: grpc.Channel, db: Db
) -> None:
    payer = customer(rest, stack, raw_channel, funded=500)
    target = open_account(rest, owner=BOB)
    txn_id = _schedule(rest, payer.account_id, target, 120, by=payer.caller.rest)

    data = envelope.success(
        _cancel(payer.caller.rest, txn_id, reason="INCORRECT_AMOUNT", notes="resend"), 200
    )
    assert data["transactionId"] == txn_id
    assert data["status"] == "CANCELLED"
    assert data["refundAmount"] == 120
    assert data["cancelledAt"].endswith("Z")
    shown = envelope.success(payer.caller.rest.get(f"/v1/transactions/{txn_id}"))["transaction"]
    assert shown["status"] == "CANCELLED" and shown["cancelledAt"] == data["cancelledAt"]

    advance(rest, days=2)
    assert balance(rest, payer.account_id) == 500 and balance(rest, target) == 0
    assert postings(db, txn_id) == []
    assert events(db, txn_id) == ["transaction.created", "transaction.cancelled"]
    lines = db.execute(
        "SELECT DISTINCT status FROM account_entries WHERE transaction_id = ?", (txn_id,)
    )
    assert lines == [("CANCELLED",)]
    # A second cancel finds it CANCELLED.
    envelope.error(_cancel(payer.caller.rest, txn_id), 409, "TXN007")
    assert_ledger_consistent(stack)


def test_staff_cancel_over_grpc_and_a_completed_transfer_is_txn008(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack
) -> None:
    source = open_account(rest, funded=300)
    target = open_account(rest, owner=BOB)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    scheduled = _schedule(rest, source, target, 50)
    response = stub.CancelTransaction(
        pb.CancelTransactionRequest(transaction_id=scheduled), timeout=30
    )
    assert response.transaction_id == scheduled and response.status == CANCELLED
    assert response.refund_amount == 50 and response.cancelled_at.seconds > 0

    completed = envelope.success(transfer(rest, source, target, 10), 201)["transaction"]["id"]
    with pytest.raises(grpc.RpcError) as raised:
        stub.CancelTransaction(pb.CancelTransactionRequest(transaction_id=completed), timeout=30)
    info = envelope.grpc_error(raised.value, grpc.StatusCode.ABORTED, "TXN008")
    assert info.metadata["status"] == "COMPLETED"
    envelope.error(_cancel(rest, completed), 409, "TXN008")
    assert balance(rest, source) == 290
    assert_ledger_consistent(stack)


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED", "REFUNDED", "REVERSED", "INITIATED"])
def test_every_other_status_is_txn007(
    rest: Rest, stack: Stack, raw_channel: grpc.Channel, db: Db, status: str
) -> None:
    payer = customer(rest, stack, raw_channel, funded=100)
    txn_id = insert_transaction(
        db,
        type_="PAYMENT",
        status=status,
        source=payer.account_id,
        amount_minor=1_000,
        at=server_now(rest),
    )
    error = envelope.error(_cancel(payer.caller.rest, txn_id), 409, "TXN007")
    assert status in error["message"]
    assert account_minor(db, payer.account_id) == (100_00, 0)


def test_a_pending_external_transfer_releases_its_reservation(
    rest: Rest, stack: Stack, raw_channel: grpc.Channel, db: Db
) -> None:
    payer = customer(rest, stack, raw_channel, funded=1_000)
    now = server_now(rest)  # before the block: the server writes on SQLite too
    with db.transaction():
        txn_id = insert_transaction(
            db,
            type_="EXTERNAL_TRANSFER",
            status="PENDING",
            source=payer.account_id,
            amount_minor=200_00,
            fee_minor=25_00,
            at=now,
        )
        reserve(db, payer.account_id, 225_00)
    shown = envelope.success(payer.caller.rest.get(f"/v1/accounts/{payer.account_id}"))
    assert shown["account"]["availableBalance"] == 775

    data = envelope.success(_cancel(payer.caller.rest, txn_id, reason="NO_LONGER_NEEDED"))
    assert data["refundAmount"] == 225
    assert account_minor(db, payer.account_id) == (1_000_00, 0)
    shown = envelope.success(payer.caller.rest.get(f"/v1/accounts/{payer.account_id}"))
    assert shown["account"]["availableBalance"] == 1_000
    assert postings(db, txn_id) == []
    assert events(db, txn_id) == ["transaction.cancelled"]
    assert_ledger_consistent(stack)


def test_a_processing_external_transfer_is_with_the_network(
    rest: Rest, stack: Stack, raw_channel: grpc.Channel, db: Db
) -> None:
    payer = customer(rest, stack, raw_channel, funded=1_000)
    txn_id = posted_payment(
        db, payer.account_id, 100_00, 0, server_now(rest), type_="EXTERNAL_TRANSFER"
    )
    error = envelope.error(_cancel(payer.caller.rest, txn_id), 409, "TXN007")
    assert "PROCESSING" in error["message"]
    assert account_minor(db, payer.account_id) == (900_00, 0)
    assert_ledger_consistent(stack)


def test_a_processing_payment_is_credited_back_within_five_minutes_only(
    rest: Rest, stack: Stack, raw_channel: grpc.Channel, db: Db
) -> None:
    payer = customer(rest, stack, raw_channel, funded=1_000)
    started = server_now(rest)
    early = posted_payment(db, payer.account_id, 150_00, 1_50, started)
    late = posted_payment(db, payer.account_id, 100_00, 0, started)
    assert account_minor(db, payer.account_id) == (748_50, 0)

    # Four minutes after it entered PROCESSING: still recallable.
    advance(rest, seconds=240)
    data = envelope.success(_cancel(payer.caller.rest, early, reason="DUPLICATE_TRANSACTION"))
    assert data["refundAmount"] == 151.5
    assert account_minor(db, payer.account_id) == (900_00, 0)
    mirrored = postings(db, early)
    assert sorted(mirrored[3:]) == sorted((account, -amount) for account, amount in mirrored[:3])
    assert sum(amount for account, amount in mirrored if account == BILL_PAY_CLEARING) == 0

    # Five minutes after: too late, and nothing moves.
    advance(rest, seconds=60)
    error = envelope.error(_cancel(payer.caller.rest, late), 409, "TXN007")
    assert "5 minutes" in error["message"]
    assert account_minor(db, payer.account_id) == (900_00, 0)
    assert events(db, early) == ["transaction.cancelled"]
    assert_ledger_consistent(stack)


def test_who_may_cancel(rest: Rest, stack: Stack, raw_channel: grpc.Channel) -> None:
    payer = customer(rest, stack, raw_channel, funded=300)
    payee = customer(rest, stack, raw_channel, funded=0)
    stranger = customer(rest, stack, raw_channel, funded=0)
    txn_id = _schedule(rest, payer.account_id, payee.account_id, 30, by=payer.caller.rest)
    # Another customer's transaction does not exist for the caller.
    error = envelope.error(_cancel(stranger.caller.rest, txn_id), 404, "NOT_FOUND")
    assert error["field"] == "transactionId"
    with pytest.raises(grpc.RpcError) as raised:
        pb_grpc.TransactionServiceStub(stranger.caller.channel).CancelTransaction(
            pb.CancelTransactionRequest(transaction_id=txn_id), timeout=30
        )
    envelope.grpc_error(raised.value, grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    # The credited customer reads it but did not pay it.
    envelope.error(_cancel(payee.caller.rest, txn_id), 403, "FORBIDDEN")
    envelope.error(_cancel(rest, "txn_doesnotexist0000"), 404, "NOT_FOUND")
    shown = envelope.success(payer.caller.rest.get(f"/v1/transactions/{txn_id}"))
    assert shown["transaction"]["status"] == "SCHEDULED"


def test_refused_requests(rest: Rest, stack: Stack, raw_channel: grpc.Channel) -> None:
    payer = customer(rest, stack, raw_channel, funded=300)
    txn_id = _schedule(
        rest, payer.account_id, open_account(rest, owner=BOB), 30, by=payer.caller.rest
    )
    error = envelope.error(
        _cancel(payer.caller.rest, txn_id, notes="x" * 501), 422, "VALIDATION_ERROR"
    )
    assert error["field"] == "notes"
    response = _cancel(payer.caller.rest, txn_id, reason="CHANGED_MY_MIND")
    assert response.status_code == 400, response.text
    shown = envelope.success(payer.caller.rest.get(f"/v1/transactions/{txn_id}"))
    assert shown["transaction"]["status"] == "SCHEDULED"


def test_a_replayed_cancel_answers_the_first_answer(
    rest: Rest, stack: Stack, raw_channel: grpc.Channel, db: Db
) -> None:
    payer = customer(rest, stack, raw_channel, funded=300)
    txn_id = _schedule(
        rest, payer.account_id, open_account(rest, owner=BOB), 30, by=payer.caller.rest
    )
    headers = {"Idempotency-Key": f"cancel-{uuid.uuid4().hex}"}
    url = f"/v1/transactions/{txn_id}/cancel"
    first = payer.caller.rest.post(url, json={"reason": "OTHER"}, headers=headers)
    second = payer.caller.rest.post(url, json={"reason": "OTHER"}, headers=headers)
    assert envelope.success(first) == envelope.success(second)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert events(db, txn_id).count("transaction.cancelled") == 1


def test_a_cancel_racing_the_worker_moves_money_at_most_once(
    rest: Rest, stack: Stack, db: Db
) -> None:
    outcomes = []
    for _ in range(3):
        source = open_account(rest, funded=100)
        target = open_account(rest, owner=BOB)
        txn_id = _schedule(rest, source, target, 40)
        answers: list[Any] = []
        racers = [
            threading.Thread(
                target=lambda answers=answers, txn_id=txn_id: answers.append(_cancel(rest, txn_id))
            ),
            threading.Thread(target=lambda: advance(rest, seconds=33 * 3600)),
        ]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        [answer] = answers
        status = envelope.success(rest.get(f"/v1/transactions/{txn_id}"))["transaction"]["status"]
        if answer.status_code == 200:
            assert status == "CANCELLED"
            assert (balance(rest, source), balance(rest, target)) == (100, 0)
            assert postings(db, txn_id) == []
        else:
            envelope.error(answer, 409, "TXN008")
            assert status == "COMPLETED"
            assert (balance(rest, source), balance(rest, target)) == (60, 40)
        outcomes.append(status)
    assert_ledger_consistent(stack)


def _weekday_after(day: date, days: int) -> date:
    later = day + timedelta(days=days)
    while later.weekday() >= 5:
        later += timedelta(days=1)
    return later


def test_real_payments_and_external_transfers_are_cancelled_by_the_shared_convention(
    rest: Rest, stack: Stack, raw_channel: grpc.Channel, db: Db
) -> None:
    payer = customer(rest, stack, raw_channel, funded=1_000)
    payee_body = {
        "name": f"Power {uuid.uuid4().hex[:6]}",
        "type": "UTILITY",
        "accountNumber": "EL-1",
    }
    payee = envelope.success(payer.caller.rest.post("/v1/payees", json=payee_body), 201)
    pay_body = {"fromAccountId": payer.account_id, "payeeId": payee["payee"]["id"]}
    day = _weekday_after(_today(rest), 3)
    later = envelope.success(
        payer.caller.rest.post(
            "/v1/transactions/payment",
            json={**pay_body, "amount": 100, "paymentDate": day.isoformat()},
        ),
        201,
    )["transaction"]
    now = envelope.success(
        payer.caller.rest.post("/v1/transactions/payment", json={**pay_body, "amount": 50}), 201
    )["transaction"]
    beneficiary = {
        "name": "Jane Smith",
        "accountNumber": "9876543210",
        "routingNumber": "021000021",
        "accountType": "CHECKING",
    }
    external = envelope.success(
        payer.caller.rest.post(
            "/v1/transactions/transfer/external",
            json={"fromAccountId": payer.account_id, "beneficiary": beneficiary, "amount": 200},
        ),
        201,
    )["transaction"]
    assert (later["status"], now["status"], external["status"]) == (
        "SCHEDULED",
        "PROCESSING",
        "PENDING",
    )
    fee_minor = round(external["fee"] * 100)
    assert account_minor(db, payer.account_id) == (950_00, 300_00 + fee_minor)

    for txn, refunded in ((later, 100), (now, 50), (external, 200 + fee_minor / 100)):
        data = envelope.success(_cancel(payer.caller.rest, txn["id"]))
        assert data["refundAmount"] == refunded
    assert account_minor(db, payer.account_id) == (1_000_00, 0)

    advance(rest, days=(day - _today(rest)).days + 6)
    for txn in (later, now, external):
        shown = envelope.success(payer.caller.rest.get(f"/v1/transactions/{txn['id']}"))
        assert shown["transaction"]["status"] == "CANCELLED"
    assert account_minor(db, payer.account_id) == (1_000_00, 0)
    assert_ledger_consistent(stack)
