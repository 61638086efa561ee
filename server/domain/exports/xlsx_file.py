"""A statement as an Excel workbook (openpyxl, write-only).

One sheet, "Statement": a header block (bank, account holder, account with
its masked number, period, opening and closing balances), a blank row,
then a table with the CSV's columns. Dates are date cells, amounts number
cells (exact decimals) with the currency's number format (`#,##0.00 "USD"`),
texts string cells: openpyxl would store a text starting with `=` as a
formula, so text cells are typed as strings explicitly (a description
`=HYPERLINK(...)` shows as that text and never runs).

openpyxl's write-only sheets stream their rows to a temporary file as they
are appended; the workbook is then zipped into another temporary file,
which is read back in chunks, so memory stays flat for any number of rows.
The first byte leaves once the last row is written (a zip's central
directory is at its end).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from server.domain.exports import CHUNK_BYTES, amount, printable
from server.domain.exports.csv_file import COLUMNS
from server.domain.money import exponent
from server.domain.statements import StatementHeader, StatementLine

DATE_FORMAT = "yyyy-mm-dd"


def money_format(currency: str) -> str:
    """`#,##0.00 "USD"`: the currency's decimals and its code."""
    places = exponent(currency)
    return ("#,##0." + "0" * places if places else "#,##0") + f' "{currency}"'


def write(head: StatementHeader, lines: Iterable[StatementLine]) -> Iterator[bytes]:
    """The workbook in chunks of CHUNK_BYTES."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Statement")
    money = money_format(head.currency)
    bold = Font(bold=True)

    def cell(
        value: object, number_format: str | None = None, strong: bool = False
    ) -> WriteOnlyCell:
        made = WriteOnlyCell(sheet, value=value)
        if number_format:
            made.number_format = number_format
        if strong:
            made.font = bold
        return made

    def text(value: str) -> WriteOnlyCell | str:
        value = printable(value)
        if not value.startswith("="):
            return value
        made = WriteOnlyCell(sheet, value=value)
        made.data_type = "s"  # a string, not a formula
        return made

    currency = head.currency
    sheet.append([cell(head.bank_name, strong=True)])
    sheet.append([cell("Account holder"), text(head.holder_name)])
    sheet.append(
        [cell("Account"), cell(f"{head.account_type} {head.masked_account_number}"), cell(currency)]
    )
    sheet.append(
        [
            cell("Period"),
            cell(head.period_start, DATE_FORMAT),
            cell(head.period_end, DATE_FORMAT),
        ]
    )
    sheet.append(
        [cell("Opening balance"), cell(amount(head.opening_balance_minor, currency), money)]
    )
    sheet.append(
        [cell("Closing balance"), cell(amount(head.closing_balance_minor, currency), money)]
    )
    sheet.append([])
    sheet.append([cell(name, strong=True) for name in COLUMNS])
    for line in lines:
        value = amount(line.amount_minor, currency)
        sheet.append(
            [
                cell(line.posted_at.date(), DATE_FORMAT),
                text(line.reference),
                text(line.type),
                text(line.description),
                text(line.counterparty),
                cell(-value, money) if value < 0 else None,
                cell(value, money) if value > 0 else None,
                cell(value, money),
                cell(amount(line.balance_after_minor, currency), money),
                currency,
            ]
        )
    handle, path = tempfile.mkstemp(prefix="export-", suffix=".xlsx")
    os.close(handle)
    try:
        book.save(path)
        with Path(path).open("rb") as saved:
            while chunk := saved.read(CHUNK_BYTES):
                yield chunk
    finally:
        Path(path).unlink()
