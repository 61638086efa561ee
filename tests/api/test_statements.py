"""Monthly statements through the real server (REST via Envoy and gRPC, both
databases): a month closes when the sandbox clock passes its end, every
account open during it gets one statement, its figures agree with the
ledger (GetAccountBalance as_of the period's ends) and with its PDF, read
back with pypdf."""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from pypdf import PdfReader

from backoffice.v1 import account_service_pb2 as account_pb
from backoffice.v1 import account_service_pb2_grpc as account_grpc
from backoffice.v1 import statement_service_pb2 as pb
from backoffice.v1 import statement_service_pb2_grpc as pb_grpc
from server.domain.statement_months import CLOSE_GRACE, Month
from server.run import Stack
from tests.common import envelope
from tests.common.money import deposit, open_account, query, transfer
from tests.common.principals import CUSTOMER_SCOPES, Caller, create_user, user_caller
from tests.conftest import Rest

StatusCode = grpc.StatusCode


def _now(rest: Rest) -> datetime:
    stamp = envelope.success(rest.get("/v1/sandbox/clock"))["clock"]["now"]
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).replace(tzinfo=None)


def _close_month(rest: Rest) -> Month:
    """Moves the sandbox clock past the current month's close; the month closed."""
    now = _now(rest)
    month = Month.of(now)
    closes = datetime.combine(month.next().start, datetime.min.time()) + CLOSE_GRACE
    days = (closes - now).days + 1
    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": days}))
    return month


def _proto(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment.replace(tzinfo=UTC))
    return stamp


def _money(value: float) -> str:
    """As the PDF prints an amount: `1,234.50 USD`."""
    return f"{value:,.2f} USD"


@pytest.fixture(scope="module")
def people(stack: Stack, rest: Rest, raw_channel: grpc.Channel) -> Iterator[dict[str, Caller]]:
    callers = {
        name: user_caller(
            stack,
            raw_channel,
            name,
            create_user(rest, "CUSTOMER", f"{name.title()} Statement"),
            CUSTOMER_SCOPES,
        )
        for name in ("carol", "dave")
    }
    try:
        yield callers
    finally:
        for one in callers.values():
            one.close()


@pytest.fixture(scope="module")
def months(rest: Rest, people: dict[str, Caller]) -> dict[str, Any]:
    """Carol's checking and savings through two closed months; Dave's account."""
    carol, dave = people["carol"].user_id, people["dave"].user_id
    assert carol and dave
    daves = open_account(rest, owner=dave, funded=10)
    checking = open_account(rest, owner=carol, funded=500)
    savings = open_account(rest, owner=carol, type_="SAVINGS")
    envelope.success(transfer(rest, checking, savings, 120.25), 201)
    deposit(rest, savings, 30)
    first = _close_month(rest)
    envelope.success(transfer(rest, savings, checking, 50.5), 201)
    deposit(rest, checking, 9.99)
    second = _close_month(rest)
    return {
        "checking": checking,
        "savings": savings,
        "first": first,
        "second": second,
        "dave": daves,
    }


def _list(session: Rest, account_id: str, **params: Any) -> dict[str, Any]:
    return envelope.success(session.get(f"/v1/accounts/{account_id}/statements", params=params))


def _instant_end(day: date) -> datetime:
    return datetime.combine(day, datetime.max.time())


def test_statements_of_closed_months_agree_with_the_ledger(
    stack: Stack, rest: Rest, grpc_channel: grpc.Channel, months: dict[str, Any]
) -> None:
    balances = account_grpc.AccountServiceStub(grpc_channel)
    for account_id in (months["checking"], months["savings"]):
        listed = _list(rest, account_id)["statements"]
        assert [s["period"] for s in listed] == [months["second"].label, months["first"].label]
        newer, older = listed
        assert older["openingBalance"] == 0
        assert newer["openingBalance"] == older["closingBalance"]
        for statement in listed:
            assert statement["id"].startswith("stm_")
            assert statement["accountId"] == account_id
            number = query(
                stack, "SELECT account_number FROM accounts WHERE id = %s", (account_id,)
            )
            assert statement["accountNumber"] == "****" + number[0][0][-4:]
            assert statement["currency"] == "USD"
            start = date.fromisoformat(statement["periodStart"])
            end = date.fromisoformat(statement["periodEnd"])
            assert start.day == 1 and (end + timedelta(days=1)).day == 1
            assert statement["periodStart"][:7] == statement["period"]
            flows = statement["totalCredits"] - statement["totalDebits"]
            assert round((statement["openingBalance"] + flows) * 100) == round(
                statement["closingBalance"] * 100
            )
            closing = balances.GetAccountBalance(
                account_pb.GetAccountBalanceRequest(
                    account_id=account_id, as_of=_proto(_instant_end(end))
                ),
                timeout=30,
            ).balance.balance
            assert closing == statement["closingBalance"]
            before = datetime.combine(start, datetime.min.time()) - timedelta(microseconds=1)
            opening = envelope.success(
                rest.get(
                    f"/v1/accounts/{account_id}/balance",
                    params={"asOf": before.isoformat(timespec="microseconds") + "Z"},
                )
            )["balance"]["balance"]
            assert opening == statement["openingBalance"]
    checking = _list(rest, months["checking"])["statements"]
    assert checking[1]["creditCount"] == 1 and checking[1]["debitCount"] == 1
    assert checking[1]["totalCredits"] == 500 and checking[1]["totalDebits"] == 120.25
    assert checking[0]["creditCount"] == 2 and checking[0]["totalCredits"] == 60.49


def test_one_statement_per_account_and_month(
    stack: Stack, rest: Rest, people: dict[str, Caller], months: dict[str, Any]
) -> None:
    account_id = months["checking"]
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda _: _list(rest, account_id), range(4)))
    assert len({tuple(s["id"] for s in page["statements"]) for page in pages}) == 1
    rows = query(
        stack,
        "SELECT period, COUNT(*) FROM account_statements WHERE account_id = %s GROUP BY period",
        (account_id,),
    )
    assert sorted(rows) == sorted([(months["first"].label, 1), (months["second"].label, 1)])
    # The clock's advance made statements of accounts nobody listed (the
    # sweeper's first batches; the rest at the next sweeps or when listed).
    unlisted = query(
        stack,
        "SELECT COUNT(*) FROM account_statements WHERE period = %s AND account_id NOT IN (%s, %s)",
        (months["first"].label, months["checking"], months["savings"]),
    )
    assert unlisted[0][0] >= 1
    assert [s["period"] for s in _list(people["dave"].rest, months["dave"])["statements"]] == [
        months["second"].label,
        months["first"].label,
    ]


def test_get_and_paging_over_rest_and_grpc(
    rest: Rest, grpc_channel: grpc.Channel, people: dict[str, Caller], months: dict[str, Any]
) -> None:
    account_id = months["savings"]
    listed = _list(rest, account_id)["statements"]
    first_page = _list(rest, account_id, limit=1)
    assert [s["id"] for s in first_page["statements"]] == [listed[0]["id"]]
    assert first_page["pagination"]["hasNext"] is True
    token = first_page["pagination"]["nextPageToken"]
    following = _list(rest, account_id, limit=1, pageToken=token)
    assert [s["id"] for s in following["statements"]] == [listed[1]["id"]]
    assert following["pagination"]["hasNext"] is False
    assert [s["id"] for s in _list(rest, account_id, limit=1, page=2)["statements"]] == [
        listed[1]["id"]
    ]
    one = envelope.success(people["carol"].rest.get(f"/v1/statements/{listed[0]['id']}"))
    assert one["statement"] == listed[0]
    stub = pb_grpc.StatementServiceStub(grpc_channel)
    reply = stub.GetStatement(pb.GetStatementRequest(statement_id=listed[1]["id"]), timeout=30)
    assert reply.statement.period == listed[1]["period"]
    assert reply.statement.closing_balance == listed[1]["closingBalance"]
    page = stub.ListStatements(pb.ListStatementsRequest(account_id=account_id), timeout=30)
    assert [s.id for s in page.statements] == [s["id"] for s in listed]


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_shows_the_statement(
    rest: Rest, people: dict[str, Caller], months: dict[str, Any]
) -> None:
    for statement in _list(rest, months["checking"])["statements"]:
        response = people["carol"].rest.get(f"/v1/statements/{statement['id']}/download")
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="statement_{months["checking"]}_{statement["period"]}.pdf"'
        )
        envelope.assert_no_internal_headers(response)
        assert response.content.startswith(b"%PDF")
        text = _pdf_text(response.content)
        assert statement["accountNumber"] in text
        assert f"{statement['periodStart']} to {statement['periodEnd']}" in text
        assert "Opening balance" in text and "Closing balance" in text
        assert _money(statement["openingBalance"]) in text
        assert _money(statement["closingBalance"]) in text
        assert "Page 1 of" in text


def test_the_pdf_over_grpc(grpc_channel: grpc.Channel, months: dict[str, Any], rest: Rest) -> None:
    statement = _list(rest, months["savings"])["statements"][0]
    stub = pb_grpc.StatementServiceStub(grpc_channel)
    body, call = stub.DownloadStatement.with_call(
        pb.DownloadStatementRequest(statement_id=statement["id"]), timeout=30
    )
    assert body.content_type == "application/pdf"
    headers = dict(call.initial_metadata())
    assert headers["content-disposition"].endswith(f'_{statement["period"]}.pdf"')
    text = _pdf_text(body.data)
    assert _money(statement["openingBalance"]) in text
    assert _money(statement["closingBalance"]) in text


def test_refusals(
    rest: Rest, people: dict[str, Caller], months: dict[str, Any], grpc_channel: grpc.Channel
) -> None:
    carols = _list(rest, months["checking"])["statements"][0]["id"]
    dave = people["dave"]
    envelope.error(dave.rest.get(f"/v1/accounts/{months['checking']}/statements"), 404, "NOT_FOUND")
    envelope.error(dave.rest.get(f"/v1/statements/{carols}"), 404, "NOT_FOUND")
    envelope.error(dave.rest.get(f"/v1/statements/{carols}/download"), 404, "NOT_FOUND")
    for bad in ("stm_doesnotexist0000", "nope", "acc_" + carols[4:]):
        envelope.error(rest.get(f"/v1/statements/{bad}"), 404, "NOT_FOUND")
        envelope.error(rest.get(f"/v1/statements/{bad}/download"), 404, "NOT_FOUND")
    envelope.error(rest.get("/v1/accounts/acc_unknown00000000/statements"), 404, "NOT_FOUND")
    envelope.error(
        rest.get(f"/v1/accounts/{months['checking']}/statements", params={"pageToken": "x.y"}),
        422,
        "VALIDATION_ERROR",
    )
    stub = pb_grpc.StatementServiceStub(dave.channel)
    for call in (
        lambda: stub.GetStatement(pb.GetStatementRequest(statement_id=carols), timeout=30),
        lambda: stub.DownloadStatement(
            pb.DownloadStatementRequest(statement_id=carols), timeout=30
        ),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            call()
        envelope.grpc_error(caught.value, StatusCode.NOT_FOUND, "NOT_FOUND")


def test_an_account_opened_this_month_has_none_yet(rest: Rest, people: dict[str, Caller]) -> None:
    fresh = open_account(rest, owner=people["dave"].user_id or "", funded=5)
    assert _list(rest, fresh)["statements"] == []
    assert _list(rest, fresh)["pagination"]["totalCount"] == 0
