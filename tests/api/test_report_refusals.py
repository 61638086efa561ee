"""ReportService's refusals, who may ask, the pending limit and Idempotency-Key,
over REST (through Envoy) and gRPC, on both databases."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import grpc
import pytest

from backoffice.v1 import report_service_pb2 as pb
from backoffice.v1 import report_service_pb2_grpc as pb_grpc
from server.domain.ids import new_id
from server.run import Stack
from tests.common import envelope
from tests.common.accounts import Db, server_now
from tests.common.corrections import Customer, customer
from tests.common.money import BOB_CHECKING
from tests.conftest import Rest

StatusCode = grpc.StatusCode


@pytest.fixture(scope="module")
def db(stack: Stack) -> Iterator[Db]:
    database = Db(stack)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture(scope="module")
def person(rest: Rest, stack: Stack, raw_channel: grpc.Channel) -> Customer:
    return customer(rest, stack, raw_channel, funded=10)


def _today(rest: Rest) -> str:
    return server_now(rest).date().isoformat()


def _range(rest: Rest, days_back: int = 0, days_after: int = 0) -> dict[str, str]:
    today = server_now(rest).date()
    return {
        "from": (today - timedelta(days=days_back)).isoformat(),
        "to": (today + timedelta(days=days_after)).isoformat(),
    }


# -- Bad requests -----------------------------------------------------------------------
def test_daily_and_monthly_refuse_bad_and_future_periods(rest: Rest) -> None:
    today = server_now(rest).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    for value in (tomorrow, "2025-13-01", "yesterday", "2025-1-1", "2025-02-30"):
        response = rest.get("/v1/reports/daily", params={"date": value})
        envelope.error(response, 422, "VALIDATION_ERROR", field="date")
    next_month = (today.replace(day=1) + timedelta(days=32)).isoformat()[:7]
    for value in (next_month, "2025-13", "2025-1", "November"):
        response = rest.get("/v1/reports/monthly", params={"month": value})
        envelope.error(response, 422, "VALIDATION_ERROR", field="month")
    envelope.error(
        rest.get("/v1/reports/daily", params={"currency": "XYZ"}), 422, "VALIDATION_ERROR"
    )
    envelope.error(
        rest.get("/v1/reports/daily", params={"account_id": "acc_nothere0000000000"}),
        404,
        "TXN002",
    )
    envelope.error(
        rest.get("/v1/reports/daily", params={"account_id": BOB_CHECKING, "currency": "EUR"}),
        422,
        "VALIDATION_ERROR",
        field="currency",
    )


def test_custom_refuses_bad_requests(rest: Rest) -> None:
    def refused(body: dict[str, object], status: int, code: str) -> None:
        envelope.error(rest.post("/v1/reports/custom", json=body), status, code)

    refused({}, 422, "VALIDATION_ERROR")  # no dateRange
    refused({"dateRange": _range(rest, days_after=1)}, 422, "VALIDATION_ERROR")  # future
    refused({"dateRange": {"from": "2025-01-32", "to": _today(rest)}}, 422, "VALIDATION_ERROR")
    refused({"dateRange": _range(rest, days_back=366)}, 422, "VALIDATION_ERROR")  # 367 days
    today = server_now(rest).date()
    backwards = {"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()}
    refused({"dateRange": backwards}, 422, "VALIDATION_ERROR")
    many = [f"acc_{uuid.uuid4().hex[:20]}" for _ in range(51)]
    refused({"dateRange": _range(rest), "accountIds": many}, 422, "VALIDATION_ERROR")
    refused({"dateRange": _range(rest), "format": "docx"}, 400, "INVALID_REQUEST")
    refused({"dateRange": _range(rest), "groupBy": "YEAR"}, 400, "INVALID_REQUEST")
    refused({"dateRange": _range(rest), "types": ["NOT_A_TYPE"]}, 400, "INVALID_REQUEST")
    refused({"dateRange": _range(rest), "types": ["FEE", "FEE"]}, 422, "VALIDATION_ERROR")
    refused({"dateRange": _range(rest), "accountIds": ["acc_nothere0000000000"]}, 404, "TXN002")
    # 366 days is allowed.
    ok = rest.post("/v1/reports/custom", json={"dateRange": _range(rest, days_back=365)})
    envelope.success(ok, 202)


def test_grpc_refusals(grpc_channel: grpc.Channel, rest: Rest) -> None:
    stub = pb_grpc.ReportServiceStub(grpc_channel)
    request = pb.CreateCustomReportRequest(group_by=99)  # type: ignore[arg-type]
    request.date_range.to = _today(rest)
    setattr(request.date_range, "from", _today(rest))
    with pytest.raises(grpc.RpcError) as caught:
        stub.CreateCustomReport(request)
    envelope.grpc_error(caught.value, StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetReport(pb.GetReportRequest(report_id="rpt_nothere"))
    envelope.grpc_error(caught.value, StatusCode.NOT_FOUND, "NOT_FOUND")
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetDailyReport(pb.GetDailyReportRequest(date="2999-01-01"))
    envelope.grpc_error(caught.value, StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")


def test_unknown_reports_are_not_found(rest: Rest) -> None:
    for report_id in ("rpt_nothere", "nothing", new_id("rpt")):
        envelope.error(rest.get(f"/v1/reports/{report_id}"), 404, "NOT_FOUND")
        envelope.error(rest.get(f"/v1/reports/{report_id}/download"), 404, "NOT_FOUND")


# -- Who may ask ------------------------------------------------------------------------
def test_a_customer_reports_on_their_own_accounts_only(rest: Rest, person: Customer) -> None:
    own = person.caller.rest
    envelope.error(own.get("/v1/reports/daily"), 403, "FORBIDDEN")
    envelope.error(own.get("/v1/reports/monthly"), 403, "FORBIDDEN")
    envelope.error(
        own.get("/v1/reports/daily", params={"accountId": BOB_CHECKING}), 403, "FORBIDDEN"
    )
    envelope.error(
        own.get("/v1/reports/daily", params={"accountId": "acc_nothere0000000000"}),
        403,
        "FORBIDDEN",
    )
    envelope.error(
        own.post("/v1/reports/custom", json={"dateRange": _range(rest)}), 403, "FORBIDDEN"
    )
    body = {"dateRange": _range(rest), "accountIds": [person.account_id, BOB_CHECKING]}
    envelope.error(own.post("/v1/reports/custom", json=body), 403, "FORBIDDEN")

    daily = envelope.success(own.get("/v1/reports/daily", params={"accountId": person.account_id}))
    assert daily["report"]["accountIds"] == [person.account_id]
    assert [r["currency"] for r in daily["reports"]] == ["USD"]
    body = {"dateRange": _range(rest), "accountIds": [person.account_id]}
    mine = envelope.success(own.post("/v1/reports/custom", json=body), 202)["report"]
    assert mine["requestedBy"] == person.user_id
    # Staff read it; another customer does not find it.
    envelope.success(rest.get(f"/v1/reports/{mine['id']}"))
    staff_made = envelope.success(rest.post("/v1/reports/custom", json=body), 202)["report"]
    envelope.error(own.get(f"/v1/reports/{staff_made['id']}"), 404, "NOT_FOUND")
    envelope.error(own.get(f"/v1/reports/{staff_made['id']}/download"), 404, "NOT_FOUND")


# -- Waiting reports --------------------------------------------------------------------
def _waiting(db: Db, user_id: str, count: int) -> list[str]:
    """Reports of `user_id` a worker is computing (leased for minutes): they wait."""
    ids = []
    stamp = db.execute("SELECT MAX(created_at) FROM postings")[0][0]
    day = str(stamp)[:10]
    parameters = json.dumps(
        {
            "from": day,
            "to": day,
            "account_ids": [],
            "types": [],
            "group_by": "DAY",
            "currency": "USD",
        }
    )
    for _ in range(count):
        report_id = new_id("rpt")
        db.execute(
            "INSERT INTO reports (id, client_id, user_id, requested_by, status, parameters,"
            " format, attempts, created_at, started_at, expires_at)"
            " VALUES (?, 'sandbox-client', ?, ?, 'PROCESSING', ?, 'csv', 1, ?, ?, ?)",
            (
                report_id,
                user_id,
                user_id,
                parameters,
                stamp,
                "2999-01-01 00:00:00",
                "2999-01-01 00:00:00",
            ),
        )
        ids.append(report_id)
    return ids


def test_at_most_five_waiting_reports_and_no_file_before_completion(
    rest: Rest, db: Db, person: Customer
) -> None:
    ids = _waiting(db, person.user_id, 4)
    own = person.caller.rest
    body = {"dateRange": _range(rest), "accountIds": [person.account_id]}
    try:
        # The fifth is accepted (it may complete at once; then a sixth fits too).
        fifth = envelope.success(own.post("/v1/reports/custom", json=body), 202)["report"]
        ids += _waiting(db, person.user_id, 1)
        error = envelope.error(own.post("/v1/reports/custom", json=body), 429, "RATE_LIMITED")
        assert "5" in error["message"]
        shown = envelope.success(own.get(f"/v1/reports/{ids[0]}"))["report"]
        assert shown["status"] == "PROCESSING" and "downloadUrl" not in shown
        envelope.error(own.get(f"/v1/reports/{ids[0]}/download"), 409, "CONFLICT")
        assert fifth["status"] == "PENDING"
    finally:
        marks = ", ".join("?" * len(ids))
        db.execute(
            f"UPDATE reports SET status = 'FAILED', failure_reason = 'test' WHERE id IN ({marks})",
            ids,
        )
    envelope.error(own.get(f"/v1/reports/{ids[0]}/download"), 409, "CONFLICT")
    envelope.success(own.post("/v1/reports/custom", json=body), 202)


def test_idempotency_key_replays_the_first_answer(rest: Rest) -> None:
    body = {"dateRange": _range(rest), "format": "csv"}
    key = {"Idempotency-Key": f"report-{uuid.uuid4().hex}"}
    first = rest.post("/v1/reports/custom", json=body, headers=key)
    again = rest.post("/v1/reports/custom", json=body, headers=key)
    one = envelope.success(first, 202)["report"]
    two = envelope.success(again, 202)["report"]
    assert one["id"] == two["id"] and again.headers["Idempotent-Replayed"] == "true"
    other = rest.post("/v1/reports/custom", json={**body, "format": "pdf"}, headers=key)
    envelope.error(other, 409, "IDEMPOTENCY_KEY_REUSED")
