"""External transfers: accepted PENDING with amount and fee reserved, submitted and
settled by the due work as the sandbox clock moves, or returned by the network.

Over REST through Envoy and over gRPC, on both databases. Every scenario
checks where the money went: the transfer's own postings, the account's
balance, available balance and pending debits, and the whole ledger.
Refusals are in test_external_transfer_refusals.py.
"""

from __future__ import annotations

import uuid

import grpc

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.external import (
    ACH_CLEARING,
    FEE_INCOME,
    PATH,
    ROUTING,
    WIRE_CLEARING,
    ach,
    created,
    moment,
    money,
    postings,
    send,
    settle,
)
from tests.common.money import account, assert_ledger_consistent, open_account, query
from tests.conftest import Rest

# --- the happy path of each rail --------------------------------------------------


def test_ach_transfer_is_reserved_then_posted_then_completed(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, type_="SAVINGS", funded=2_000)
    txn = created(rest, source, 1_000, description="Payment to Jane", purpose="PERSONAL_TRANSFER")
    assert (txn["type"], txn["status"], txn["rail"]) == ("EXTERNAL_TRANSFER", "PENDING", "ACH")
    assert txn["amount"] == 1_000 and txn["fee"] == 0 and txn["currency"] == "USD"
    assert txn["purpose"] == "PERSONAL_TRANSFER"
    assert txn["fromAccount"]["id"] == source
    assert txn["fromAccount"]["accountNumber"].startswith("****")
    assert txn["beneficiary"] == {
        "name": "Jane Smith",
        "accountNumber": "****3210",
        "bankName": "External Bank",
        "accountType": "CHECKING",
        "bankCountry": "US",
    }
    assert moment(txn["estimatedCompletion"]) > moment(txn["timestamp"])
    assert "balanceAfter" not in txn and "completedAt" not in txn
    # Reserved, not posted: the balance stays, the available balance drops.
    assert money(rest, source) == (2_000, 1_000, 1_000)
    assert postings(stack, txn["id"]) == {}

    done = settle(rest, txn)
    assert done["status"] == "COMPLETED" and done["completedAt"]
    assert done["beneficiary"]["accountNumber"] == "****3210"
    assert done["counterparty"] == "Jane Smith"
    assert done["balanceAfter"] == 1_000
    assert money(rest, source) == (1_000, 1_000, 0)
    # The amount left through ACH clearing and stays there (the network's side).
    assert postings(stack, txn["id"]) == {source: -100_000, ACH_CLEARING: 100_000}
    assert_ledger_consistent(stack)


def test_the_history_line_follows_the_transfer(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=300)
    txn = created(rest, source, 120, reference="INV-7")
    lines = envelope.success(
        rest.get(f"/api/transactions?accountId={source}&type=EXTERNAL_TRANSFER")
    )
    line = lines["transactions"][0]
    assert (line["id"], line["direction"], line["amount"]) == (txn["id"], "DEBIT", 120)
    assert line["counterparty"] == "Jane Smith" and line["reference"] == "INV-7"
    assert "balanceAfter" not in line  # nothing posted while PENDING
    settle(rest, txn)
    lines = envelope.success(
        rest.get(f"/api/transactions?accountId={source}&type=EXTERNAL_TRANSFER")
    )
    line = lines["transactions"][0]
    assert (line["status"], line["balanceAfter"]) == ("COMPLETED", 180)


def test_a_transfer_into_the_overdraft_line_costs_the_overdraft_fee_when_it_posts(
    rest: Rest, stack: Stack
) -> None:
    source = open_account(rest, funded=100, overdraft=500)
    # 100.00 - 200.00 goes below zero: the 35.00 fee must fit too (600.00 available).
    txn = created(rest, source, 200)
    # The fee is reserved with the amount until the debit posts.
    assert money(rest, source) == (100, 365, 235)
    settle(rest, txn)
    assert money(rest, source) == (-135, 365, 0)
    fees = query(
        stack,
        "SELECT id FROM ledger_transactions WHERE original_transaction_id = %s AND type = 'FEE'",
        (txn["id"],),
    )
    assert len(fees) == 1 and postings(stack, str(fees[0][0])) == {
        source: -3_500,
        FEE_INCOME: 3_500,
    }
    # The fee must fit: 310.00 available takes 275.00 + 35.00, not 275.01 + 35.00.
    other = open_account(rest, funded=10, overdraft=300)
    envelope.error(send(rest, other, 275.01), 422, "TXN001", "amount")
    created(rest, other, 275)
    assert_ledger_consistent(stack)


def test_domestic_wire_costs_25_and_settles_through_wire_clearing(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=1_000)
    txn = created(rest, source, 500, beneficiary=ach(accountType=None), rail="WIRE")
    assert txn["rail"] == "WIRE" and txn["fee"] == 25
    assert "accountType" not in txn["beneficiary"]
    assert money(rest, source) == (1_000, 475, 525)

    done = settle(rest, txn)
    assert done["status"] == "COMPLETED"
    assert money(rest, source) == (475, 475, 0)
    assert postings(stack, txn["id"]) == {
        source: -52_500,
        WIRE_CLEARING: 50_000,
        FEE_INCOME: 2_500,
    }
    assert_ledger_consistent(stack)


def test_international_wire_over_grpc_costs_45_and_masks_the_iban(
    rest: Rest, stack: Stack, grpc_channel: grpc.Channel
) -> None:
    source = open_account(rest, funded=3_000)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    response = stub.CreateExternalTransfer(
        pb.CreateExternalTransferRequest(
            from_account_id=source,
            amount=1_200,
            rail=tpb.TransferRailEnum.INTERNATIONAL_WIRE,
            purpose=tpb.TransferPurposeEnum.FAMILY_SUPPORT,
            beneficiary=tpb.Beneficiary(
                name="Max Mustermann",
                iban="DE89 3704 0044 0532 0130 00",
                swift_code="COBADEFFXXX",
                address="Hauptstrasse 1, Berlin",
            ),
        ),
        timeout=30,
    )
    txn = response.transaction
    assert txn.status == tpb.TransactionStatusEnum.PENDING and txn.fee == 45
    assert txn.beneficiary.iban == "****3000" and txn.beneficiary.account_number == "****3000"
    assert txn.beneficiary.bank_country == "DE" and txn.beneficiary.swift_code == "COBADEFFXXX"
    assert not txn.beneficiary.HasField("routing_number")
    assert not txn.beneficiary.HasField("account_type")
    assert "0532013000" not in str(response)

    done = settle(
        rest, {"id": txn.id, "estimatedCompletion": txn.estimated_completion.ToJsonString()}
    )
    assert done["status"] == "COMPLETED" and done["rail"] == "INTERNATIONAL_WIRE"
    assert postings(stack, txn.id) == {
        source: -124_500,
        WIRE_CLEARING: 120_000,
        FEE_INCOME: 4_500,
    }
    assert_ledger_consistent(stack)


def test_every_seed_path_accepts_an_external_transfer(rest: Rest) -> None:
    source = open_account(rest, funded=100)
    for path in (
        PATH,
        "/api/transactions/transfer/external",
        "/api/v1/transactions/transfer/external",
    ):
        body = {"fromAccountId": source, "beneficiary": ach(), "amount": 1}
        assert (
            envelope.success(rest.post(path, json=body), 201)["transaction"]["status"] == "PENDING"
        )


def test_the_generic_create_transaction_sends_an_external_transfer(
    rest: Rest, stack: Stack
) -> None:
    source = open_account(rest, funded=200)
    body = {"type": "EXTERNAL_TRANSFER", "fromAccountId": source, "amount": 50}
    for path in ("/v1/transactions", "/backoffice/v1/transactions"):
        response = rest.post(path, json={**body, "beneficiary": ach(), "rail": "ACH"})
        txn = envelope.success(response, 201)["transaction"]
        assert response.json()["message"] == "External transfer initiated"
        assert (txn["type"], txn["status"], txn["rail"]) == ("EXTERNAL_TRANSFER", "PENDING", "ACH")
        assert txn["beneficiary"]["accountNumber"] == "****3210" and txn["estimatedCompletion"]
    assert money(rest, source) == (200, 100, 100)
    # Fields of other kinds are refused, and a beneficiary only goes with this one.
    scheduled = {**body, "beneficiary": ach(), "scheduled": True}
    envelope.error(
        rest.post("/v1/transactions", json=scheduled), 422, "VALIDATION_ERROR", "scheduled"
    )
    other = {"type": "TRANSFER", "fromAccountId": source, "toAccountId": source, "amount": 1}
    response = rest.post("/v1/transactions", json={**other, "beneficiary": ach()})
    envelope.error(response, 422, "VALIDATION_ERROR", "beneficiary")
    envelope.error(
        rest.post("/v1/transactions", json={**other, "rail": "WIRE"}),
        422,
        "VALIDATION_ERROR",
        "rail",
    )
    assert money(rest, source) == (200, 100, 100)
    assert_ledger_consistent(stack)


# --- fees ----------------------------------------------------------------------------


def test_the_fourth_ach_transfer_of_the_month_costs_one_dollar(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=500)
    fees = [created(rest, source, 10)["fee"] for _ in range(4)]
    assert fees == [0, 0, 0, 1]
    # Amounts plus the one fee are reserved.
    assert money(rest, source) == (500, 459, 41)
    assert_ledger_consistent(stack)


# --- a network return -------------------------------------------------------------


def test_an_r01_return_gives_money_and_fee_back_and_charges_the_returned_item_fee(
    rest: Rest, stack: Stack
) -> None:
    source = open_account(rest, funded=1_000)
    txn = created(
        rest, source, 400, beneficiary=ach(number="555000001", accountType=None), rail="WIRE"
    )
    assert txn["beneficiary"]["accountNumber"] == "****0001"
    done = settle(rest, txn)
    assert (done["status"], done["failureCode"]) == ("FAILED", "R01")
    assert done["failureReason"] == "Insufficient funds"
    # Amount and wire fee came back; the returned-item fee (30.00) is its own FEE.
    assert money(rest, source) == (970, 970, 0)
    # The history: the returned line moved nothing, the fee line follows the balance.
    lines = envelope.success(rest.get(f"/api/transactions?accountId={source}&limit=5"))
    shown = [
        (line["type"], line["status"], line.get("balanceAfter")) for line in lines["transactions"]
    ]
    assert shown[:2] == [("FEE", "COMPLETED", 970), ("EXTERNAL_TRANSFER", "FAILED", None)]
    assert postings(stack, txn["id"]) == {}
    fees = query(
        stack,
        "SELECT id, type, amount_minor FROM ledger_transactions WHERE original_transaction_id = %s",
        (txn["id"],),
    )
    assert [(kind, amount) for _, kind, amount in fees] == [("FEE", 3_000)]
    assert postings(stack, str(fees[0][0])) == {source: -3_000, FEE_INCOME: 3_000}
    events = [
        kind
        for (kind,) in query(
            stack,
            "SELECT type FROM outbox_events WHERE aggregate_id = %s ORDER BY id",
            (txn["id"],),
        )
    ]
    assert events == ["transaction.created", "transaction.failed"]
    assert_ledger_consistent(stack)


def test_an_r03_return_costs_nothing_and_gives_the_limit_back(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=300)
    txn = created(rest, source, 200, beneficiary=ach(number="777770003"))
    done = settle(rest, txn)
    assert (done["status"], done["failureCode"]) == ("FAILED", "R03")
    assert money(rest, source) == (300, 300, 0)
    assert account(rest, source)["limits"]["monthlyExternalTransfer"]["used"] == 0
    assert_ledger_consistent(stack)


# --- events, idempotency ------------------------------------------------------------


def test_a_completed_transfer_has_its_created_and_completed_events(
    rest: Rest, stack: Stack
) -> None:
    source = open_account(rest, funded=100)
    txn = created(rest, source, 25)
    settle(rest, txn)
    events = [
        kind
        for (kind,) in query(
            stack,
            "SELECT type FROM outbox_events WHERE aggregate_id = %s ORDER BY id",
            (txn["id"],),
        )
    ]
    assert events == ["transaction.created", "transaction.completed"]


def test_a_replayed_request_makes_one_transfer(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=100)
    key = {"Idempotency-Key": f"test-{uuid.uuid4()}"}
    body = {"fromAccountId": source, "beneficiary": ach(), "amount": 30}
    first = rest.post(PATH, json=body, headers=key)
    again = rest.post(PATH, json=body, headers=key)
    assert envelope.success(first, 201) == envelope.success(again, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert money(rest, source) == (100, 70, 30)
    other = {**body, "amount": 31}
    envelope.error(rest.post(PATH, json=other, headers=key), 409, "IDEMPOTENCY_KEY_REUSED")


def test_the_beneficiary_is_sealed_at_rest(rest: Rest, stack: Stack) -> None:
    source = open_account(rest, funded=100)
    txn = created(rest, source, 5, beneficiary=ach(number="11223344556677"))
    stored = query(
        stack,
        "SELECT beneficiary_account_number, beneficiary_routing_number, account_number_last4"
        " FROM external_transfers WHERE id = %s",
        (txn["id"],),
    )
    number, routing, last4 = stored[0]
    assert number.startswith("enc:v1:") and "11223344556677" not in number
    assert routing.startswith("enc:v1:") and ROUTING not in routing
    assert last4 == "6677"
