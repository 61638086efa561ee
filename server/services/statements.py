"""Monthly statements: listing an account's (making its closed months' first),
reading one, and its PDF rendered from the ledger."""

from __future__ import annotations

import logging
from datetime import datetime

from server.domain import statement_months as rules
from server.domain.exports import PDF_LINES_MAX
from server.domain.principal import Principal
from server.domain.statements import check_continuity
from server.store import accounts, clock, statement_records, statement_rows

log = logging.getLogger(__name__)


def make_missing(account_id: str, opened_at: datetime, closed_at: datetime | None) -> int:
    """Makes the account's statements of closed months that it lacks."""
    now = clock.now()
    have = statement_records.periods_of(account_id)
    made = 0
    for month in rules.months_open(opened_at, closed_at, rules.last_closed(now)):
        if month.label not in have:
            written, broken = statement_records.make_many([account_id], month, now)
            made += written
            if broken:
                # A ledger fault: the month lists without its statement.
                log.error(
                    "statement not made: its postings do not add up",
                    extra={"account_id": account_id, "period": month.label},
                )
    return made


def list_statements(
    principal: Principal, account_id: str, offset: int, limit: int, after_period: str | None
) -> tuple[list[rules.StatementRecord], int, bool]:
    """A page of the account's statements, newest first (access as GetAccount)."""
    account = accounts.get_account(principal, account_id)
    make_missing(account.id, account.created_at, account.closed_at)
    return statement_records.list_for_account(account.id, offset, limit, after_period)


def get_statement(principal: Principal, statement_id: str) -> rules.StatementRecord:
    rules.check_statement_id(statement_id)
    record = statement_records.get(statement_id)
    if record is None or not principal.can_see(record.owner_id):
        raise rules.not_found(statement_id)
    return record


def download(principal: Principal, statement_id: str) -> tuple[str, bytes]:
    """The statement's file name and PDF, written from the ledger's postings."""
    record = get_statement(principal, statement_id)
    from server.domain.exports import pdf_file  # noqa: PLC0415 (fpdf2 is slow to import)

    rules.check_printable(record, PDF_LINES_MAX)
    with statement_rows.snapshot():
        head, lines = statement_records.pdf_parts(record)
        document = b"".join(pdf_file.write(head, check_continuity(head, lines)))
    if (head.opening_balance_minor, head.closing_balance_minor) != (
        record.figures.opening_balance_minor,
        record.figures.closing_balance_minor,
    ):
        # The closed month's postings changed: a ledger fault, never the caller's.
        log.error(
            "statement figures differ from the ledger",
            extra={"statement_id": record.id, "account_id": record.account_id},
        )
    return rules.file_name(record.account_id, record.period), document
