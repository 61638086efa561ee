"""The statement writers, pure: each file read back by an independent parser."""

from __future__ import annotations

import csv
import io
import itertools
import warnings
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pypdf
import pytest
from ofxtools.Parser import OFXTree

from server.domain.exports import CHUNK_BYTES, amount_text, csv_file, ofx_file, pdf_file
from server.domain.exports.formats import FORMATS
from server.domain.statements import StatementHeader, StatementLine

HEAD = StatementHeader(
    account_id="acc_0123456789abcdefghij",
    masked_account_number="****6789",
    holder_name="Zoë Ledger",
    account_type="SAVINGS",
    currency="USD",
    period_start=date(2026, 3, 1),
    period_end=date(2026, 3, 31),
    opening_balance_minor=100_00,
    closing_balance_minor=100_00 + 25_50 - 10_25 - 3_00,
    generated_at=datetime(2026, 4, 1, 8, 30),
)
LINES = [
    StatementLine("txn_a", "TXN1", datetime(2026, 3, 2, 9), "DEPOSIT", "Salary", "", 25_50, 125_50),
    StatementLine(
        "txn_b", "TXN2", datetime(2026, 3, 3, 9), "TRANSFER", "=1+2", "+Bob \x01", -10_25, 115_25
    ),
    StatementLine("txn_c", "TXN3", datetime(2026, 3, 4), "FEE", "@fee", "", -3_00, 112_25),
]


def _file(name: str, lines: list[StatementLine] = LINES) -> bytes:
    return b"".join(FORMATS[name].write(HEAD, iter(lines)))


def test_amounts_are_exact_decimal_text() -> None:
    assert amount_text(-1250, "USD") == "-12.50"
    assert amount_text(5, "USD") == "0.05"
    assert amount_text(1234, "JPY") == "1234"
    assert amount_text(10**15 + 1, "USD") == "10000000000000.01"


def test_csv_columns_amounts_and_formula_guard() -> None:
    rows = list(csv.reader(io.StringIO(_file("csv").decode("utf-8"))))
    assert tuple(rows[0]) == csv_file.COLUMNS
    assert rows[1] == [
        "2026-03-02",
        "TXN1",
        "DEPOSIT",
        "Salary",
        "",
        "",
        "25.50",
        "25.50",
        "125.50",
        "USD",
    ]
    assert rows[2][3] == "'=1+2" and rows[2][4] == "'+Bob \x01"
    assert rows[2][5:9] == ["10.25", "", "-10.25", "115.25"]
    assert rows[3][3] == "'@fee"
    for text in ("-x", "\tx", "\rx"):
        assert csv_file.safe_text(text) == "'" + text
    assert csv_file.safe_text("plain") == "plain"


def _many(count: int) -> Iterator[StatementLine]:
    for i in range(count):
        yield StatementLine(
            f"txn_{i}",
            f"TXN{i}",
            datetime(2026, 3, 2) + timedelta(seconds=i),
            "DEPOSIT",
            "x" * 40,
            "",
            1,
            i + 1,
        )


def test_csv_streams_before_reading_every_line() -> None:
    read = 0

    def counted() -> Iterator[StatementLine]:
        nonlocal read
        for line in _many(100_000):
            read += 1
            yield line

    chunks = csv_file.write(HEAD, counted())
    first = next(chunks)
    assert len(first) >= CHUNK_BYTES and read < 2_000
    assert sum(map(len, itertools.chain([first], chunks))) > 50 * CHUNK_BYTES


def test_xlsx_typed_cells_header_block_and_text_not_formula() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(_file("xlsx"))).active
    rows = list(sheet.iter_rows())
    labels = {row[0].value: row for row in rows}
    assert labels["Account holder"][1].value == "Zoë Ledger"
    assert labels["Account"][1].value == "SAVINGS ****6789"
    period = labels["Period"]
    assert period[1].value == datetime(2026, 3, 1) and period[1].is_date
    opening = labels["Opening balance"][1]
    assert Decimal(str(opening.value)) == Decimal("100.00")
    assert opening.number_format == '#,##0.00 "USD"'
    heading = next(i for i, row in enumerate(rows) if row[0].value == "date")
    lines = rows[heading + 1 :]
    assert [row[1].value for row in lines] == ["TXN1", "TXN2", "TXN3"]
    assert lines[0][0].is_date and lines[0][0].value == datetime(2026, 3, 2)
    assert [Decimal(str(row[7].value)) for row in lines] == [
        Decimal("25.50"),
        Decimal("-10.25"),
        Decimal("-3.00"),
    ]
    assert all(row[7].data_type == "n" and "USD" in row[7].number_format for row in lines)
    assert lines[1][3].value == "=1+2" and lines[1][3].data_type == "s"
    assert lines[1][4].value == "+Bob "  # the control character is dropped


def test_pdf_text_and_page_numbers() -> None:
    reader = pypdf.PdfReader(io.BytesIO(_file("pdf", list(_many(300)))))
    assert len(reader.pages) > 3
    first = reader.pages[0].extract_text()
    for expected in (
        "Banking Back Office",
        "****6789",
        "Zo? Ledger" if "Zo? Ledger" in first else "Zoë Ledger",
        "2026-03-01 to 2026-03-31",
        "Opening balance 100.00 USD",
        "Closing balance 112.25 USD",
        f"Page 1 of {len(reader.pages)}",
        "TXN0",
    ):
        assert expected in first
    last = reader.pages[-1].extract_text()
    assert "TXN299" in last and f"Page {len(reader.pages)} of {len(reader.pages)}" in last
    assert FORMATS["pdf"].lines_max == pdf_file.LINES_MAX


@pytest.mark.parametrize("name", ["ofx", "qbo"])
def test_ofx_and_qbo_parse_back(name: str) -> None:
    body = _file(name)
    assert (b"<INTU.BID>" in body) == (name == "qbo")
    tree = OFXTree()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # INTU.BID is skipped with a warning
        tree.parse(io.BytesIO(body))
        statement = tree.convert().statements[0]
    assert statement.account.acctid == "0123456789abcdefghij"
    assert statement.account.bankid == ofx_file.BANK_ID
    assert statement.account.accttype == "SAVINGS"
    assert statement.ledgerbal.balamt == Decimal("112.25")
    found = statement.transactions
    assert [t.fitid for t in found] == ["txn_a", "txn_b", "txn_c"]
    assert [t.trnamt for t in found] == [Decimal("25.50"), Decimal("-10.25"), Decimal("-3.00")]
    assert [t.trntype for t in found] == ["DEP", "XFER", "FEE"]
    assert found[1].memo == "=1+2" and found[1].name.strip() == "+Bob"


def test_ofx_streams_one_transaction_at_a_time() -> None:
    chunks = list(ofx_file.write(HEAD, _many(5_000)))
    assert len(chunks) > 5
    tree = OFXTree()
    tree.parse(io.BytesIO(b"".join(chunks)))
    assert len(tree.convert().statements[0].transactions) == 5_000


def test_every_format_names_its_type_and_extension() -> None:
    assert {name: (f.content_type, f.extension) for name, f in FORMATS.items()} == {
        "csv": ("text/csv; charset=utf-8", "csv"),
        "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        "pdf": ("application/pdf", "pdf"),
        "ofx": ("application/x-ofx", "ofx"),
        "qbo": ("application/vnd.intu.qbo", "qbo"),
    }
