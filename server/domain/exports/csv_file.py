"""A statement as CSV (stdlib csv, RFC 4180, UTF-8, CRLF line ends).

One header row, then one row per line in posting order: date (YYYY-MM-DD,
UTC), reference (the transaction number), type, description, counterparty,
debit and credit (the money out or in, positive, one of them empty),
amount (signed), balance (after the line) and currency. Amounts are plain
decimal strings with the currency's decimals (`-12.50`), never floats.

Formula injection: a text cell starting with `=`, `+`, `-`, `@`, a tab or a
carriage return would run as a formula in a spreadsheet, so it is written
with a leading `'` (OWASP's advice); the numbers are ours and never
guarded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from server.domain.exports import CHUNK_BYTES, amount_text
from server.domain.statements import StatementHeader, StatementLine

COLUMNS = (
    "date",
    "reference",
    "type",
    "description",
    "counterparty",
    "debit",
    "credit",
    "amount",
    "balance",
    "currency",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """`value`, with a leading `'` when a spreadsheet would take it for a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def row(line: StatementLine, currency: str) -> list[str]:
    moved = amount_text(abs(line.amount_minor), currency)
    return [
        line.posted_at.date().isoformat(),
        safe_text(line.reference),
        safe_text(line.type),
        safe_text(line.description),
        safe_text(line.counterparty),
        moved if line.amount_minor < 0 else "",
        moved if line.amount_minor > 0 else "",
        amount_text(line.amount_minor, currency),
        amount_text(line.balance_after_minor, currency),
        currency,
    ]


def write(head: StatementHeader, lines: Iterable[StatementLine]) -> Iterator[bytes]:
    """The CSV in chunks of about CHUNK_BYTES."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(COLUMNS)
    for line in lines:
        out.writerow(row(line, head.currency))
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
