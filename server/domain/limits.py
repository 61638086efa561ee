"""Transaction limits: seed 002's default tables, per-account overrides, usage.

Every amount here is in integer minor units of the account's currency. The
seed prints its tables in dollars; an account in another currency gets the
same nominal figures in its own major unit (1,000.00 EUR, 1,000 JPY): the bank
applies no exchange rate to limits.

How a movement is checked against these (for the money-movement code):
- `effective_limits(account_type, overrides)` gives the limits in effect.
- Each customer debit is written to `account_entries` with a `limit_class`
  (`ATM`, `TRANSFER`, `EXTERNAL_TRANSFER`, `BILL_PAYMENT`, or `''` for
  movements no limit counts). `USAGE_CLASSES` says which limits each class
  counts against, `DAILY_LIMITS`/`MONTHLY_LIMITS` which period each limit
  has, and `period_bounds(now)` gives the current UTC day and month.
  Entries in FAILED or CANCELLED status are given back (not counted).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from server.domain import errors
from server.domain.money import exponent, parse_signed_amount

# The limits staff may override per account (AccountLimitKind, lower case).
DAILY_ATM_WITHDRAWAL = "daily_atm_withdrawal"
DAILY_TRANSFER = "daily_transfer"
DAILY_BILL_PAYMENT = "daily_bill_payment"
MONTHLY_TRANSFER = "monthly_transfer"
MONTHLY_EXTERNAL_TRANSFER = "monthly_external_transfer"
PER_TRANSACTION_INTERNAL_TRANSFER_MAX = "per_transaction_internal_transfer_max"
OVERRIDABLE = (
    DAILY_ATM_WITHDRAWAL,
    DAILY_TRANSFER,
    DAILY_BILL_PAYMENT,
    MONTHLY_TRANSFER,
    MONTHLY_EXTERNAL_TRANSFER,
    PER_TRANSACTION_INTERNAL_TRANSFER_MAX,
)
DAILY_LIMITS = (DAILY_ATM_WITHDRAWAL, DAILY_TRANSFER, DAILY_BILL_PAYMENT)
MONTHLY_LIMITS = (MONTHLY_TRANSFER, MONTHLY_EXTERNAL_TRANSFER)
PERIODIC_LIMITS = DAILY_LIMITS + MONTHLY_LIMITS

# account_entries.limit_class values.
CLASS_ATM = "ATM"
CLASS_TRANSFER = "TRANSFER"  # outgoing internal transfer
CLASS_EXTERNAL_TRANSFER = "EXTERNAL_TRANSFER"
CLASS_BILL_PAYMENT = "BILL_PAYMENT"
CLASS_NONE = ""
LIMIT_CLASSES = frozenset(
    {CLASS_ATM, CLASS_TRANSFER, CLASS_EXTERNAL_TRANSFER, CLASS_BILL_PAYMENT, CLASS_NONE}
)

# Which entry classes each periodic limit counts. The daily and monthly
# transfer limits count internal and external transfers alike (seed 002:
# "Total Transfers"); the monthly external limit counts external ones only.
USAGE_CLASSES: dict[str, frozenset[str]] = {
    DAILY_ATM_WITHDRAWAL: frozenset({CLASS_ATM}),
    DAILY_TRANSFER: frozenset({CLASS_TRANSFER, CLASS_EXTERNAL_TRANSFER}),
    DAILY_BILL_PAYMENT: frozenset({CLASS_BILL_PAYMENT}),
    MONTHLY_TRANSFER: frozenset({CLASS_TRANSFER, CLASS_EXTERNAL_TRANSFER}),
    MONTHLY_EXTERNAL_TRANSFER: frozenset({CLASS_EXTERNAL_TRANSFER}),
}
# Entries in these statuses never happened (or were given back) and count
# against no limit.
USAGE_EXCLUDED_STATUSES = frozenset({"FAILED", "CANCELLED"})

# Seed 002 "Transaction Limits", in major units of the account's currency.
DEFAULT_LIMITS_MAJOR: dict[str, dict[str, int]] = {
    "SAVINGS": {
        DAILY_ATM_WITHDRAWAL: 1_000,
        DAILY_TRANSFER: 5_000,
        DAILY_BILL_PAYMENT: 2_000,
        MONTHLY_TRANSFER: 20_000,
        MONTHLY_EXTERNAL_TRANSFER: 10_000,
    },
    "CHECKING": {
        DAILY_ATM_WITHDRAWAL: 1_500,
        DAILY_TRANSFER: 10_000,
        DAILY_BILL_PAYMENT: 5_000,
        MONTHLY_TRANSFER: 50_000,
        MONTHLY_EXTERNAL_TRANSFER: 25_000,
    },
    "BUSINESS": {
        DAILY_ATM_WITHDRAWAL: 5_000,
        DAILY_TRANSFER: 50_000,
        DAILY_BILL_PAYMENT: 25_000,
        MONTHLY_TRANSFER: 500_000,
        MONTHLY_EXTERNAL_TRANSFER: 250_000,
    },
}
# Seed 002 "Per Transaction Limits", the same for every account type.
PER_TRANSACTION_INTERNAL_TRANSFER_MAX_MAJOR = 10_000  # "can be increased" per account
PER_TRANSACTION_EXTERNAL_TRANSFER_MAX_MAJOR = 5_000
PER_TRANSACTION_ATM_WITHDRAWAL_MAX_MAJOR = 500
PER_TRANSACTION_MIN_CENTS = 1  # 0.01 in a two-decimal currency

# Largest override staff may set (UpdateAccountLimitsRequest): 10,000,000.00.
OVERRIDE_MAX_MAJOR = 10_000_000


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits in effect for one account, in minor units of its currency."""

    daily_atm_withdrawal: int
    daily_transfer: int
    daily_bill_payment: int
    monthly_transfer: int
    monthly_external_transfer: int
    per_transaction_internal_transfer_max: int
    per_transaction_external_transfer_max: int
    per_transaction_atm_withdrawal_max: int
    per_transaction_min: int
    # Names (OVERRIDABLE) whose value is a per-account override.
    overridden: frozenset[str] = field(default_factory=frozenset)

    def get(self, name: str) -> int:
        """The limit called `name` (one of OVERRIDABLE or the per-transaction ones)."""
        value: int = getattr(self, name)
        return value


@dataclass(frozen=True, slots=True)
class Periods:
    """The current limit periods: a UTC calendar day and month, [start, end)."""

    day_start: datetime
    day_end: datetime
    month_start: datetime
    month_end: datetime


def _scale(currency: str) -> int:
    return int(10 ** exponent(currency))


def format_major(minor: int, currency: str) -> str:
    """`1234567` USD -> `12345.67`: an exact figure for error metadata."""
    places = exponent(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"


def per_transaction_min_minor(currency: str) -> int:
    """0.01 in a two-decimal currency; one unit in a currency without decimals."""
    return max(1, PER_TRANSACTION_MIN_CENTS * _scale(currency) // 100)


def override_max_minor(currency: str = "USD") -> int:
    return OVERRIDE_MAX_MAJOR * _scale(currency)


def default_limits(account_type: str, *, currency: str = "USD") -> Limits:
    """Seed 002's limits for an account type (SAVINGS, CHECKING, BUSINESS)."""
    assert account_type in DEFAULT_LIMITS_MAJOR, account_type
    scale = _scale(currency)
    table = DEFAULT_LIMITS_MAJOR[account_type]
    return Limits(
        daily_atm_withdrawal=table[DAILY_ATM_WITHDRAWAL] * scale,
        daily_transfer=table[DAILY_TRANSFER] * scale,
        daily_bill_payment=table[DAILY_BILL_PAYMENT] * scale,
        monthly_transfer=table[MONTHLY_TRANSFER] * scale,
        monthly_external_transfer=table[MONTHLY_EXTERNAL_TRANSFER] * scale,
        per_transaction_internal_transfer_max=PER_TRANSACTION_INTERNAL_TRANSFER_MAX_MAJOR * scale,
        per_transaction_external_transfer_max=PER_TRANSACTION_EXTERNAL_TRANSFER_MAX_MAJOR * scale,
        per_transaction_atm_withdrawal_max=PER_TRANSACTION_ATM_WITHDRAWAL_MAX_MAJOR * scale,
        per_transaction_min=per_transaction_min_minor(currency),
    )


def effective_limits(
    account_type: str, overrides: Mapping[str, int], *, currency: str = "USD"
) -> Limits:
    """The limits in effect: the type's defaults with the account's overrides on top.

    `overrides` maps names of OVERRIDABLE to minor units (what
    `parse_overrides` reads from `accounts.limit_overrides`); other names are
    ignored, so that a retired limit left in stored JSON changes nothing.
    """
    base = default_limits(account_type, currency=currency)
    applied = {name: int(value) for name, value in overrides.items() if name in OVERRIDABLE}
    values = {name: applied.get(name, base.get(name)) for name in OVERRIDABLE}
    return Limits(
        **values,
        per_transaction_external_transfer_max=base.per_transaction_external_transfer_max,
        per_transaction_atm_withdrawal_max=base.per_transaction_atm_withdrawal_max,
        per_transaction_min=base.per_transaction_min,
        overridden=frozenset(applied),
    )


def parse_overrides(stored: str | None) -> dict[str, int]:
    """The overrides held in `accounts.limit_overrides` (a JSON object)."""
    if not stored:
        return {}
    decoded = json.loads(stored)
    assert isinstance(decoded, dict), "limit_overrides must hold a JSON object"
    return {str(name): int(value) for name, value in decoded.items()}


@functools.lru_cache(maxsize=1024)
def stored_limits(account_type: str, stored_overrides: str | None, currency: str) -> Limits:
    """`effective_limits` of an account's stored `limit_overrides` text.

    Every movement asks for these; the answer depends on nothing else, and
    Limits is immutable, so each distinct (type, overrides, currency) is
    worked out once.
    """
    return effective_limits(account_type, parse_overrides(stored_overrides), currency=currency)


def dump_overrides(overrides: Mapping[str, int]) -> str:
    return json.dumps(dict(sorted(overrides.items())), separators=(",", ":"))


def period_bounds(now: datetime) -> Periods:
    """The UTC day and month that contain `now` (naive UTC)."""
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    return Periods(day_start, day_start + timedelta(days=1), month_start, next_month)


def usage_by_limit(
    daily_by_class: Mapping[str, int], monthly_by_class: Mapping[str, int]
) -> dict[str, int]:
    """Used amount per periodic limit, from debit sums per limit_class."""
    used: dict[str, int] = {}
    for name, classes in USAGE_CLASSES.items():
        source = daily_by_class if name in DAILY_LIMITS else monthly_by_class
        used[name] = sum(source.get(cls, 0) for cls in classes)
    return used


def wire_field(name: str) -> str:
    """The UpdateAccountLimitsRequest field that sets limit `name`."""
    return f"{name}_limit" if name in PERIODIC_LIMITS else name


def parse_override(name: str, value: float, currency: str) -> int:
    """Minor units of a wire override value; TXN005 when inexact or not finite."""
    assert name in OVERRIDABLE, name
    return parse_signed_amount(value, currency, wire_field(name))


def apply_override_changes(
    current: Mapping[str, int],
    changes: Mapping[str, int],
    resets: frozenset[str],
    *,
    account_type: str,
    currency: str,
) -> dict[str, int]:
    """New overrides after setting `changes` and removing `resets`, validated.

    Each value is 0 (blocks that kind of movement) to OVERRIDE_MAX_MAJOR. A
    new monthly external limit may not exceed the monthly transfer limit in
    effect, and a new per-transaction internal maximum may not exceed the
    daily transfer limit in effect, both counted after this change.
    """
    assert set(changes) <= set(OVERRIDABLE) and resets <= set(OVERRIDABLE)
    both = sorted(set(changes) & resets)
    if both:
        raise errors.ValidationFailed(
            f"{both[0]} is both set and reset to its default",
            field=wire_field(both[0]),
            metadata={"limit": both[0]},
        )
    for name, value in changes.items():
        if not 0 <= value <= override_max_minor(currency):
            raise errors.InvalidAmount(
                f"{name} must be between 0 and {OVERRIDE_MAX_MAJOR:,}",
                field=wire_field(name),
                metadata={"limit": name, "max": str(OVERRIDE_MAX_MAJOR)},
            )
    result = {k: v for k, v in current.items() if k in OVERRIDABLE and k not in resets}
    result.update(changes)
    after = effective_limits(account_type, result, currency=currency)
    if (
        MONTHLY_EXTERNAL_TRANSFER in changes
        and after.monthly_external_transfer > after.monthly_transfer
    ):
        raise errors.ValidationFailed(
            "The monthly external transfer limit may not exceed the monthly transfer limit",
            field="monthly_external_transfer_limit",
            metadata={"monthly_transfer_limit": format_major(after.monthly_transfer, currency)},
        )
    if (
        PER_TRANSACTION_INTERNAL_TRANSFER_MAX in changes
        and after.per_transaction_internal_transfer_max > after.daily_transfer
    ):
        raise errors.ValidationFailed(
            "The per-transaction internal transfer maximum may not exceed the daily transfer limit",
            field="per_transaction_internal_transfer_max",
            metadata={"daily_transfer_limit": format_major(after.daily_transfer, currency)},
        )
    return result
