"""Bill payments (CreatePayment) through the real server: REST via Envoy and gRPC,
on both databases, with the sandbox clock moving them to COMPLETED.

Every test pays from fresh accounts of fresh customers; the clock moves
forward only, so each test reads "today" from the server.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import grpc
import pytest

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.domain import payments as rules
from server.run import Stack
from server.store.bootstrap import internal_account_id
from server.store.sandbox import payee_id as sandbox_payee_id
from tests.common import envelope
from tests.common.money import account, assert_ledger_consistent, open_account, query
from tests.common.principals import CUSTOMER_SCOPES, Caller, create_user, user_caller
from tests.conftest import Rest

StatusCode = grpc.StatusCode
STATUS = tpb.TransactionStatusEnum
CLEARING = internal_account_id("BILL_PAY_CLEARING", "USD")
ELECTRIC = sandbox_payee_id("elec")


# --- helpers ---------------------------------------------------------------------------


def _customer(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Caller:
    user_id = create_user(rest, "CUSTOMER", "Bill Payer")
    return user_caller(stack, raw_channel, "customer", user_id, CUSTOMER_SCOPES)


@pytest.fixture
def payer(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Caller]:
    who = _customer(stack, raw_channel, rest)
    yield who
    who.close()


@pytest.fixture
def other(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Caller]:
    who = _customer(stack, raw_channel, rest)
    yield who
    who.close()


def _payee(who: Caller, type_: str = "UTILITY", number: str = "EL-5500-4321") -> str:
    body = {"name": f"Power Co {uuid.uuid4().hex[:6]}", "type": type_, "accountNumber": number}
    return str(envelope.success(who.rest.post("/v1/payees", json=body), 201)["payee"]["id"])


def _today(rest: Rest) -> date:
    now = envelope.success(rest.get("/v1/sandbox/clock"))["clock"]["now"]
    return date.fromisoformat(now[:10])


def _advance_to(rest: Rest, day: date) -> None:
    """Moves the clock to a minute past 09:00 UTC of `day`, when that day's due
    work runs (it runs at once); no move when the clock is past it already."""
    now = envelope.success(rest.get("/v1/sandbox/clock"))["clock"]["now"]
    current = datetime.fromisoformat(now.replace("Z", "+00:00")).replace(tzinfo=None)
    seconds = int((datetime.combine(day, time(9, 1)) - current).total_seconds())
    if seconds > 0:
        envelope.success(rest.post("/v1/sandbox/clock:advance", json={"seconds": seconds}))


def _pay(who: Caller, source: str, payee: str, amount: Any, **extra: Any) -> Any:
    body = {"fromAccountId": source, "payeeId": payee, "amount": amount, **extra}
    return who.rest.post("/v1/transactions/payment", json=body)


def _get(rest: Rest, transaction_id: str) -> dict[str, Any]:
    return envelope.success(rest.get(f"/v1/transactions/{transaction_id}"))["transaction"]  # type: ignore[no-any-return]


def _balance_minor(stack: Stack, account_id: str) -> int:
    rows = query(stack, "SELECT balance_minor FROM accounts WHERE id = %s", (account_id,))
    return int(rows[0][0])


def _events(stack: Stack, transaction_id: str) -> list[str]:
    rows = query(
        stack,
        "SELECT type FROM outbox_events WHERE aggregate_id = %s ORDER BY id",
        (transaction_id,),
    )
    return [str(row[0]) for row in rows]


def _next_weekday(after: date, weekday: int) -> date:
    day = after + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


# --- today's payments ------------------------------------------------------------------


def test_a_payment_today_is_debited_at_once_and_completes_on_delivery(
    rest: Rest, payer: Caller, stack: Stack
) -> None:
    source = open_account(rest, owner=str(payer.user_id), funded=1_000)
    payee = _payee(payer)
    clearing_before = _balance_minor(stack, CLEARING)
    today = _today(rest)

    response = _pay(payer, source, payee, 150.25, memo="  November electricity bill ")
    created = envelope.success(response, 201)["transaction"]
    assert response.json()["message"] == "Payment sent successfully"

    delivery = rules.estimated_delivery(today, "UTILITY")
    assert created["type"] == "PAYMENT" and created["status"] == "PROCESSING"
    assert created["amount"] == 150.25 and created["fee"] == 0
    assert created["payee"]["id"] == payee and created["payee"]["type"] == "UTILITY"
    assert created["payee"]["name"].startswith("Power Co ")
    assert created["payeeAccountNumber"] == "****4321"
    assert created["memo"] == "November electricity bill"
    assert created["scheduledDate"] == today.isoformat()
    assert created["estimatedDelivery"] == delivery.isoformat()
    assert created["fromAccount"]["id"] == source
    assert created["balanceAfter"] == 849.75
    assert "toAccount" not in created and "completedAt" not in created
    assert account(rest, source)["balance"] == 849.75
    assert _balance_minor(stack, CLEARING) - clearing_before == 150_25
    # The full number never leaves the server, not even sealed in an answer.
    # (Its hidden digits, not just "5500": a random account number may end so.)
    assert "55004321" not in response.text and "5500-4321" not in response.text
    assert "EL5500" not in response.text and "EL-5500" not in response.text

    # Still PROCESSING the day before delivery; COMPLETED on it.
    _advance_to(rest, delivery - timedelta(days=1))
    assert _get(payer.rest, created["id"])["status"] == "PROCESSING"
    _advance_to(rest, delivery)
    done = _get(payer.rest, created["id"])
    assert done["status"] == "COMPLETED" and done["completedAt"][:10] == delivery.isoformat()
    assert done["payee"] == created["payee"]
    assert done["payeeAccountNumber"] == "****4321"
    assert done["estimatedDelivery"] == delivery.isoformat()
    assert account(rest, source)["balance"] == 849.75
    assert _events(stack, created["id"]) == ["transaction.created", "transaction.completed"]
    lines = envelope.success(payer.rest.get(f"/api/transactions?accountId={source}&type=PAYMENT"))
    assert [line["status"] for line in lines["transactions"]] == ["COMPLETED"]
    assert lines["transactions"][0]["counterparty"] == created["payee"]["name"]
    assert _balance_minor(stack, CLEARING) - clearing_before == 150_25
    assert_ledger_consistent(stack)


def test_a_bank_wide_biller_is_payable_by_any_customer_over_grpc(
    rest: Rest, payer: Caller, other: Caller, stack: Stack
) -> None:
    for who in (payer, other):
        source = open_account(rest, owner=str(who.user_id), funded=100)
        stub = pb_grpc.TransactionServiceStub(who.channel)
        reply = stub.CreatePayment(
            pb.CreatePaymentRequest(from_account_id=source, payee_id=ELECTRIC, amount=40),
            timeout=30,
        )
        paid = reply.transaction
        assert paid.status == STATUS.PROCESSING and paid.type == tpb.TransactionTypeEnum.PAYMENT
        assert (paid.payee.id, paid.payee.name, paid.payee.type) == (
            ELECTRIC,
            "City Electric Company",
            "UTILITY",
        )
        # The number on the biller's record, masked.
        assert paid.payee_account_number == "****1187"
        assert not paid.HasField("memo") and paid.HasField("estimated_delivery")
        assert paid.balance_after == 60
    assert_ledger_consistent(stack)


def test_staff_pay_from_a_customers_account_to_that_customers_payees_only(
    rest: Rest, payer: Caller, other: Caller
) -> None:
    source = open_account(rest, owner=str(payer.user_id), funded=100)
    own = _payee(payer)
    envelope.success(_pay_as(rest, source, own, 10), 201)
    # Another customer's payee is not this account owner's: NOT_FOUND.
    envelope.error(_pay_as(rest, source, _payee(other), 10), 404, "NOT_FOUND", "payeeId")


def _pay_as(rest: Rest, source: str, payee: str, amount: Any) -> Any:
    body = {"fromAccountId": source, "payeeId": payee, "amount": amount}
    return rest.post("/api/transactions/payment", json=body)


# --- scheduled payments ----------------------------------------------------------------


def test_a_scheduled_payment_is_reserved_then_debited_on_its_date_then_completed(
    rest: Rest, payer: Caller, stack: Stack
) -> None:
    source = open_account(rest, owner=str(payer.user_id), funded=500)
    payee = _payee(payer, type_="INDIVIDUAL")
    day = _today(rest) + timedelta(days=3)
    stub = pb_grpc.TransactionServiceStub(payer.channel)
    reply = stub.CreatePayment(
        pb.CreatePaymentRequest(
            from_account_id=source,
            payee_id=payee,
            amount=120,
            payment_date=day.isoformat(),
            account_number="RENT42",
            memo="rent share",
        ),
        timeout=30,
    )
    scheduled = reply.transaction
    assert scheduled.status == STATUS.SCHEDULED
    assert scheduled.scheduled_date == day.isoformat()
    # Paid by mailed check: 5 business days after it is sent.
    delivery = rules.estimated_delivery(day, "INDIVIDUAL")
    assert scheduled.estimated_delivery == delivery.isoformat()
    assert scheduled.payee_account_number == "****NT42"
    assert not scheduled.HasField("balance_after")
    # Reserved: available drops, nothing posted.
    held = account(rest, source)
    assert (held["balance"], held["availableBalance"], held["pendingDebits"]) == (500, 380, 120)
    assert _events(stack, scheduled.id) == ["transaction.created"]

    _advance_to(rest, day - timedelta(days=1))
    assert _get(rest, scheduled.id)["status"] == "SCHEDULED"
    _advance_to(rest, day)
    debited = _get(payer.rest, scheduled.id)
    assert debited["status"] == "PROCESSING" and debited["balanceAfter"] == 380
    after = account(rest, source)
    assert (after["balance"], after["availableBalance"], after["pendingDebits"]) == (380, 380, 0)
    lines = envelope.success(
        payer.rest.get(f"/api/transactions?accountId={source}&startDate={_today(rest)}")
    )["transactions"]
    assert [line["id"] for line in lines] == [scheduled.id]

    _advance_to(rest, delivery)
    assert _get(payer.rest, scheduled.id)["status"] == "COMPLETED"
    assert _events(stack, scheduled.id) == ["transaction.created", "transaction.completed"]
    assert_ledger_consistent(stack)


def test_a_weekend_payment_date_is_accepted_and_sent_on_the_next_business_day(
    rest: Rest, payer: Caller
) -> None:
    source = open_account(rest, owner=str(payer.user_id), funded=100)
    saturday = _next_weekday(_today(rest), 5)
    paid = envelope.success(
        _pay(payer, source, _payee(payer), 25, paymentDate=saturday.isoformat()), 201
    )
    assert paid["transaction"]["status"] == "SCHEDULED"
    # Sent Monday (or the next business day), delivered two business days later.
    delivery = date.fromisoformat(paid["transaction"]["estimatedDelivery"])
    assert delivery == rules.estimated_delivery(saturday, "UTILITY")
    assert delivery.weekday() < 5 and (delivery - saturday).days >= 4


def test_two_scheduled_payments_of_one_day_share_its_daily_limit(
    rest: Rest, payer: Caller, stack: Stack
) -> None:
    source = open_account(rest, owner=str(payer.user_id), type_="SAVINGS", funded=5_000)
    payee = _payee(payer)
    day = (_today(rest) + timedelta(days=1)).isoformat()
    first = envelope.success(_pay(payer, source, payee, 1_500, paymentDate=day), 201)
    second = envelope.success(_pay(payer, source, payee, 1_500, paymentDate=day), 201)
    assert account(rest, source)["pendingDebits"] == 3_000

    _advance_to(rest, date.fromisoformat(day))

    ran = _get(payer.rest, first["transaction"]["id"])
    refused = _get(payer.rest, second["transaction"]["id"])
    assert ran["status"] == "PROCESSING", (ran.get("failureCode"), ran.get("failureReason"))
    assert refused["status"] == "FAILED" and refused["failureCode"] == "TXN004"
    after = account(rest, source)
    assert (after["balance"], after["pendingDebits"]) == (3_500, 0)
    assert after["availableBalance"] == 3_500
    assert after["limits"]["dailyBillPayment"]["used"] == 1_500
    assert _events(stack, refused["id"]) == ["transaction.created", "transaction.failed"]
    assert_ledger_consistent(stack)


# --- refusals ----------------------------------------------------------------------------


def test_payment_dates_outside_today_to_a_year_ahead_are_refused(rest: Rest, payer: Caller) -> None:
    source = open_account(rest, owner=str(payer.user_id), funded=100)
    payee = _payee(payer)
    today = _today(rest)
    for value in (
        (today - timedelta(days=1)).isoformat(),
        (today + timedelta(days=366)).isoformat(),
        "2025-13-01",
        "tomorrow",
    ):
        response = _pay(payer, source, payee, 10, paymentDate=value)
        envelope.error(response, 422, "VALIDATION_ERROR", "paymentDate")
    stub = pb_grpc.TransactionServiceStub(payer.channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.CreatePayment(
            pb.CreatePaymentRequest(
                from_account_id=source,
                payee_id=payee,
                amount=10,
                payment_date=(today - timedelta(days=1)).isoformat(),
            ),
            timeout=30,
        )
    info = envelope.grpc_error(caught.value, StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] in ("payment_date", "paymentDate")
    assert account(rest, source)["balance"] == 100


def test_unknown_deleted_and_other_customers_payees_are_not_found(
    rest: Rest, payer: Caller, other: Caller
) -> None:
    source = open_account(rest, owner=str(payer.user_id), funded=100)
    theirs = _payee(other)
    gone = _payee(payer)
    envelope.success(payer.rest.delete(f"/v1/payees/{gone}"))
    for payee in (theirs, gone, "payee_doesnotexist"):
        envelope.error(_pay(payer, source, payee, 10), 404, "NOT_FOUND", "payeeId")
    envelope.error(_pay(payer, source, "", 10), 422, "VALIDATION_ERROR", "payeeId")
    stub = pb_grpc.TransactionServiceStub(payer.channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.CreatePayment(
            pb.CreatePaymentRequest(from_account_id=source, payee_id=theirs, amount=10),
            timeout=30,
        )
    envelope.grpc_error(caught.value, StatusCode.NOT_FOUND, "NOT_FOUND")
    # Another customer's account is not found either (TXN002).
    their_account = open_account(rest, owner=str(other.user_id), funded=100)
    envelope.error(_pay(payer, their_account, ELECTRIC, 10), 404, "TXN002", "fromAccountId")
    assert account(rest, source)["balance"] == 100
    assert account(rest, their_account)["balance"] == 100


def test_insufficient_funds_limits_and_bad_amounts_are_refused(
    rest: Rest, payer: Caller, stack: Stack
) -> None:
    source = open_account(rest, owner=str(payer.user_id), type_="SAVINGS", funded=2_500)
    payee = _payee(payer)
    tomorrow = (_today(rest) + timedelta(days=1)).isoformat()
    # Daily bill-payment limit of a SAVINGS account: 2,000.00.
    envelope.error(_pay(payer, source, payee, 2_000.01), 422, "TXN004", "amount")
    envelope.error(_pay(payer, source, payee, 2_000.01, paymentDate=tomorrow), 422, "TXN004")
    envelope.success(_pay(payer, source, payee, 1_500), 201)
    envelope.error(_pay(payer, source, payee, 500.01), 422, "TXN004", "amount")
    # 1,000.00 left, 500.00 of today's limit.
    envelope.success(_pay(payer, source, payee, 900, paymentDate=tomorrow), 201)
    envelope.error(_pay(payer, source, payee, 100.01), 422, "TXN001", "amount")
    envelope.error(
        _pay(payer, source, payee, 100.01, paymentDate=tomorrow), 422, "TXN001", "amount"
    )
    for amount in (0, -5, 0.001):
        envelope.error(_pay(payer, source, payee, amount), 422, "TXN005", "amount")
    envelope.error(_pay(payer, source, payee, 10, currency="EUR"), 422, "TXN006", "currency")
    envelope.error(_pay(payer, source, payee, 10, memo="x" * 141), 422, "VALIDATION_ERROR", "memo")
    envelope.error(
        _pay(payer, source, payee, 10, accountNumber="12-34"),
        422,
        "VALIDATION_ERROR",
        "accountNumber",
    )
    after = account(rest, source)
    assert (after["balance"], after["pendingDebits"]) == (1_000, 900)
    assert_ledger_consistent(stack)


def test_a_frozen_account_cannot_pay(rest: Rest, payer: Caller) -> None:
    source = open_account(rest, owner=str(payer.user_id), funded=100)
    envelope.success(
        rest.post(f"/v1/accounts/{source}/freeze", json={"reason": "Suspicious activity"})
    )
    envelope.error(_pay(payer, source, ELECTRIC, 10), 422, "TXN003", "fromAccountId")


def test_a_retry_with_the_same_idempotency_key_pays_once(
    rest: Rest, payer: Caller, stack: Stack
) -> None:
    source = open_account(rest, owner=str(payer.user_id), funded=100)
    payee = _payee(payer)
    key = {"Idempotency-Key": f"bill-{uuid.uuid4()}"}
    body = {"fromAccountId": source, "payeeId": payee, "amount": 30}
    first = payer.rest.post("/v1/transactions/payment", json=body, headers=key)
    again = payer.rest.post("/v1/transactions/payment", json=body, headers=key)
    assert envelope.success(first, 201) == envelope.success(again, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    envelope.error(
        payer.rest.post("/v1/transactions/payment", json={**body, "amount": 31}, headers=key),
        409,
        "IDEMPOTENCY_KEY_REUSED",
    )
    assert account(rest, source)["balance"] == 70
    assert_ledger_consistent(stack)


# --- payees named by payments; the generic POST /transactions ------------------------


def test_a_payee_cannot_be_deleted_while_a_payment_to_it_is_on_its_way(
    rest: Rest, payer: Caller
) -> None:
    source = open_account(rest, owner=str(payer.user_id), funded=100)
    payee = _payee(payer)
    day = _today(rest) + timedelta(days=2)
    paid = envelope.success(_pay(payer, source, payee, 10, paymentDate=day.isoformat()), 201)
    envelope.error(payer.rest.delete(f"/v1/payees/{payee}"), 409, "CONFLICT")
    _advance_to(rest, day)  # PROCESSING: still on its way
    assert _get(payer.rest, paid["transaction"]["id"])["status"] == "PROCESSING"
    envelope.error(payer.rest.delete(f"/v1/payees/{payee}"), 409, "CONFLICT")
    _advance_to(rest, date.fromisoformat(paid["transaction"]["estimatedDelivery"]))
    assert _get(payer.rest, paid["transaction"]["id"])["status"] == "COMPLETED"
    envelope.success(payer.rest.delete(f"/v1/payees/{payee}"))
    # The payment keeps naming the deleted payee.
    assert _get(payer.rest, paid["transaction"]["id"])["payee"]["id"] == payee


def test_the_generic_create_transaction_pays_with_type_payment(
    rest: Rest, payer: Caller, stack: Stack
) -> None:
    source = open_account(rest, owner=str(payer.user_id), funded=100)
    payee = _payee(payer)
    body = {"type": "PAYMENT", "fromAccountId": source, "payeeId": payee, "amount": 12.5}
    paid = envelope.success(payer.rest.post("/v1/transactions", json=body), 201)["transaction"]
    assert paid["status"] == "PROCESSING" and paid["payee"]["id"] == payee
    assert paid["payeeAccountNumber"] == "****4321" and "estimatedDelivery" in paid
    envelope.error(
        payer.rest.post("/v1/transactions", json={**body, "description": "x"}),
        422,
        "VALIDATION_ERROR",
        "description",
    )
    transfer = {"type": "TRANSFER", "fromAccountId": source, "toAccountId": source, "amount": 1}
    envelope.error(
        payer.rest.post("/v1/transactions", json={**transfer, "payeeId": payee}),
        422,
        "VALIDATION_ERROR",
        "payeeId",
    )
    stub = pb_grpc.TransactionServiceStub(payer.channel)
    reply = stub.CreateTransaction(
        pb.CreateTransactionRequest(
            type=tpb.TransactionTypeEnum.PAYMENT,
            from_account_id=source,
            payee_id=payee,
            amount=7.5,
            memo="gas",
        ),
        timeout=30,
    )
    assert reply.transaction.memo == "gas" and reply.transaction.payee.id == payee
    assert account(rest, source)["balance"] == 80
    details = query(
        stack, "SELECT details FROM ledger_transactions WHERE id = %s", (reply.transaction.id,)
    )
    assert json.loads(details[0][0])["clearingAccountId"] == CLEARING
    assert_ledger_consistent(stack)
