"""What an account statement is made of, whatever the file it is written to.

One statement covers one account over a period of whole UTC days (both
ends included). Its lines are the account's posted money movements in the
order they were posted; every line carries the balance after it, so

    opening_balance_minor + sum(line.amount_minor) == closing_balance_minor

holds for every statement (`check_continuity`). Exports (csv, xlsx, pdf,
ofx, qbo) and monthly statements are written from these records only; the
store reads them (as a stream, for any number of lines) and the writers
never see a database row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

BANK_NAME = "Banking Back Office"


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One posted movement of the account, as the statement shows it."""

    transaction_id: str  # `txn_...`
    reference: str  # the transaction's number, as customers see it
    posted_at: datetime  # naive UTC
    type: str  # TransactionTypeEnum word: TRANSFER, DEPOSIT, FEE, ...
    description: str
    counterparty: str  # the other side as shown in the history ("" when none)
    amount_minor: int  # signed: > 0 money in (credit), < 0 money out (debit)
    balance_after_minor: int


@dataclass(frozen=True, slots=True)
class StatementHeader:
    """Who and what period a statement is about."""

    account_id: str  # `acc_...`
    masked_account_number: str  # `****1234`: the full number never leaves
    holder_name: str
    account_type: str  # AccountTypeEnum word: CHECKING, SAVINGS, ...
    currency: str  # ISO 4217
    period_start: date
    period_end: date  # included
    opening_balance_minor: int  # posted balance at period_start 00:00 UTC
    closing_balance_minor: int  # posted balance at the end of period_end
    generated_at: datetime  # naive UTC
    bank_name: str = BANK_NAME


def check_continuity(
    header: StatementHeader, lines: Iterable[StatementLine]
) -> Iterator[StatementLine]:
    """Passes `lines` through, checking that each balance follows from the one
    before and that the last equals the closing balance; a break raises
    AssertionError (a ledger fault, never the caller's input)."""
    balance = header.opening_balance_minor
    for line in lines:
        balance += line.amount_minor
        if balance != line.balance_after_minor:
            raise AssertionError(
                f"statement of {header.account_id} breaks at {line.transaction_id}: "
                f"{balance} != {line.balance_after_minor}"
            )
        yield line
    if balance != header.closing_balance_minor:
        raise AssertionError(
            f"statement of {header.account_id} ends at {balance}, "
            f"closing balance {header.closing_balance_minor}"
        )
