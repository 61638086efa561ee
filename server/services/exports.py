"""Exporting an account's transactions as a file (csv, xlsx, pdf, ofx, qbo).

Everything that can refuse the request is checked before the file's first
byte: the format, the dates, the caller's right to read the account, and
for a PDF the number of lines. The file is then written from one snapshot
of the ledger (`statement_rows.snapshot`), streamed chunk by chunk, its
continuity checked as it goes (a break is a ledger fault: the stream ends
with INTERNAL).

Decisions where the issue is silent:
- who: the account's owner, or staff (the same rule as the account's
  history); another customer's account is TXN002 (404), as everywhere in
  the contract ("not found, also another customer's resource");
- closed and frozen accounts export (their history is still the
  customer's record);
- the period is whole UTC days by the bank's clock (the sandbox clock):
  `end_date` (default today) at most today, `start_date` (default 30 days
  before `end_date`) not after it, at most 366 days in all (both ends
  included).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from server.domain import dates, errors
from server.domain.exports.formats import DEFAULT, FORMATS, FileFormat
from server.domain.principal import Principal
from server.domain.statements import check_continuity
from server.services import steps
from server.store import clock, statement_rows

DAYS_MAX = 366
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class ExportRequest:
    account_id: str
    format: str = ""
    start_date: str = ""
    end_date: str = ""


@dataclass(frozen=True)
class Export:
    """A file ready to stream: `chunks` reads the ledger as it is iterated."""

    file_format: FileFormat
    filename: str
    chunks: Iterator[bytes]

    @property
    def content_disposition(self) -> str:
        return f'attachment; filename="{self.filename}"'


def _format(value: str) -> FileFormat:
    name = value.strip().lower() or DEFAULT
    found = FORMATS.get(name)
    if found is None:
        # As an unknown enum word is (the format is a string only for its
        # lower-case words): 400 INVALID_REQUEST, naming the field.
        raise errors.InvalidRequest(
            f"format must be one of {', '.join(FORMATS)}",
            field="format",
            metadata={"value": value[:40]},
        )
    return found


def _day(value: str, field: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    return dates.parse_day(text, field)


def period(start_text: str, end_text: str, today: date) -> tuple[date, date]:
    """The export's first and last days (both included), or VALIDATION_ERROR."""
    start = _day(start_text, "startDate")
    end = _day(end_text, "endDate")
    if end is None:
        end = today
    if end > today:
        raise errors.ValidationFailed(
            f"endDate is after today ({today.isoformat()})", field="endDate"
        )
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS)
    if start > end:
        raise errors.ValidationFailed("endDate is before startDate", field="endDate")
    if (end - start).days + 1 > DAYS_MAX:
        raise errors.ValidationFailed(f"the period is at most {DAYS_MAX} days", field="startDate")
    return start, end


def export(request: ExportRequest, principal: Principal) -> Export:
    """Checks the request and opens the file's stream (nothing read yet)."""
    if not request.account_id:
        raise errors.ValidationFailed("accountId is required", field="accountId")
    file_format = _format(request.format)
    start, end = period(request.start_date, request.end_date, clock.now().date())
    account = steps.customer_account(request.account_id, principal, "accountId")
    if file_format.lines_max is not None:
        count = statement_rows.count(account.id, start, end)
        if count > file_format.lines_max:
            raise errors.ValidationFailed(
                f"a {file_format.name} export holds at most {file_format.lines_max} transactions"
                f" and this period has {count}: shorten it (startDate, endDate) or choose csv,"
                " xlsx, ofx or qbo",
                field="startDate",
                metadata={"lines_max": str(file_format.lines_max), "lines": str(count)},
            )
    name = f"transactions_{account.id}_{start.isoformat()}_{end.isoformat()}"
    return Export(
        file_format=file_format,
        filename=f"{name}.{file_format.extension}",
        chunks=_chunks(account.id, start, end, file_format),
    )


def _chunks(account_id: str, start: date, end: date, file_format: FileFormat) -> Iterator[bytes]:
    with statement_rows.snapshot():
        head = statement_rows.header(account_id, start, end)
        lines = check_continuity(head, statement_rows.lines(account_id, start, end))
        written = file_format.write(head, lines)
        # Never an empty chunk: the first one is what the caller waits for.
        yield from itertools.filterfalse(lambda chunk: not chunk, written)
