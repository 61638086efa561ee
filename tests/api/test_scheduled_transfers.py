"""Scheduled transfers are counted, checked and dated on the day they execute.

Over REST through Envoy and over gRPC, on both databases.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import grpc

from backoffice.v1 import account_service_pb2 as apb
from backoffice.v1 import account_service_pb2_grpc as apb_grpc
from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.money import (
    BOB,
    assert_ledger_consistent,
    balance,
    open_account,
    transfer,
)
from tests.conftest import Rest

COMPLETED = tpb.TransactionStatusEnum.COMPLETED
FAILED = tpb.TransactionStatusEnum.FAILED


def _today(rest: Rest) -> date:
    now = envelope.success(rest.get("/v1/sandbox/clock"))["clock"]["now"]
    return date.fromisoformat(now[:10])


def _run_due_work(rest: Rest) -> date:
    """Moves the clock past 09:00 UTC of tomorrow (the sweeper runs at once); the new day."""
    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": 2}))
    return _today(rest)


def _schedule_over_grpc(stub: Any, source: str, target: str, amount: float, day: date) -> str:
    response = stub.CreateTransfer(
        pb.CreateTransferRequest(
            from_account_id=source,
            to_account_id=target,
            amount=amount,
            scheduled=True,
            scheduled_date=day.isoformat(),
        ),
        timeout=30,
    )
    return str(response.transaction.id)


def test_two_scheduled_debits_of_one_day_share_its_daily_limit(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack
) -> None:
    source = open_account(rest, type_="SAVINGS", funded=9_000)  # 5,000.00 a day
    target = open_account(rest, owner=BOB)
    tomorrow = _today(rest) + timedelta(days=1)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    over_rest = envelope.success(
        transfer(rest, source, target, 3_000, scheduled=True, scheduledDate=tomorrow.isoformat()),
        201,
    )["transaction"]["id"]
    over_grpc = _schedule_over_grpc(stub, source, target, 3_000, tomorrow)

    _run_due_work(rest)

    first = envelope.success(rest.get(f"/v1/transactions/{over_rest}"))["transaction"]
    assert first["status"] == "COMPLETED"
    second = stub.GetTransaction(pb.GetTransactionRequest(transaction_id=over_grpc), timeout=30)
    assert second.transaction.status == FAILED
    assert second.transaction.failure_code == "TXN004"
    assert balance(rest, source) == 6_000
    # The day's usage shows the debit that ran, over REST and gRPC.
    limits = envelope.success(rest.get(f"/v1/accounts/{source}"))["account"]["limits"]
    assert limits["dailyTransfer"]["used"] == 3_000
    assert limits["monthlyTransfer"]["used"] == 3_000
    accounts = apb_grpc.AccountServiceStub(grpc_channel)
    got = accounts.GetAccount(apb.GetAccountRequest(account_id=source), timeout=30)
    assert got.account.limits.daily_transfer.used == 3_000
    # And it counts against what the account does later that day.
    envelope.error(transfer(rest, source, target, 2_000.01), 422, "TXN004", "amount")
    envelope.success(transfer(rest, source, target, 2_000), 201)
    assert_ledger_consistent(stack)


def _running_balances_add_up(lines: list[dict[str, Any]], opening: float) -> None:
    running = opening
    for line in lines:
        signed = line["amount"] if line["direction"] == "CREDIT" else -line["amount"]
        running = round(running + signed, 2)
        assert line["balanceAfter"] == running, line


def test_an_executed_scheduled_transfer_is_dated_on_the_day_it_moved_money(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack
) -> None:
    source = open_account(rest, funded=100)
    target = open_account(rest, owner=BOB)
    today = _today(rest)
    scheduled = envelope.success(
        transfer(
            rest,
            source,
            target,
            60,
            scheduled=True,
            scheduledDate=(today + timedelta(days=1)).isoformat(),
        ),
        201,
    )["transaction"]
    envelope.success(transfer(rest, source, target, 5), 201)  # before it executes

    moved_on = _run_due_work(rest)

    # Found by the day the money moved, over REST and gRPC ...
    day = moved_on.isoformat()
    that_day = envelope.success(
        rest.get(f"/api/transactions?accountId={source}&startDate={day}&endDate={day}")
    )["transactions"]
    assert [line["id"] for line in that_day] == [scheduled["id"]]
    assert that_day[0]["balanceAfter"] == 35 and that_day[0]["completedAt"][:10] == day
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    listed = stub.ListTransactions(
        pb.ListTransactionsRequest(account_id=source, start_date=day, end_date=day), timeout=30
    )
    assert [line.id for line in listed.transactions] == [scheduled["id"]]
    assert listed.transactions[0].balance_after == 35
    # ... and not on the day it was scheduled.
    created = today.isoformat()
    on_creation_day = envelope.success(
        rest.get(f"/api/transactions?accountId={source}&startDate={created}&endDate={created}")
    )["transactions"]
    assert scheduled["id"] not in [line["id"] for line in on_creation_day]
    # In date order every balanceAfter is the one before plus the line.
    history = envelope.success(
        rest.get(f"/api/transactions?accountId={source}&sortBy=date&sortOrder=asc")
    )["transactions"]
    assert [line["amount"] for line in history] == [100, 5, 60]
    _running_balances_add_up(history, 0)
    assert balance(rest, source) == 35
    assert_ledger_consistent(stack)


def test_a_scheduled_transfer_not_yet_due_stays_on_its_creation_day(rest: Rest) -> None:
    source = open_account(rest, funded=50)
    target = open_account(rest, owner=BOB)
    today = _today(rest)
    day = (today + timedelta(days=6)).isoformat()
    scheduled = envelope.success(
        transfer(rest, source, target, 20, scheduled=True, scheduledDate=day), 201
    )["transaction"]
    created = today.isoformat()
    lines = envelope.success(
        rest.get(
            f"/api/transactions?accountId={source}&status=SCHEDULED"
            f"&startDate={created}&endDate={created}"
        )
    )["transactions"]
    assert [line["id"] for line in lines] == [scheduled["id"]]
    assert "balanceAfter" not in lines[0] and lines[0]["scheduledDate"] == day
