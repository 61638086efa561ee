"""A report's downloadable file: json, csv (stdlib), xlsx (openpyxl), pdf (fpdf2).

Reports are totals, not transaction lines (those are the exports',
server/domain/exports/). Amounts are written from integer minor units:
decimal text in csv, typed number cells with the currency's format in xlsx,
text in pdf. Pure: bytes in memory, no I/O.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from server.domain.money import exponent, to_major
from server.domain.reports import Figures, Totals

CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BANK_NAME = "Banking Back Office"


@dataclass(frozen=True, slots=True)
class ReportDocument:
    id: str
    first: str
    last: str
    account_ids: tuple[str, ...]
    types: tuple[str, ...]
    group_by: str
    generated_at: datetime
    figures: Figures


def render(document: ReportDocument, file_format: str) -> tuple[bytes, str]:
    """The file's bytes and its Content-Type."""
    writer = {"json": _json, "csv": _csv, "xlsx": _xlsx, "pdf": _pdf}[file_format]
    return writer(document), CONTENT_TYPES[file_format]


def file_name(report_id: str, file_format: str) -> str:
    return f"{report_id}.{file_format}"


def _text(minor: int, currency: str) -> str:
    places = exponent(currency)
    return str(Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places)))


def summary_rows(figures: Figures) -> list[tuple[str, int, bool]]:
    """(label, value, is money) of the totals table."""
    s = figures.summary
    return [
        ("Opening balance", figures.opening_minor, True),
        ("Total credits", s.credit_minor, True),
        ("Total debits", s.debit_minor, True),
        ("Net change", s.net_minor, True),
        ("Closing balance", figures.closing_minor, True),
        ("Fees collected", s.fees_minor, True),
        ("Transactions", s.transactions, False),
        ("Credit postings", s.credits, False),
        ("Debit postings", s.debits, False),
        ("Failed transactions", figures.failed, False),
        ("Cancelled transactions", figures.cancelled, False),
        ("Holds outstanding", figures.holds_count, False),
        ("Holds outstanding amount", figures.holds_minor, True),
        ("New accounts", figures.new_accounts, False),
        ("Closed accounts", figures.closed_accounts, False),
    ]


TYPE_HEADER = (
    "Type",
    "Transactions",
    "Debits",
    "Credits",
    "Net",
    "Debit postings",
    "Credit postings",
)
GROUP_HEADER = ("Group", "Transactions", "Debits", "Credits", "Net", "Fees", "Closing balance")


def _type_cells(kind: str, t: Totals) -> tuple[str, int, int, int, int, int, int]:
    return (kind, t.transactions, t.debit_minor, t.credit_minor, t.net_minor, t.debits, t.credits)


def _json(document: ReportDocument) -> bytes:
    f, cur = document.figures, document.figures.currency

    def money(minor: int) -> float:
        return to_major(minor, cur)

    def totals(t: Totals) -> dict[str, object]:
        return {
            "transactionCount": t.transactions,
            "totalDebits": money(t.debit_minor),
            "totalCredits": money(t.credit_minor),
            "netChange": money(t.net_minor),
            "debitCount": t.debits,
            "creditCount": t.credits,
        }

    body = {
        "id": document.id,
        "type": "CUSTOM",
        "period": {"from": document.first, "to": document.last},
        "currency": cur,
        "accountIds": list(document.account_ids),
        "transactionTypes": list(document.types),
        "groupBy": document.group_by,
        "generatedAt": document.generated_at.isoformat(timespec="seconds") + "Z",
        "summary": {
            **totals(f.summary),
            "feesCollected": money(f.summary.fees_minor),
            "openingBalance": money(f.opening_minor),
            "closingBalance": money(f.closing_minor),
            "failedCount": f.failed,
            "cancelledCount": f.cancelled,
            "holdsOutstandingCount": f.holds_count,
            "holdsOutstandingAmount": money(f.holds_minor),
            "newAccounts": f.new_accounts,
            "closedAccounts": f.closed_accounts,
        },
        "totalsByType": [{"transactionType": k, **totals(t)} for k, t in f.by_type],
        "groups": [
            {
                "key": g.key,
                **totals(g.totals),
                "feesCollected": money(g.totals.fees_minor),
                **({} if g.closing_minor is None else {"closingBalance": money(g.closing_minor)}),
            }
            for g in f.groups
        ],
    }
    return json.dumps(body, indent=2).encode("utf-8")


def _csv(document: ReportDocument) -> bytes:
    f, cur = document.figures, document.figures.currency
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["Report", document.id])
    w.writerow(["Period", document.first, document.last])
    w.writerow(["Currency", cur])
    w.writerow(["Accounts", " ".join(document.account_ids) or "all customer accounts"])
    w.writerow(["Types", " ".join(document.types) or "all"])
    w.writerow(["Group by", document.group_by])
    w.writerow([])
    w.writerow(["Metric", "Value"])
    for label, value, is_money in summary_rows(f):
        w.writerow([label, _text(value, cur) if is_money else value])
    w.writerow([])
    w.writerow(TYPE_HEADER)
    for kind, t in f.by_type:
        cells = _type_cells(kind, t)
        w.writerow([cells[0], cells[1], *(_text(v, cur) for v in cells[2:5]), cells[5], cells[6]])
    w.writerow([])
    w.writerow(GROUP_HEADER)
    for g in f.groups:
        t = g.totals
        w.writerow(
            [
                g.key,
                t.transactions,
                _text(t.debit_minor, cur),
                _text(t.credit_minor, cur),
                _text(t.net_minor, cur),
                _text(t.fees_minor, cur),
                "" if g.closing_minor is None else _text(g.closing_minor, cur),
            ]
        )
    return out.getvalue().encode("utf-8")


def _money_format(currency: str) -> str:
    places = exponent(currency)
    digits = "#,##0" + ("." + "0" * places if places else "")
    return f'{digits} "{currency}";-{digits} "{currency}"'


def _xlsx(document: ReportDocument) -> bytes:
    f, cur = document.figures, document.figures.currency
    fmt = _money_format(cur)

    def amount(minor: int) -> Decimal:
        return Decimal(minor).scaleb(-exponent(cur))

    # Imported here: openpyxl and fpdf2 take most of a second to import.
    from openpyxl import Workbook  # type: ignore[import-untyped]  # noqa: PLC0415
    from openpyxl.styles import Font  # type: ignore[import-untyped]  # noqa: PLC0415

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Summary"
    for row in (
        ("Report", document.id),
        ("Period", f"{document.first} to {document.last}"),
        ("Currency", cur),
        ("Group by", document.group_by),
    ):
        sheet.append(row)
    sheet.append(())
    sheet.append(("Metric", "Value"))
    for label, value, is_money in summary_rows(f):
        sheet.append((label, amount(value) if is_money else value))
        if is_money:
            sheet.cell(row=sheet.max_row, column=2).number_format = fmt
    for cell in sheet[6]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 22

    def table(
        title: str, header: tuple[str, ...], rows: list[list[object]], money: set[int]
    ) -> None:
        part = book.create_sheet(title)
        part.append(header)
        for cell in part[1]:
            cell.font = Font(bold=True)
        for row in rows:
            part.append(
                [amount(v) if i in money and isinstance(v, int) else v for i, v in enumerate(row)]
            )
            for i in money:
                part.cell(row=part.max_row, column=i + 1).number_format = fmt
        for letter in "ABCDEFG":
            part.column_dimensions[letter].width = 18

    table("By type", TYPE_HEADER, [list(_type_cells(k, t)) for k, t in f.by_type], {2, 3, 4})
    table(
        "Groups",
        GROUP_HEADER,
        [
            [
                g.key,
                g.totals.transactions,
                g.totals.debit_minor,
                g.totals.credit_minor,
                g.totals.net_minor,
                g.totals.fees_minor,
                g.closing_minor,
            ]
            for g in f.groups
        ],
        {2, 3, 4, 5, 6},
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _pdf(document: ReportDocument) -> bytes:
    f, cur = document.figures, document.figures.currency

    from fpdf import FPDF  # noqa: PLC0415 (slow to import)

    class _Pdf(FPDF):
        def header(self) -> None:
            self.set_font("helvetica", "B", 12)
            self.cell(0, 8, f"{BANK_NAME} - Report {document.id}", new_x="LMARGIN", new_y="NEXT")
            self.set_font("helvetica", "", 9)
            self.cell(
                0,
                5,
                f"Period {document.first} to {document.last} - {cur}",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            self.ln(2)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("helvetica", "", 8)
            self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = _Pdf(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", "", 9)
    scope = " ".join(document.account_ids) or "all customer accounts"
    pdf.multi_cell(0, 5, f"Accounts: {scope}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        5,
        f"Types: {' '.join(document.types) or 'all'}   Group by: {document.group_by}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)

    def rows(header: tuple[str, ...], body: list[list[str]], widths: tuple[int, ...]) -> None:
        pdf.set_font("helvetica", "B", 8)
        for text, width in zip(header, widths, strict=True):
            pdf.cell(width, 6, text, border=1)
        pdf.ln()
        pdf.set_font("helvetica", "", 8)
        for line in body:
            for i, (text, width) in enumerate(zip(line, widths, strict=True)):
                pdf.cell(width, 5, text, border=1, align="L" if i == 0 else "R")
            pdf.ln()
        pdf.ln(3)

    rows(
        ("Totals", "Value"),
        [[label, _text(v, cur) if m else str(v)] for label, v, m in summary_rows(f)],
        (60, 40),
    )
    rows(
        TYPE_HEADER,
        [
            [c[0], str(c[1]), *(_text(v, cur) for v in c[2:5]), str(c[5]), str(c[6])]
            for c in (_type_cells(k, t) for k, t in f.by_type)
        ],
        (34, 22, 28, 28, 28, 22, 22),
    )
    rows(
        GROUP_HEADER,
        [
            [
                g.key,
                str(g.totals.transactions),
                _text(g.totals.debit_minor, cur),
                _text(g.totals.credit_minor, cur),
                _text(g.totals.net_minor, cur),
                _text(g.totals.fees_minor, cur),
                "" if g.closing_minor is None else _text(g.closing_minor, cur),
            ]
            for g in f.groups
        ],
        (34, 22, 28, 28, 28, 22, 28),
    )
    return bytes(pdf.output())
