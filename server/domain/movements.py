"""Rules of money movements (seed 002): fees, holds, overdraft, numbering.

Pure functions over minor units; the store applies them inside one database
transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from server.domain import errors
from server.domain.calendar import release_time
from server.domain.principal import CUSTOMER, Principal

OVERDRAFT_FEE_MINOR = 35_00
OVERDRAFT_ACCOUNT_TYPES = frozenset({"CHECKING", "BUSINESS"})

# Deposit hold periods in business days (seed 002 "Hold Periods"; the top of
# each range, as banks disclose the longest case).
DEPOSIT_HOLD_BUSINESS_DAYS = {
    "CASH": 0,
    "DIRECT_DEPOSIT": 0,
    "WIRE": 0,
    "CHECK": 2,
    "MOBILE_CHECK": 3,
}
DEPOSIT_CLEARING_ACCOUNT = {
    "CASH": "CASH_VAULT",
    "CHECK": "CHECK_CLEARING",
    "MOBILE_CHECK": "CHECK_CLEARING",
    "WIRE": "WIRE_CLEARING",
    "DIRECT_DEPOSIT": "ACH_CLEARING",
}
WITHDRAWAL_CLEARING_ACCOUNT = {
    "ATM": "CASH_VAULT",
    "BRANCH": "CASH_VAULT",
    "CHECK": "CHECK_CLEARING",
    "DEBIT_CARD": "CARD_SETTLEMENT",
}
DEPOSIT_MAX_MINOR = {"MOBILE_CHECK": 10_000_00}
DEPOSIT_MAX_DEFAULT_MINOR = 1_000_000_00
# What a customer may deposit by themselves in production (transaction_service.proto):
# a photographed check, held until it clears. Cash, checks at the counter,
# wires and direct deposits are posted by tellers or the bank's systems;
# otherwise a customer could credit themselves money that never arrived.
CUSTOMER_DEPOSIT_METHODS = frozenset({"MOBILE_CHECK"})

# ATM fees (seed 002): the bank's own network is free; another bank's ATM
# costs 2.50; an ATM in another country than the account's costs 5.00.
ATM_FEE_MINOR = {"IN_NETWORK": 0, "OUT_OF_NETWORK": 2_50, "INTERNATIONAL": 5_00}
PIN_ATTEMPTS_MAX = 3


@dataclass(frozen=True)
class Funds:
    """An account's money, in minor units."""

    balance: int
    held: int
    pending_debits: int
    overdraft_limit: int

    @property
    def available(self) -> int:
        """Spendable now: posted - holds - pending debits + overdraft line."""
        return self.balance - self.held - self.pending_debits + self.overdraft_limit


def debit_fees(funds: Funds, account_type: str, debit_minor: int) -> int:
    """Overdraft fee owed if the debit takes the posted balance below zero.

    Raises InsufficientFunds (TXN001) when the debit, plus the overdraft fee
    it triggers, does not fit in the available balance.
    """
    goes_negative = funds.balance - debit_minor < 0
    overdraft_fee = (
        OVERDRAFT_FEE_MINOR if goes_negative and account_type in OVERDRAFT_ACCOUNT_TYPES else 0
    )
    if debit_minor + overdraft_fee > funds.available:
        raise errors.InsufficientFunds(
            field="amount",
            metadata={"available_minor": str(max(funds.available, 0))},
        )
    return overdraft_fee


def atm_network(atm_network_registry: str | None, atm_country: str, account_country: str) -> str:
    """IN_NETWORK, OUT_OF_NETWORK or INTERNATIONAL for an ATM withdrawal."""
    if atm_country and account_country and atm_country != account_country:
        return "INTERNATIONAL"
    return "IN_NETWORK" if atm_network_registry == "OWN" else "OUT_OF_NETWORK"


def deposit_release(method: str, deposited_at: datetime) -> datetime:
    return release_time(deposited_at, DEPOSIT_HOLD_BUSINESS_DAYS[method])


def transaction_number(day: datetime, sequence: int) -> str:
    """`TXN` + date + sequence (at least 3 digits), e.g. TXN20251109001."""
    return f"TXN{day:%Y%m%d}{sequence:03d}"


def card_number_hash(digits: str) -> str:
    """Cards are found by a hash of their number; the number itself is not stored."""
    return hashlib.sha256(f"card:{digits}".encode()).hexdigest()


def check_deposit_method(principal: Principal, method: str, *, sandbox: bool) -> None:
    """Customers deposit only by MOBILE_CHECK, except in sandbox mode (test funding)."""
    if sandbox or principal.role != CUSTOMER or method in CUSTOMER_DEPOSIT_METHODS:
        return
    raise errors.Forbidden(
        f"Customers may deposit only by {', '.join(sorted(CUSTOMER_DEPOSIT_METHODS))}",
        field="method",
        metadata={"method": method, "role": principal.role},
    )
