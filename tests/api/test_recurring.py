"""Recurring transfers: schedules and their runs through the sandbox clock.

Over REST through Envoy and over gRPC, on both databases. Every schedule here
has an end date or is cancelled, so that the clock moves of later tests do
not keep running it. Runs are found by the schedule id their transaction
keeps.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import grpc
import pytest

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.domain.calendar import add_business_days
from server.run import Stack
from tests.common import envelope
from tests.common import recurring as rec
from tests.common.money import (
    assert_ledger_consistent,
    balance,
    deposit,
    query,
)
from tests.common.users import outbox_events
from tests.conftest import Rest

ACTIVE = tpb.RecurringTransactionStatusEnum.ACTIVE
CANCELLED = tpb.RecurringTransactionStatusEnum.CANCELLED


def test_create_answers_the_schedule_over_rest_and_grpc(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack
) -> None:
    source, target = rec.pair(rest)
    start = rec.today(rest) + timedelta(days=3)
    body = rec.body(
        source, target, start, amount=500, frequency="MONTHLY", description="Monthly rent"
    )
    body["endDate"] = (start + timedelta(days=365)).isoformat()
    created = rec.create(rest, body)
    assert created["id"].startswith("rec_")
    assert created["type"] == "RECURRING_TRANSFER"
    assert (created["amount"], created["currency"]) == (500, "USD")
    assert created["frequency"] == "MONTHLY" and created["dayOfMonth"] == start.day
    assert created["nextExecution"] == f"{start.isoformat()}T09:00:00Z"
    assert created["status"] == "ACTIVE"
    assert (created["executionCount"], created["consecutiveFailureCount"]) == (0, 0)
    assert created["startDate"] == start.isoformat() and created["endDate"] == body["endDate"]
    for absent in ("payeeId", "lastExecution", "lastTransactionId", "cancelledAt"):
        assert absent not in created
    assert rec.get(rest, created["id"]) == created

    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    over_grpc = stub.CreateRecurringTransaction(
        pb.CreateRecurringTransactionRequest(
            from_account_id=source,
            to_account_id=target,
            amount=2.5,
            frequency=tpb.RecurringFrequencyEnum.WEEKLY,
            start_date=start.isoformat(),
            end_date=(start + timedelta(days=20)).isoformat(),
        ),
        timeout=30,
    ).recurring_transaction
    assert over_grpc.status == ACTIVE and over_grpc.amount == 2.5
    assert not over_grpc.HasField("day_of_month") and not over_grpc.HasField("payee_id")
    assert over_grpc.HasField("execution_count") and over_grpc.execution_count == 0
    got = stub.GetRecurringTransaction(
        pb.GetRecurringTransactionRequest(recurring_id=over_grpc.id), timeout=30
    ).recurring_transaction
    assert got == over_grpc
    listed = stub.ListRecurringTransactions(
        pb.ListRecurringTransactionsRequest(account_id=source), timeout=30
    )
    assert [item.id for item in listed.recurring_transactions] == [over_grpc.id, created["id"]]
    assert listed.pagination.total_count == 2
    page = envelope.success(rest.get(f"{rec.PATH}?accountId={source}&limit=1"))
    assert [item["id"] for item in page["recurringTransactions"]] == [over_grpc.id]
    assert page["pagination"]["hasNext"] is True
    second = envelope.success(
        rest.get(f"{rec.PATH}?accountId={source}&limit=1&pageToken={page['nextPageToken']}")
    )
    assert [item["id"] for item in second["recurringTransactions"]] == [created["id"]]
    by_status = envelope.success(rest.get(f"{rec.PATH}?accountId={source}&status=CANCELLED"))
    assert by_status["recurringTransactions"] == []
    for recurring_id in (created["id"], over_grpc.id):
        envelope.success(rest.post(f"{rec.PATH}/{recurring_id}/cancel", json={}))


def test_an_idempotent_create_answers_the_first_schedule_again(rest: Rest, stack: Stack) -> None:
    source, target = rec.pair(rest)
    body = rec.body(source, target, rec.today(rest) + timedelta(days=2))
    headers = {"Idempotency-Key": f"rec-{source}"}
    first = rest.post(rec.PATH, json=body, headers=headers)
    again = rest.post(rec.PATH, json=body, headers=headers)
    created = envelope.success(first, 201)["recurringTransaction"]
    assert envelope.success(again, 201)["recurringTransaction"] == created
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = rest.post(rec.PATH, json={**body, "amount": 2}, headers=headers)
    envelope.error(other, 409, "IDEMPOTENCY_KEY_REUSED")
    stored = query(
        stack, "SELECT id FROM recurring_transactions WHERE from_account_id = %s", (source,)
    )
    assert stored == [(created["id"],)]
    envelope.success(rest.post(f"{rec.PATH}/{created['id']}/cancel", json={}))


def test_each_frequency_runs_exactly_on_its_dates(rest: Rest, stack: Stack) -> None:
    start = rec.today(rest) + timedelta(days=1)
    until = start + timedelta(days=31)
    monthly = [d for m in range(3) if (d := rec.months_later(start, m, start.day)) <= until]
    expected = {
        "DAILY": 32,
        "WEEKLY": 5,  # start, +7, +14, +21, +28
        "BIWEEKLY": 3,  # start, +14, +28
        "MONTHLY": len(monthly),
        "QUARTERLY": 1,
        "ANNUALLY": 1,
    }
    schedules = {}
    for frequency in expected:
        source, target = rec.pair(rest)
        body = rec.body(source, target, start, frequency=frequency)
        body["endDate"] = (start + timedelta(days=400)).isoformat()
        schedules[frequency] = (rec.create(rest, body)["id"], source, target)

    rec.advance_to(rest, rec.after_nine(until))

    for frequency, (recurring_id, source, target) in schedules.items():
        runs = rec.runs(stack, recurring_id)
        assert len(runs) == expected[frequency], frequency
        assert {status for _, status, _ in runs} == {"COMPLETED"}
        assert balance(rest, target) == expected[frequency]
        assert balance(rest, source) == 100 - expected[frequency]
        schedule = rec.get(rest, recurring_id)
        assert schedule["executionCount"] == expected[frequency]
        assert schedule["lastTransactionId"] == runs[-1][0]
    weekly = [day for _, _, day in rec.runs(stack, schedules["WEEKLY"][0])]
    assert weekly == [(start + timedelta(days=7 * n)).isoformat() for n in range(5)]
    assert [day for _, _, day in rec.runs(stack, schedules["MONTHLY"][0])] == [
        d.isoformat() for d in monthly
    ]
    nexts = {f: rec.get(rest, schedules[f][0])["nextExecution"][:10] for f in schedules}
    assert nexts["DAILY"] == (until + timedelta(days=1)).isoformat()
    assert nexts["BIWEEKLY"] == (start + timedelta(days=42)).isoformat()
    assert nexts["QUARTERLY"] == rec.months_later(start, 3, start.day).isoformat()
    assert nexts["ANNUALLY"] == rec.months_later(start, 12, start.day).isoformat()
    for recurring_id, _, _ in schedules.values():
        envelope.success(rest.post(f"{rec.PATH}/{recurring_id}/cancel", json={}))
    assert_ledger_consistent(stack)


def test_monthly_from_january_31_uses_the_last_day_of_shorter_months(
    rest: Rest, stack: Stack
) -> None:
    today = rec.today(rest)
    start = date(today.year + (today >= date(today.year, 1, 31)), 1, 31)
    source, target = rec.pair(rest)
    body = rec.body(source, target, start, frequency="MONTHLY")  # dayOfMonth: start's, 31
    body["endDate"] = date(start.year, 4, 30).isoformat()
    recurring_id = rec.create(rest, body)["id"]
    expected = [date(start.year, 1, 31), rec.months_later(start, 1, 31)]
    expected += [date(start.year, 3, 31), date(start.year, 4, 30)]
    for count, day in enumerate(expected, 1):
        rec.advance_to(rest, rec.after_nine(day))
        assert [run[2] for run in rec.runs(stack, recurring_id)] == [
            d.isoformat() for d in expected[:count]
        ]
        if count < len(expected):
            next_day = expected[count].isoformat()
            assert rec.get(rest, recurring_id)["nextExecution"] == f"{next_day}T09:00:00Z"
    finished = rec.get(rest, recurring_id)
    assert finished["status"] == "COMPLETED" and "nextExecution" not in finished
    assert finished["executionCount"] == 4
    assert_ledger_consistent(stack)


def test_an_end_date_completes_the_schedule(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack
) -> None:
    source, target = rec.pair(rest)
    start = rec.today(rest) + timedelta(days=1)
    body = {**rec.body(source, target, start), "endDate": (start + timedelta(days=2)).isoformat()}
    recurring_id = rec.create(rest, body)["id"]
    rec.advance_to(rest, rec.after_nine(start + timedelta(days=5)))
    assert len(rec.runs(stack, recurring_id)) == 3
    done = rec.get(rest, recurring_id)
    assert done["status"] == "COMPLETED" and "nextExecution" not in done
    assert done["executionCount"] == 3
    envelope.error(rest.post(f"{rec.PATH}/{recurring_id}/cancel", json={}), 409, "CONFLICT")
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    with pytest.raises(grpc.RpcError) as refused:
        stub.CancelRecurringTransaction(
            pb.CancelRecurringTransactionRequest(recurring_id=recurring_id), timeout=30
        )
    envelope.grpc_error(refused.value, grpc.StatusCode.FAILED_PRECONDITION, "CONFLICT")
    assert len(outbox_events(stack, recurring_id, "recurring.executed")) == 3
    assert balance(rest, source) == 97
    assert_ledger_consistent(stack)


def test_cancel_stops_the_runs(rest: Rest, grpc_channel: grpc.Channel, stack: Stack) -> None:
    source, target = rec.pair(rest)
    start = rec.today(rest) + timedelta(days=1)
    recurring_id = rec.create(rest, rec.body(source, target, start))["id"]
    rec.advance_to(rest, rec.after_nine(start))
    (run,) = rec.runs(stack, recurring_id)
    # The run is an ordinary transfer, dated for its run, made by the bank.
    transaction = envelope.success(rest.get(f"/v1/transactions/{run[0]}"))["transaction"]
    assert (transaction["type"], transaction["status"]) == ("TRANSFER", "COMPLETED")
    assert transaction["scheduledDate"] == start.isoformat()
    assert "initiatedBy" not in transaction
    assert transaction["recurringTransactionId"] == recurring_id
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    cancelled = stub.CancelRecurringTransaction(
        pb.CancelRecurringTransactionRequest(recurring_id=recurring_id), timeout=30
    ).recurring_transaction
    assert cancelled.status == CANCELLED and cancelled.HasField("cancelled_at")
    assert not cancelled.HasField("next_execution")
    rec.advance_to(rest, rec.after_nine(start + timedelta(days=3)))
    assert len(rec.runs(stack, recurring_id)) == 1
    shown = rec.get(rest, recurring_id)
    assert shown["status"] == "CANCELLED" and shown["executionCount"] == 1
    envelope.error(rest.post(f"{rec.PATH}/{recurring_id}/cancel", json={}), 409, "CONFLICT")
    assert balance(rest, target) == 1
    assert_ledger_consistent(stack)


def test_a_refused_run_is_retried_then_fails_and_the_schedule_goes_on(
    rest: Rest, stack: Stack
) -> None:
    source, target = rec.pair(rest, funded=5, type_="SAVINGS")
    start = rec.today(rest) + timedelta(days=1)
    body = {**rec.body(source, target, start, amount=10, frequency="WEEKLY")}
    recurring_id = rec.create(rest, body)["id"]
    retry_day = add_business_days(start + timedelta(days=1), 0)

    rec.advance_to(rest, rec.after_nine(start))
    # Refused (TXN001): retried on the next business day; nothing written yet.
    waiting = rec.get(rest, recurring_id)
    assert waiting["nextExecution"] == f"{retry_day.isoformat()}T09:00:00Z"
    assert waiting["consecutiveFailureCount"] == 0 and rec.runs(stack, recurring_id) == []

    rec.advance_to(rest, rec.after_nine(retry_day))
    (failed,) = rec.runs(stack, recurring_id)
    assert failed[1:] == ("FAILED", start.isoformat())
    line = envelope.success(rest.get(f"/v1/transactions/{failed[0]}"))["transaction"]
    assert line["failureCode"] == "TXN001" and line["status"] == "FAILED"
    assert line["recurringTransactionId"] == recurring_id and "initiatedBy" not in line
    events = outbox_events(stack, recurring_id, "recurring.failed")
    assert [event["data"]["failureCode"] for event in events] == ["TXN001"]
    assert events[0]["data"]["transactionId"] == failed[0]
    after = rec.get(rest, recurring_id)
    assert after["status"] == "ACTIVE" and after["consecutiveFailureCount"] == 1
    next_run = start + timedelta(days=7)
    assert after["nextExecution"] == f"{next_run.isoformat()}T09:00:00Z"

    deposit(rest, source, 20)
    rec.advance_to(rest, rec.after_nine(next_run))
    runs = rec.runs(stack, recurring_id)
    assert [run[1] for run in runs] == ["FAILED", "COMPLETED"]
    done = rec.get(rest, recurring_id)
    assert (done["executionCount"], done["consecutiveFailureCount"]) == (1, 0)
    assert len(outbox_events(stack, recurring_id, "recurring.executed")) == 1
    assert balance(rest, source) == 15 and balance(rest, target) == 10
    envelope.success(rest.post(f"{rec.PATH}/{recurring_id}/cancel", json={}))
    assert_ledger_consistent(stack)


def test_a_retry_that_finds_the_money_runs_for_its_date(rest: Rest, stack: Stack) -> None:
    source, target = rec.pair(rest, funded=5, type_="SAVINGS")
    start = rec.today(rest) + timedelta(days=1)
    recurring_id = rec.create(
        rest, rec.body(source, target, start, amount=10, frequency="MONTHLY")
    )["id"]
    rec.advance_to(rest, rec.after_nine(start))
    assert rec.runs(stack, recurring_id) == []
    deposit(rest, source, 10)
    rec.advance_to(rest, rec.after_nine(add_business_days(start + timedelta(days=1), 0)))
    assert [run[1:] for run in rec.runs(stack, recurring_id)] == [("COMPLETED", start.isoformat())]
    assert rec.get(rest, recurring_id)["executionCount"] == 1
    assert outbox_events(stack, recurring_id, "recurring.failed") == []
    assert balance(rest, source) == 5
    envelope.success(rest.post(f"{rec.PATH}/{recurring_id}/cancel", json={}))
    assert_ledger_consistent(stack)


def test_three_failed_runs_in_a_row_pause_the_schedule(rest: Rest, stack: Stack) -> None:
    source, target = rec.pair(rest, funded=1, type_="SAVINGS")
    start = rec.today(rest) + timedelta(days=1)
    # DAILY: no retry fits before the next run, so each refusal fails its run.
    recurring_id = rec.create(rest, rec.body(source, target, start, amount=5))["id"]
    rec.advance_to(rest, rec.after_nine(start + timedelta(days=5)))
    runs = rec.runs(stack, recurring_id)
    assert [run[1] for run in runs] == ["FAILED"] * 3
    paused = rec.get(rest, recurring_id)
    assert paused["status"] == "PAUSED" and "nextExecution" not in paused
    assert paused["consecutiveFailureCount"] == 3
    assert len(outbox_events(stack, recurring_id, "recurring.failed")) == 3
    cancelled = envelope.success(rest.post(f"{rec.PATH}/{recurring_id}/cancel", json={}))
    assert cancelled["recurringTransaction"]["status"] == "CANCELLED"
    assert balance(rest, source) == 1
    assert_ledger_consistent(stack)


def test_a_schedule_starting_today_after_nine_runs_at_once(rest: Rest, stack: Stack) -> None:
    rec.advance_to(rest, datetime.combine(rec.today(rest) + timedelta(days=1), time(10, 0)))
    source, target = rec.pair(rest)
    today = rec.today(rest)
    created = rec.create(rest, {**rec.body(source, target, today), "endDate": today.isoformat()})
    assert created["status"] == "COMPLETED" and created["executionCount"] == 1
    assert [run[1:] for run in rec.runs(stack, created["id"])] == [("COMPLETED", today.isoformat())]
    assert balance(rest, target) == 1
    assert_ledger_consistent(stack)


def test_a_run_refused_for_a_frozen_account_fails_and_pauses_at_once(
    rest: Rest, stack: Stack
) -> None:
    source, target = rec.pair(rest)
    start = rec.today(rest) + timedelta(days=1)
    recurring_id = rec.create(rest, rec.body(source, target, start, frequency="WEEKLY"))["id"]
    frozen = rest.post(f"/v1/accounts/{target}/freeze", json={"reason": "review"})
    envelope.success(frozen)
    rec.advance_to(rest, rec.after_nine(start + timedelta(days=1)))
    (run,) = rec.runs(stack, recurring_id)
    line = envelope.success(rest.get(f"/v1/transactions/{run[0]}"))["transaction"]
    assert (line["status"], line["failureCode"]) == ("FAILED", "TXN003")
    paused = rec.get(rest, recurring_id)
    assert paused["status"] == "PAUSED" and paused["consecutiveFailureCount"] == 1
    assert "nextExecution" not in paused
    assert balance(rest, source) == 100
    envelope.success(rest.post(f"{rec.PATH}/{recurring_id}/cancel", json={}))
    assert_ledger_consistent(stack)
