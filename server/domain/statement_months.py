"""Monthly statements: which months have closed, which an account gets, what a
stored statement holds. Pure rules, no I/O (statement.proto says them to
clients)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from server.domain import errors
from server.domain.statements import StatementHeader, StatementLine

# A month closes this long after its last midnight, so that a movement that
# took its timestamp just before midnight has committed before the month's
# statements read the ledger.
CLOSE_GRACE = timedelta(minutes=5)
STATEMENT_ID_PREFIX = "stm_"
STATEMENT_ID_LENGTH_MAX = 64


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime | date) -> Month:
        return cls(moment.year, moment.month)

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """The last day, included."""
        return self.next().start - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def closes_at(self) -> datetime:
        return datetime.combine(self.next().start, datetime.min.time()) + CLOSE_GRACE


def last_closed(now: datetime) -> Month:
    """The latest month whose statements may be made at `now` (naive UTC)."""
    month = Month.of(now).previous()
    return month if now >= month.closes_at() else month.previous()


def months_open(opened_at: datetime, closed_at: datetime | None, through: Month) -> Iterator[Month]:
    """The months up to `through` during which an account opened at
    `opened_at` (and closed at `closed_at`, if it is) was open."""
    month = Month.of(opened_at)
    last = through if closed_at is None else min(through, Month.of(closed_at))
    while month <= last:
        yield month
        month = month.next()


def check_statement_id(statement_id: str) -> str:
    """A well-formed id, or NOT_FOUND (a malformed id names no statement)."""
    if (
        not statement_id.startswith(STATEMENT_ID_PREFIX)
        or len(statement_id) > STATEMENT_ID_LENGTH_MAX
    ):
        raise not_found(statement_id)
    return statement_id


def not_found(statement_id: str) -> errors.NotFound:
    """Missing, or another customer's: both answer the same."""
    return errors.NotFound("Statement not found", metadata={"statement_id": statement_id[:80]})


class TooLongForPdf(errors.Conflict):
    """A period with more postings than one PDF holds (409, FAILED_PRECONDITION)."""

    grpc_status = "FAILED_PRECONDITION"


def check_printable(record: StatementRecord, lines_max: int) -> None:
    if record.figures.line_count > lines_max:
        raise TooLongForPdf(
            f"The statement has {record.figures.line_count} lines; a PDF holds at most"
            f" {lines_max}: export the period with ExportTransactions instead",
            metadata={"lines": str(record.figures.line_count), "lines_max": str(lines_max)},
        )


def file_name(account_id: str, month_label: str) -> str:
    return f"statement_{account_id}_{month_label}.pdf"


@dataclass(frozen=True, slots=True)
class Figures:
    """What a statement fixes when its month closes."""

    opening_balance_minor: int
    closing_balance_minor: int
    credit_count: int
    credit_total_minor: int
    debit_count: int
    debit_total_minor: int  # positive

    @property
    def line_count(self) -> int:
        return self.credit_count + self.debit_count


def figures(header: StatementHeader, lines: Iterable[StatementLine]) -> Figures:
    """The figures of a statement from its header and its lines (already
    checked for continuity by the caller)."""
    credits = debits = credit_total = debit_total = 0
    for line in lines:
        if line.amount_minor > 0:
            credits += 1
            credit_total += line.amount_minor
        elif line.amount_minor < 0:
            debits += 1
            debit_total -= line.amount_minor
    return Figures(
        opening_balance_minor=header.opening_balance_minor,
        closing_balance_minor=header.closing_balance_minor,
        credit_count=credits,
        credit_total_minor=credit_total,
        debit_count=debits,
        debit_total_minor=debit_total,
    )


@dataclass(frozen=True, slots=True)
class StatementRecord:
    """A stored monthly statement."""

    id: str
    account_id: str
    owner_id: str | None
    account_number: str  # masked
    period: str  # YYYY-MM
    period_start: date
    period_end: date
    currency: str
    figures: Figures
    created_at: datetime
