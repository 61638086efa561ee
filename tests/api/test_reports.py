"""ReportService through the real server, REST via Envoy and gRPC, on both
databases: every figure of daily, monthly and custom reports agrees to the
cent with the ledger, recomputed in plain Python from the rows
(tests/api/report_ledger.py); files read back with csv, openpyxl and pypdf."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from pypdf import PdfReader

from backoffice.v1 import report_service_pb2 as pb
from backoffice.v1 import report_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.api.report_ledger import Expected, Ledger, Sums
from tests.common import envelope
from tests.common.accounts import Db, fund, server_now
from tests.common.corrections import Customer, customer
from tests.common.external import ach, created, settle
from tests.common.money import deposit, open_account, transfer
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
def world(rest: Rest, stack: Stack, raw_channel: grpc.Channel) -> dict[str, Any]:
    """A customer with three accounts and a varied set of movements through the API:
    cash and check deposits (a hold), transfers, an overdraft fee, a cancelled
    scheduled transfer, an external transfer returned by the other bank (FAILED,
    with a returned-item fee)."""
    first_day = server_now(rest).date()
    owner: Customer = customer(rest, stack, raw_channel, funded=1_000)
    savings = open_account(rest, owner=owner.user_id, type_="SAVINGS", funded=40.25)
    tight = open_account(rest, owner=owner.user_id, funded=100, overdraft=500)
    deposit(rest, owner.account_id, 250, method="CHECK")  # held a while
    envelope.success(transfer(rest, owner.account_id, savings, 125.5), 201)
    envelope.success(transfer(rest, tight, savings, 150), 201)  # into the overdraft: a FEE
    tomorrow = (first_day + timedelta(days=1)).isoformat()
    scheduled = envelope.success(
        transfer(rest, owner.account_id, savings, 10, scheduled=True, scheduledDate=tomorrow), 201
    )["transaction"]["id"]
    envelope.success(rest.post(f"/v1/transactions/{scheduled}/cancel", json={}))
    returned = created(
        rest,
        owner.account_id,
        42.42,
        beneficiary=ach(number="555000001", accountType=None),
        rail="WIRE",
    )
    shown = settle(rest, returned)  # submitted (a wire fee), then returned by the other bank
    assert shown["status"] == "FAILED", shown
    envelope.success(transfer(rest, savings, owner.account_id, 0.99), 201)
    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": 1}))  # days closed
    return {
        "owner": owner,
        "accounts": sorted([owner.account_id, savings, tight]),
        "first_day": first_day,
        "last_day": server_now(rest).date(),
    }


def _minor(value: float) -> int:
    return int(Decimal(repr(value)).scaleb(2))


def _money_equal(shown: float, minor: int) -> None:
    assert _minor(shown) == minor, (shown, minor)


def _check_summary(summary: dict[str, Any], want: Expected) -> None:
    s = want.summary
    assert summary["transactionCount"] == len(s.txns)
    _money_equal(summary["totalDebits"], s.debit)
    _money_equal(summary["totalCredits"], s.credit)
    _money_equal(summary["netChange"], s.credit - s.debit)
    _money_equal(summary["feesCollected"], s.fees)
    _money_equal(summary["openingBalance"], want.opening)
    _money_equal(summary["closingBalance"], want.closing)
    assert summary["debitCount"] == s.debits and summary["creditCount"] == s.credits
    assert summary["failedCount"] == want.failed
    assert summary["cancelledCount"] == want.cancelled
    assert summary["holdsOutstandingCount"] == want.holds_count
    _money_equal(summary["holdsOutstandingAmount"], want.holds_minor)


def _check_types(totals: list[dict[str, Any]], want: dict[str, Sums]) -> None:
    shown = {t["transactionType"]: t for t in totals}
    assert sorted(shown) == sorted(want)
    for kind, sums in want.items():
        t = shown[kind]
        assert t["transactionCount"] == len(sums.txns), kind
        _money_equal(t["totalDebits"], sums.debit)
        _money_equal(t["totalCredits"], sums.credit)
        assert t["debitCount"] == sums.debits and t["creditCount"] == sums.credits


def _check_days(groups: list[dict[str, Any]], want: Expected, first: date, last: date) -> None:
    days = [(first + timedelta(days=n)) for n in range((last - first).days + 1)]
    assert [g["key"] for g in groups] == [d.isoformat() for d in days]
    for group, day in zip(groups, days, strict=True):
        sums = want.by_day.get(day, Sums())
        assert group["transactionCount"] == len(sums.txns), day
        _money_equal(group["totalDebits"], sums.debit)
        _money_equal(group["totalCredits"], sums.credit)
        _money_equal(group["feesCollected"], sums.fees)
        _money_equal(group["closingBalance"], want.closing_by_day[day])


def _as_of(report: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(report["asOf"].replace("Z", "+00:00")).replace(tzinfo=None)


# -- Daily and monthly ------------------------------------------------------------------
def test_daily_reports_agree_with_the_ledger_bank_wide_and_per_account(
    rest: Rest, db: Db, world: dict[str, Any]
) -> None:
    day = world["first_day"]
    while day <= world["last_day"]:
        for account_id in ["", *world["accounts"]]:
            params = {"date": day.isoformat()}
            if account_id:
                params["account_id"] = account_id
            data = envelope.success(rest.get("/v1/reports/daily", params=params))
            report = data["report"]
            want = Ledger(db).expected(
                day, day, _as_of(report), account_ids=[account_id] if account_id else None
            )
            assert report["type"] == "DAILY" and report["status"] == "COMPLETED"
            assert report["currency"] == "USD" and report["period"] == {
                "from": day.isoformat(),
                "to": day.isoformat(),
            }
            assert report["id"].startswith(f"rpt_daily_{day.isoformat()}_USD")
            _check_summary(report["summary"], want)
            _check_types(report["totalsByType"], want.by_type)
            _check_days(report["groups"], want, day, day)
            if not account_id:
                assert "USD" in [r["currency"] for r in data["reports"]]
        day += timedelta(days=1)


def test_a_closed_day_is_summed_again_when_postings_arrive_in_it(
    rest: Rest, db: Db, world: dict[str, Any]
) -> None:
    day = world["first_day"]

    def check() -> None:
        report = envelope.success(rest.get("/v1/reports/daily", params={"date": day.isoformat()}))[
            "report"
        ]
        want = Ledger(db).expected(day, day, _as_of(report))
        _check_summary(report["summary"], want)
        _check_types(report["totalsByType"], want.by_type)

    check()  # the day is closed: its totals are kept
    kept = db.execute("SELECT postings FROM report_days WHERE day = ?", (day.isoformat(),))
    assert kept and kept[0][0] > 0
    check()  # read back from what was kept
    at = datetime.combine(day, datetime.min.time()) + timedelta(hours=1)
    fund(db, world["owner"].account_id, 777, at)  # written into the past by hand
    fund(db, world["owner"].account_id, -777, at)
    check()  # summed afresh: the count of the day's postings changed
    again = db.execute("SELECT postings FROM report_days WHERE day = ?", (day.isoformat(),))
    assert again[0][0] == kept[0][0] + 4


def test_monthly_report_has_the_per_day_series(rest: Rest, db: Db, world: dict[str, Any]) -> None:
    month = world["last_day"].isoformat()[:7]
    for account_id in ["", world["owner"].account_id]:
        params = {"month": month, **({"accountId": account_id} if account_id else {})}
        report = envelope.success(rest.get("/backoffice/v1/reports/monthly", params=params))[
            "report"
        ]
        first = date.fromisoformat(month + "-01")
        last = date.fromisoformat(report["period"]["to"])
        assert last == world["last_day"]
        want = Ledger(db).expected(
            first, last, _as_of(report), account_ids=[account_id] if account_id else None
        )
        _check_summary(report["summary"], want)
        _check_types(report["totalsByType"], want.by_type)
        _check_days(report["groups"], want, first, last)
        s = report["summary"]
        _money_equal(
            s["closingBalance"],
            _minor(s["openingBalance"]) + _minor(s["totalCredits"]) - _minor(s["totalDebits"]),
        )


def test_daily_report_over_grpc(grpc_channel: grpc.Channel, db: Db, world: dict[str, Any]) -> None:
    stub = pb_grpc.ReportServiceStub(grpc_channel)
    day = world["first_day"]
    account_id = world["owner"].account_id
    report = stub.GetDailyReport(
        pb.GetDailyReportRequest(date=day.isoformat(), account_id=account_id)
    ).report
    as_of = report.as_of.ToDatetime()
    want = Ledger(db).expected(day, day, as_of, account_ids=[account_id])
    assert report.summary.transaction_count == len(want.summary.txns)
    _money_equal(report.summary.total_debits, want.summary.debit)
    _money_equal(report.summary.total_credits, want.summary.credit)
    _money_equal(report.summary.opening_balance, want.opening)
    _money_equal(report.summary.closing_balance, want.closing)
    assert report.summary.cancelled_count == want.cancelled


def test_seed_000_report_paths_answer(rest: Rest) -> None:
    envelope.success(rest.get("/backoffice/v1/reports/daily"))
    envelope.success(rest.get("/backoffice/v1/reports/monthly"))
    today = server_now(rest).date().isoformat()
    body = {"dateRange": {"from": today, "to": today}}
    data = envelope.success(rest.post("/backoffice/v1/reports/custom", json=body), 202)
    assert data["report"]["status"] == "PENDING"
    _wait(rest, data["report"]["id"])


# -- Custom -----------------------------------------------------------------------------
def _wait(session: Rest, report_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        report = envelope.success(session.get(f"/v1/reports/{report_id}"))["report"]
        if report["status"] in ("COMPLETED", "FAILED"):
            return report  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, report
        time.sleep(0.1)


def _custom(session: Rest, **body: Any) -> dict[str, Any]:
    data = envelope.success(session.post("/v1/reports/custom", json=body), 202)
    report = data["report"]
    assert report["status"] == "PENDING" and report["id"].startswith("rpt_")
    assert "summary" not in report and "downloadUrl" not in report
    return _wait(session, report["id"])


@pytest.mark.parametrize("group_by", ["DAY", "WEEK", "MONTH", "TYPE", "ACCOUNT"])
def test_custom_report_groups_agree_with_the_ledger(
    rest: Rest, db: Db, world: dict[str, Any], group_by: str
) -> None:
    first, last = world["first_day"], world["last_day"]
    accounts = world["accounts"]
    report = _custom(
        rest,
        dateRange={"from": first.isoformat(), "to": last.isoformat()},
        accountIds=accounts,
        groupBy=group_by,
    )
    assert report["status"] == "COMPLETED", report
    assert report["downloadUrl"] == f"/v1/reports/{report['id']}/download"
    want = Ledger(db).expected(first, last, _as_of(report), account_ids=accounts)
    _check_summary(report["summary"], want)
    _check_types(report["totalsByType"], want.by_type)
    groups = {g["key"]: g for g in report["groups"]}
    # The movements made are all there: the figures compared are not zeros.
    assert want.failed >= 1 and want.cancelled >= 1 and want.summary.fees > 0
    assert {"DEPOSIT", "TRANSFER", "FEE", "EXTERNAL_TRANSFER"} <= set(want.by_type)
    assert (
        Ledger(db)
        .expected(first, first, datetime.combine(first, datetime.max.time()), account_ids=accounts)
        .holds_count
        >= 1
    )
    if group_by == "DAY":
        _check_days(report["groups"], want, first, last)
    elif group_by == "TYPE":
        assert sorted(groups) == sorted(want.by_type)
        for kind, sums in want.by_type.items():
            _money_equal(groups[kind]["feesCollected"], sums.fees)
            assert groups[kind]["transactionCount"] == len(sums.txns)
    elif group_by == "ACCOUNT":
        assert sorted(groups) == sorted(want.by_account)
        for account_id, sums in want.by_account.items():
            _money_equal(groups[account_id]["totalDebits"], sums.debit)
            _money_equal(groups[account_id]["totalCredits"], sums.credit)
            _money_equal(groups[account_id]["feesCollected"], sums.fees)
    else:
        keys = sorted(
            {
                f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}"
                if group_by == "WEEK"
                else d.isoformat()[:7]
                for d in (first + timedelta(days=n) for n in range((last - first).days + 1))
            }
        )
        assert sorted(groups) == keys
        debits = sum(_minor(g["totalDebits"]) for g in groups.values())
        assert debits == want.summary.debit
        last_key = sorted(groups)[-1]
        _money_equal(groups[last_key]["closingBalance"], want.closing)


def test_custom_report_of_some_types(rest: Rest, db: Db, world: dict[str, Any]) -> None:
    first, last = world["first_day"], world["last_day"]
    types = ["TRANSFER", "FEE"]
    report = _custom(
        rest,
        dateRange={"from": first.isoformat(), "to": last.isoformat()},
        accountIds=world["accounts"],
        types=types,
    )
    want = Ledger(db).expected(
        first, last, _as_of(report), account_ids=world["accounts"], types=types
    )
    _check_summary(report["summary"], want)
    _check_types(report["totalsByType"], want.by_type)
    _check_days(report["groups"], want, first, last)
    assert report["transactionTypes"] == sorted(types)


@pytest.mark.parametrize("file_format", ["json", "csv", "xlsx", "pdf"])
def test_files_read_back(rest: Rest, db: Db, world: dict[str, Any], file_format: str) -> None:
    first, last = world["first_day"], world["last_day"]
    report = _custom(
        rest,
        dateRange={"from": first.isoformat(), "to": last.isoformat()},
        accountIds=world["accounts"],
        format=file_format.upper(),
    )
    assert report["format"] == file_format
    response = rest.get(f"/v1/reports/{report['id']}/download")
    assert response.status_code == 200
    envelope.assert_no_internal_headers(response)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{report["id"]}.{file_format}"'
    )
    want = Ledger(db).expected(first, last, _as_of(report), account_ids=world["accounts"])
    s = want.summary
    expected_money = {
        "Opening balance": want.opening,
        "Total credits": s.credit,
        "Total debits": s.debit,
        "Closing balance": want.closing,
        "Fees collected": s.fees,
    }
    content = response.content
    if file_format == "json":
        assert response.headers["Content-Type"] == "application/json"
        body = json.loads(content)
        assert "success" not in body and body["id"] == report["id"]
        _check_summary(body["summary"], want)
    elif file_format == "csv":
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
        metrics = {r[0]: r[1] for r in rows if len(r) == 2}
        for label, minor in expected_money.items():
            assert Decimal(metrics[label]).scaleb(2) == minor, label
        assert int(metrics["Transactions"]) == len(s.txns)
    elif file_format == "xlsx":
        assert response.headers["Content-Type"].endswith("spreadsheetml.sheet")
        book = load_workbook(io.BytesIO(content))
        sheet = book["Summary"]
        cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=7) if row[0].value}
        for label, minor in expected_money.items():
            cell = cells[label]
            assert isinstance(cell.value, (int, float)), label
            assert _minor(float(cell.value)) == minor, label
            assert "USD" in cell.number_format and "0.00" in cell.number_format
        assert book["By type"].max_row == 1 + len(want.by_type)
    else:
        assert response.headers["Content-Type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(content))
        text = "\n".join(page.extract_text() for page in reader.pages)
        assert report["id"] in text and f"Page 1 of {len(reader.pages)}" in text
        for label, minor in expected_money.items():
            assert f"{label} {Decimal(minor).scaleb(-2):.2f}" in text, label


def test_custom_report_over_grpc_and_its_file(
    grpc_channel: grpc.Channel, world: dict[str, Any]
) -> None:
    stub = pb_grpc.ReportServiceStub(grpc_channel)
    day = world["first_day"].isoformat()
    request = pb.CreateCustomReportRequest(account_ids=world["accounts"], format="csv")
    getattr(request.date_range, "MergeFrom")(  # noqa: B009 (`from` is a keyword)
        type(request.date_range)(**{"from": day, "to": day})
    )
    created_report = stub.CreateCustomReport(request).report
    assert created_report.status == 1  # PENDING
    deadline = time.monotonic() + 30
    while True:
        report = stub.GetReport(pb.GetReportRequest(report_id=created_report.id)).report
        if report.status == 3:
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    body, call = stub.DownloadReport.with_call(pb.DownloadReportRequest(report_id=report.id))
    assert body.content_type == "text/csv; charset=utf-8"
    assert body.data.startswith(b"Report," + report.id.encode())
    headers = dict(call.initial_metadata())
    assert headers["content-disposition"] == f'attachment; filename="{report.id}.csv"'
