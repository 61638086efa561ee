"""Rules of money movements (seed 002): fees, holds, overdraft, numbering,
and the checks every movement makes on its request and accounts.

Pure functions over minor units; the use cases (server.services) apply them
inside one database transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from server.domain import errors
from server.domain.calendar import release_time
from server.domain.money import to_major
from server.domain.principal import CUSTOMER, Principal

DESCRIPTION_LENGTH_MAX = 255
REFERENCE_LENGTH_MAX = 35
LOCATION_LENGTH_MAX = 100

OVERDRAFT_FEE_MINOR = 35_00
OVERDRAFT_ACCOUNT_TYPES = frozenset({"CHECKING", "BUSINESS"})

# A debit that posts later (a PENDING external transfer) reserves its amount
# plus fee in pending debits and, when posting it will take the balance below
# zero, the overdraft fee it will then cost: unreserved, other debits could
# spend that room first and the fee would take the balance below the
# overdraft line. The extra is recorded in the transaction's details under
# this key, so whoever releases the reservation (submission, a cancel)
# releases all of it.
RESERVED_OVERDRAFT_FEE_KEY = "reservedOverdraftFeeMinor"


def reserved_overdraft_fee(details: Mapping[str, object]) -> int:
    """The overdraft fee a pending debit reserved beyond its amount and fee."""
    value = details.get(RESERVED_OVERDRAFT_FEE_KEY, 0)
    assert isinstance(value, int) and value >= 0, value
    return value


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


# --- checks of a request and of its accounts ---------------------------------


def text(value: str, field_name: str, length_max: int) -> str:
    """A free-text field, trimmed; ValidationFailed when longer than `length_max`."""
    trimmed = value.strip()
    if len(trimmed) > length_max:
        raise errors.ValidationFailed(
            f"{field_name} is longer than {length_max} characters",
            field=field_name,
            metadata={"length_max": str(length_max)},
        )
    return trimmed


def required_id(value: str, field_name: str) -> str:
    if not value:
        raise errors.ValidationFailed(f"{field_name} is required", field=field_name)
    return value


def require_active(account_id: str, status: str, field_name: str) -> None:
    """TXN003 unless the account is ACTIVE."""
    if status != "ACTIVE":
        raise errors.AccountNotActive(
            f"Account is {status.lower()}",
            field=field_name,
            metadata={"account_id": account_id, "status": status},
        )


def currency_of(requested: str, account_currency: str, field_name: str = "currency") -> str:
    """The movement's currency: the account's, which a request may only repeat (TXN006)."""
    currency = requested.strip().upper() or account_currency
    if currency != account_currency:
        raise errors.CurrencyMismatch(
            f"Account holds {account_currency}, not {currency}",
            field=field_name,
            metadata={"account_currency": account_currency, "currency": currency},
        )
    return currency


def check_destination_currency(currency: str, destination_currency: str) -> None:
    if currency != destination_currency:
        raise errors.CurrencyMismatch(
            f"Destination account holds {destination_currency}, not {currency}",
            field="toAccountId",
            metadata={"account_currency": destination_currency, "currency": currency},
        )


def check_per_transaction(
    amount_minor: int, minimum: int, maximum: int | None, currency: str
) -> None:
    """TXN005 for an amount below `minimum` or above `maximum` (None: no maximum)."""
    if amount_minor < minimum:
        raise errors.InvalidAmount(
            f"Amount is below the minimum of {to_major(minimum, currency):.2f}",
            field="amount",
            metadata={"minimum": f"{to_major(minimum, currency):.2f}"},
        )
    if maximum is not None and amount_minor > maximum:
        raise errors.InvalidAmount(
            f"Amount is above the per-transaction maximum of {to_major(maximum, currency):.2f}",
            field="amount",
            metadata={"maximum": f"{to_major(maximum, currency):.2f}"},
        )


def check_deposit_fields(method: str) -> None:
    if method not in DEPOSIT_HOLD_BUSINESS_DAYS:
        raise errors.ValidationFailed(
            "method must be one of CASH, CHECK, MOBILE_CHECK, WIRE, DIRECT_DEPOSIT",
            field="method",
        )


def deposit_max_minor(method: str) -> int:
    return DEPOSIT_MAX_MINOR.get(method, DEPOSIT_MAX_DEFAULT_MINOR)


def method_words(method: str) -> str:
    """`MOBILE_CHECK` -> `Mobile Check`: how a method reads in descriptions."""
    return method.replace("_", " ").title()
