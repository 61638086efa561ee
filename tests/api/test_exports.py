"""ExportTransactions through the real server: each format read back by an
independent parser and compared with the ledger, over REST via Envoy and
gRPC, on both databases; the refusals; a large CSV's server memory."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import openpyxl
import pypdf
import pytest
from ofxtools.Parser import OFXTree

from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.api.export_load import load_rows
from tests.bench import export_rows
from tests.bench.probes import tree_rss_mb
from tests.common import envelope
from tests.common.accounts import Db, open_account, server_now
from tests.common.principals import CUSTOMER_SCOPES, Caller, create_user, user_caller
from tests.conftest import Rest

PATHS = ("/v1/transactions/export", "/api/transactions/export", "/api/v1/transactions/export")
FORMULA = '=HYPERLINK("http://evil.example","x")'


@dataclass
class Movement:
    transaction_id: str
    number: str
    amount: Decimal  # signed, as the exported account sees it
    balance: Decimal


@dataclass
class World:
    owner: Caller
    other: Caller
    checking: str
    savings: str
    other_account: str
    today: date


@pytest.fixture(scope="module")
def db(stack: Stack) -> Iterator[Db]:
    database = Db(stack)
    try:
        yield database
    finally:
        database.close()


def _created(response: Any) -> dict[str, Any]:
    return envelope.success(response, 201)["transaction"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def world(stack: Stack, rest: Rest, raw_channel: grpc.Channel) -> Iterator[World]:
    owner_id = create_user(rest, "CUSTOMER", "Erin Exporter")
    other_id = create_user(rest, "CUSTOMER", "Oscar Other")
    checking = open_account(rest, owner_id)["id"]
    savings = open_account(rest, owner_id, "SAVINGS")["id"]
    other_account = open_account(rest, other_id)["id"]
    owner = user_caller(stack, raw_channel, "owner", owner_id, CUSTOMER_SCOPES)
    other = user_caller(stack, raw_channel, "other", other_id, CUSTOMER_SCOPES)
    deposit = {"accountId": checking, "amount": 500, "method": "CASH", "description": "Salary"}
    _created(rest.post("/v1/transactions/deposit", json=deposit))
    out = {"fromAccountId": checking, "toAccountId": savings, "amount": 120.25}
    _created(owner.rest.post("/v1/transactions/transfer", json={**out, "description": FORMULA}))
    back = {"fromAccountId": savings, "toAccountId": checking, "amount": 20}
    _created(owner.rest.post("/v1/transactions/transfer", json={**back, "description": "Back"}))
    fee = {"type": "FEE", "accountId": checking, "amount": 3, "description": "Paper statement"}
    _created(rest.post("/v1/transactions", json=fee))
    # Cash at a branch is paid out by a teller (staff), not the customer's token.
    withdrawal = {"accountId": checking, "amount": 40, "method": "BRANCH", "location": "Main St"}
    _created(rest.post("/api/transactions/withdrawal", json=withdrawal))
    try:
        yield World(owner, other, checking, savings, other_account, server_now(rest).date())
    finally:
        owner.close()
        other.close()


def _ledger(rest: Rest, account_id: str) -> list[Movement]:
    """The account's completed movements, oldest first, from the history API."""
    data = envelope.success(
        rest.get("/v1/transactions", params={"accountId": account_id, "limit": 100, "order": "asc"})
    )
    found = []
    for item in data["transactions"]:
        if item["status"] != "COMPLETED":
            continue
        moved = Decimal(str(item["amount"])) + Decimal(str(item.get("fee") or 0))
        signed = moved if item["direction"] == "CREDIT" else -moved
        found.append(
            Movement(
                item["id"], item["transactionNumber"], signed, Decimal(str(item["balanceAfter"]))
            )
        )
    return found


def _export(caller: Caller, account_id: str, fmt: str, path: str = PATHS[0], **params: str) -> Any:
    query = {"accountId": account_id, "format": fmt, **params}
    return caller.rest.get(path, params=query, stream=True)


def _file(response: Any, content_type: str, filename_ext: str) -> bytes:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == content_type
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="transactions_acc_')
    assert disposition.endswith(f'.{filename_ext}"')
    envelope.assert_no_internal_headers(response)
    return bytes(response.content)


def test_csv_matches_the_ledger_over_every_path(rest: Rest, world: World) -> None:
    ledger = _ledger(rest, world.checking)
    assert len(ledger) == 5
    for path in PATHS:
        body = _file(
            _export(world.owner, world.checking, "csv", path), "text/csv; charset=utf-8", "csv"
        )
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
        assert [r["reference"] for r in rows] == [m.number for m in ledger]
        assert [Decimal(r["amount"]) for r in rows] == [m.amount for m in ledger]
        assert [Decimal(r["balance"]) for r in rows] == [m.balance for m in ledger]
        for row in rows:
            assert row["currency"] == "USD"
            debit, credit = row["debit"], row["credit"]
            assert (Decimal(credit) if credit else -Decimal(debit)) == Decimal(row["amount"])
            assert date.fromisoformat(row["date"]) <= world.today
        assert [r["type"] for r in rows] == ["DEPOSIT", "TRANSFER", "TRANSFER", "FEE", "WITHDRAWAL"]
        # The formula is written as text: a leading quote.
        assert rows[1]["description"] == "'" + FORMULA
        assert b"." in body and b"e+" not in body  # plain decimals, never floats


def test_xlsx_has_typed_cells_and_matches_the_ledger(rest: Rest, world: World) -> None:
    ledger = _ledger(rest, world.checking)
    body = _file(
        _export(world.owner, world.checking, "XLSX"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    )
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    table = list(sheet.iter_rows())
    heading = next(i for i, row in enumerate(table) if row[0].value == "date")
    lines = table[heading + 1 :]
    assert len(lines) == len(ledger)
    for row, movement in zip(lines, ledger, strict=True):
        assert isinstance(row[0].value, datetime)
        assert row[1].value == movement.number
        amount, balance = row[7], row[8]
        assert amount.data_type == "n" and balance.data_type == "n"
        assert "USD" in amount.number_format and "0.00" in amount.number_format
        assert Decimal(str(amount.value)) == movement.amount
        assert Decimal(str(balance.value)) == movement.balance
    assert lines[1][3].value == FORMULA and lines[1][3].data_type == "s"  # text, not a formula
    labels = {row[0].value: row for row in table[:heading]}
    closing = labels["Closing balance"][1]
    assert Decimal(str(closing.value)) == ledger[-1].balance and closing.data_type == "n"
    assert Decimal(str(labels["Opening balance"][1].value)) == 0


def test_pdf_statement_shows_account_period_balances_and_references(
    rest: Rest, world: World
) -> None:
    ledger = _ledger(rest, world.checking)
    start = (world.today - timedelta(days=3)).isoformat()
    body = _file(
        _export(world.owner, world.checking, "pdf", startDate=start), "application/pdf", "pdf"
    )
    reader = pypdf.PdfReader(io.BytesIO(body))
    text = "\n".join(page.extract_text() for page in reader.pages)
    account = envelope.success(world.owner.rest.get(f"/v1/accounts/{world.checking}"))["account"]
    masked = "****" + account["accountNumber"][-4:]
    assert masked in text
    assert account["accountNumber"] not in text
    assert "Erin Exporter" in text
    assert f"{start} to {world.today.isoformat()}" in text
    assert "Opening balance 0.00 USD" in text
    assert f"Closing balance {ledger[-1].balance:,.2f} USD" in text
    for movement in ledger:
        assert movement.number in text
    assert f"Page 1 of {len(reader.pages)}" in text


@pytest.mark.parametrize("fmt", ["ofx", "qbo"])
def test_ofx_and_qbo_parse_and_match_the_ledger(rest: Rest, world: World, fmt: str) -> None:
    ledger = _ledger(rest, world.checking)
    content_type = "application/x-ofx" if fmt == "ofx" else "application/vnd.intu.qbo"
    body = _file(_export(world.owner, world.checking, fmt), content_type, fmt)
    if fmt == "qbo":
        assert b"<INTU.BID>" in body
        assert body.startswith(b"OFXHEADER:100")
    else:
        assert body.startswith(b"<?xml")
    tree = OFXTree()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ofxtools warns that it skips INTU.BID
        tree.parse(io.BytesIO(body))
        statement = tree.convert().statements[0]
    assert statement.account.acctid == world.checking.removeprefix("acc_")
    assert statement.curdef == "USD"
    assert statement.ledgerbal.balamt == ledger[-1].balance
    found = statement.transactions
    assert [t.fitid for t in found] == [m.transaction_id for m in ledger]
    assert [t.trnamt for t in found] == [m.amount for m in ledger]
    assert [t.trntype for t in found] == ["DEP", "XFER", "XFER", "FEE", "CASH"]
    assert [t.refnum for t in found] == [m.number for m in ledger]


def test_grpc_streams_the_same_file_with_its_disposition(
    rest: Rest, stack: Stack, world: World, raw_channel: grpc.Channel
) -> None:
    stub = pb_grpc.TransactionServiceStub(raw_channel)
    stream = stub.ExportTransactions(
        pb.ExportTransactionsRequest(account_id=world.checking, format="csv"),
        metadata=[("authorization", f"Bearer {world.owner.token}")],
        timeout=30,
    )
    chunks = list(stream)
    assert chunks and chunks[0].content_type == "text/csv; charset=utf-8"
    metadata = dict(stream.initial_metadata())
    assert metadata["content-disposition"] == (
        f'attachment; filename="transactions_{world.checking}_'
        f'{(world.today - timedelta(days=30)).isoformat()}_{world.today.isoformat()}.csv"'
    )
    body = b"".join(chunk.data for chunk in chunks)
    assert body == _file(
        _export(world.owner, world.checking, "csv"), "text/csv; charset=utf-8", "csv"
    )


def test_staff_export_any_account_and_the_period_bounds_the_lines(
    rest: Rest, world: World, db: Db
) -> None:
    # The sandbox client acts as ADMIN: any customer's account.
    response = rest.get(PATHS[0], params={"accountId": world.savings})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [Decimal(r["amount"]) for r in rows] == [Decimal("120.25"), Decimal("-20.00")]
    # A period before the movements: no line, the balances of before.
    old = {"startDate": "2020-01-01", "endDate": "2020-12-31"}
    response = rest.get(PATHS[0], params={"accountId": world.checking, **old})
    assert response.content.decode().strip() == (
        "date,reference,type,description,counterparty,debit,credit,amount,balance,currency"
    )


def test_refusals_are_ordinary_errors(
    stack: Stack, anonymous: Rest, rest: Rest, world: World
) -> None:
    owner, account = world.owner, world.checking
    today = world.today
    cases = [
        ({"format": "docx"}, 400, "INVALID_REQUEST", "format"),
        ({"startDate": "2026-13-01"}, 422, "VALIDATION_ERROR", "startDate"),
        ({"endDate": "yesterday"}, 422, "VALIDATION_ERROR", "endDate"),
        (
            {"startDate": today.isoformat(), "endDate": (today - timedelta(days=1)).isoformat()},
            422,
            "VALIDATION_ERROR",
            "endDate",
        ),
        (
            {"startDate": (today - timedelta(days=366)).isoformat()},
            422,
            "VALIDATION_ERROR",
            "startDate",
        ),
        ({"endDate": (today + timedelta(days=1)).isoformat()}, 422, "VALIDATION_ERROR", "endDate"),
    ]
    for params, status, code, field in cases:
        response = owner.rest.get(PATHS[0], params={"accountId": account, **params})
        envelope.error(response, status, code, field)
    # 366 days, both ends included, is allowed.
    allowed = {"startDate": (today - timedelta(days=365)).isoformat()}
    assert owner.rest.get(PATHS[0], params={"accountId": account, **allowed}).status_code == 200
    envelope.error(owner.rest.get(PATHS[0], params={}), 422, "VALIDATION_ERROR", "accountId")
    # Another customer's account is not found, like an unknown one.
    envelope.error(
        world.other.rest.get(PATHS[1], params={"accountId": account}), 404, "TXN002", "accountId"
    )
    envelope.error(
        owner.rest.get(PATHS[1], params={"accountId": "acc_nope"}), 404, "TXN002", "accountId"
    )
    envelope.error(anonymous.get(PATHS[2], params={"accountId": account}), 401, "UNAUTHORIZED")


def test_refusals_over_grpc(raw_channel: grpc.Channel, world: World) -> None:
    stub = pb_grpc.TransactionServiceStub(raw_channel)
    auth = [("authorization", f"Bearer {world.owner.token}")]
    cases = [
        (
            pb.ExportTransactionsRequest(account_id=world.checking, format="doc"),
            auth,
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_REQUEST",
        ),
        (
            pb.ExportTransactionsRequest(account_id=world.other_account),
            auth,
            grpc.StatusCode.NOT_FOUND,
            "TXN002",
        ),
        (
            pb.ExportTransactionsRequest(account_id=world.checking),
            [],
            grpc.StatusCode.UNAUTHENTICATED,
            "UNAUTHORIZED",
        ),
    ]
    for request, metadata, code, reason in cases:
        with pytest.raises(grpc.RpcError) as caught:
            list(stub.ExportTransactions(request, metadata=metadata, timeout=30))
        envelope.grpc_error(caught.value, code, reason)


def test_a_closed_account_still_exports(rest: Rest, world: World) -> None:
    owner_id = create_user(rest, "CUSTOMER", "Closing Carla")
    account = open_account(rest, owner_id)["id"]
    deposit = {"accountId": account, "amount": 10, "method": "CASH"}
    _created(rest.post("/v1/transactions/deposit", json=deposit))
    withdrawal = {"accountId": account, "amount": 10, "method": "BRANCH", "location": "HQ"}
    _created(rest.post("/api/transactions/withdrawal", json=withdrawal))
    envelope.success(rest.post(f"/v1/accounts/{account}/close", json={"reason": "moving"}))
    response = rest.get(PATHS[0], params={"accountId": account, "format": "ofx"})
    assert response.status_code == 200, response.text
    tree = OFXTree()
    tree.parse(io.BytesIO(response.content))
    statement = tree.convert().statements[0]
    assert len(statement.transactions) == 2 and statement.ledgerbal.balamt == 0


def test_a_pdf_over_its_cap_is_refused_with_the_count(
    rest: Rest, world: World, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner_id = create_user(rest, "CUSTOMER", "Pat Pages")
    account = open_account(rest, owner_id)["id"]
    start = server_now(rest) - timedelta(days=2)
    load_rows(db, account, 20_001, start)
    response = rest.get(PATHS[0], params={"accountId": account, "format": "pdf"})
    error = envelope.error(response, 422, "VALIDATION_ERROR", "startDate")
    assert "20000" in error["message"] and "20001" in error["message"]
    # The same period as csv streams.
    response = rest.get(PATHS[0], params={"accountId": account})
    assert response.status_code == 200
    assert response.content.count(b"\r\n") == 20_002


LARGE_ROWS = 200_000
RSS_GROWTH_MAX_MB = 60.0


def test_a_large_csv_streams_with_bounded_server_memory(rest: Rest, stack: Stack, db: Db) -> None:
    owner_id = create_user(rest, "CUSTOMER", "Larry Large")
    account = open_account(rest, owner_id)["id"]
    load_rows(db, account, LARGE_ROWS, server_now(rest) - timedelta(days=3))
    server_pid = stack.processes[0].pid
    before = tree_rss_mb(server_pid)
    peak = before
    size = lines = 0
    with rest.get(PATHS[0], params={"accountId": account}, stream=True) as response:
        assert response.status_code == 200
        tail = b""
        for chunk in response.iter_content(chunk_size=256 * 1024):
            size += len(chunk)
            lines += chunk.count(b"\n")
            tail = (tail + chunk)[-200:]
            peak = max(peak, tree_rss_mb(server_pid))
    assert lines == LARGE_ROWS + 1
    last = tail.decode().strip().rsplit("\r\n", 1)[-1].split(",")
    assert Decimal(last[8]) == Decimal(export_rows.closing(LARGE_ROWS)) / 100
    growth = peak - before
    print(
        f"csv of {LARGE_ROWS} rows: {size / 1e6:.1f} MB, server RSS {before:.0f} -> {peak:.0f} MB"
    )
    assert growth < RSS_GROWTH_MAX_MB, (before, peak)
