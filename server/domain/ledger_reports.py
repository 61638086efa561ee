"""Reading the ledger at an instant: the trial balance and balances as of a moment.

Pure rules, no I/O. The sign convention is the bank's books: a posting's
signed amount_minor is a credit when positive and a debit when negative, so
a customer's positive balance is a credit balance (money the bank owes) and
the cash vault, which goes negative as cash comes in, a debit balance (money
the bank holds). Every journal transaction sums to zero per currency, so the
debit and credit totals of a currency are equal at any instant: a trial
balance that does not balance is a ledger fault.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from server.domain import errors
from server.domain.money import CURRENCY_EXPONENTS
from server.domain.principal import ADMIN, AUDITOR, OPERATIONS, Principal

ADMIN_SCOPE = "backoffice.admin"
# Staff who read the bank's books.
TRIAL_BALANCE_ROLES = frozenset({ADMIN, OPERATIONS, AUDITOR})

KIND_CUSTOMER_DEPOSITS = "CUSTOMER_DEPOSITS"
KIND_BANK = "BANK"
CUSTOMER_CODE_PREFIX = "CUSTOMER_"


def check_as_of(as_of: datetime | None, now: datetime) -> datetime:
    """The instant asked for (naive UTC); None means now; a future one is refused."""
    if as_of is None:
        return now
    if as_of > now:
        raise errors.ValidationFailed(
            "as_of may not be in the future",
            field="as_of",
            metadata={"as_of": as_of.isoformat() + "Z", "now": now.isoformat() + "Z"},
        )
    return as_of


def check_currency(code: str) -> str | None:
    """An optional ISO 4217 filter: "" means every currency; one the bank does
    not serve is refused."""
    currency = code.strip().upper()
    if not currency:
        return None
    if currency not in CURRENCY_EXPONENTS:
        raise errors.ValidationFailed(
            "currency must be one the bank serves: " + ", ".join(sorted(CURRENCY_EXPONENTS)),
            field="currency",
            metadata={"currency": code[:10]},
        )
    return currency


def check_trial_balance_reader(principal: Principal) -> None:
    """The backoffice.admin scope and, for a user, ADMIN, OPERATIONS or AUDITOR."""
    if principal.is_customer or ADMIN_SCOPE not in principal.scopes:
        raise errors.Forbidden(
            "The trial balance needs the backoffice.admin scope and a staff role",
            metadata={"scope": ADMIN_SCOPE, "role": principal.role},
        )
    if principal.user_id is not None and principal.role not in TRIAL_BALANCE_ROLES:
        raise errors.Forbidden(
            "The trial balance is reserved to administrators, operations and auditors",
            metadata={"role": principal.role},
        )


@dataclass(frozen=True, slots=True)
class GlGroup:
    """What the store sums: one bank account, or one product type of customer
    accounts, in one currency, over the postings up to the instant."""

    kind: str  # KIND_CUSTOMER_DEPOSITS or KIND_BANK
    currency: str
    net_minor: int  # sum of the signed postings: > 0 credit balance
    account_count: int  # accounts with at least one posting by then
    account_type: str = ""  # customer groups: CHECKING, SAVINGS, BUSINESS
    account_id: str = ""  # bank accounts
    code: str = ""  # bank accounts: FEE_INCOME (the currency suffix dropped)
    name: str = ""  # bank accounts: the account's name


@dataclass(frozen=True, slots=True)
class TrialBalanceLine:
    kind: str
    code: str  # FEE_INCOME, CASH_VAULT, ...; CUSTOMER_CHECKING for a customer group
    name: str
    currency: str
    account_id: str  # "" for a customer group
    account_type: str  # "" for a bank account
    account_count: int
    net_minor: int

    @property
    def debit_minor(self) -> int:
        return -self.net_minor if self.net_minor < 0 else 0

    @property
    def credit_minor(self) -> int:
        return self.net_minor if self.net_minor > 0 else 0


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    currency: str
    debit_minor: int
    credit_minor: int

    @property
    def difference_minor(self) -> int:
        """Credits minus debits: 0 unless the ledger is broken."""
        return self.credit_minor - self.debit_minor


@dataclass(frozen=True, slots=True)
class TrialBalance:
    as_of: datetime
    currency: str | None  # the filter asked for
    lines: list[TrialBalanceLine]
    totals: list[CurrencyTotals]

    @property
    def balanced(self) -> bool:
        return all(total.difference_minor == 0 for total in self.totals)


def bank_code(code: str) -> str:
    """`FEE_INCOME:EUR` -> `FEE_INCOME` (the currency is a field of its own)."""
    return code.split(":", 1)[0]


def trial_balance(groups: Iterable[GlGroup], as_of: datetime, currency: str | None) -> TrialBalance:
    """Lines ordered by currency, customer deposits first (by type), then the
    bank's accounts by code; totals per currency."""
    lines = [_line(group) for group in groups]
    lines.sort(key=lambda line: (line.currency, line.kind != KIND_CUSTOMER_DEPOSITS, line.code))
    totals: dict[str, list[int]] = {}
    for line in lines:
        sums = totals.setdefault(line.currency, [0, 0])
        sums[0] += line.debit_minor
        sums[1] += line.credit_minor
    return TrialBalance(
        as_of=as_of,
        currency=currency,
        lines=lines,
        totals=[
            CurrencyTotals(code, debit, credit) for code, (debit, credit) in sorted(totals.items())
        ],
    )


def _line(group: GlGroup) -> TrialBalanceLine:
    if group.kind == KIND_CUSTOMER_DEPOSITS:
        return TrialBalanceLine(
            kind=group.kind,
            code=CUSTOMER_CODE_PREFIX + group.account_type,
            name=f"Customer deposits: {group.account_type}",
            currency=group.currency,
            account_id="",
            account_type=group.account_type,
            account_count=group.account_count,
            net_minor=group.net_minor,
        )
    return TrialBalanceLine(
        kind=KIND_BANK,
        code=bank_code(group.code),
        name=group.name,
        currency=group.currency,
        account_id=group.account_id,
        account_type="",
        account_count=group.account_count,
        net_minor=group.net_minor,
    )
