"""Rules of a bill payment (seed 002 section 5): dates, delivery, limits, status.

Plain Python over integer minor units and dates; the use case applies these
inside its database transaction and the scheduled-work sweeper executes
SCHEDULED payments with the same functions.

Decisions where seed 002 is silent or disagrees with itself, written down so
that the protos and the README can say the same:
- `paymentDate` is a UTC calendar date (the bank's days are UTC days, as for
  limits and scheduled transfers): today up to 365 days ahead; a past date
  or a later one is VALIDATION_ERROR on `paymentDate`. Omitted means today.
- A `paymentDate` that is not a business day is accepted, not refused: the
  seed's own example pays on Saturday 2025-11-15. The account is debited on
  that date (today's payments at once, later ones at 09:00 UTC, as
  transaction.proto says); the payment leaves for the payee on the first
  business day on or after it (Monday to Friday less Federal Reserve
  holidays) and is delivered a number of business days after that.
- Delivery depends on how the payee is paid. The seed prints only a
  UTILITY payee; the bank pays UTILITY, CREDIT_CARD, GOVERNMENT and MERCHANT
  payees electronically, 2 business days after sending (the top of the
  usual 1-2, as deposit holds take the top of their ranges), and INDIVIDUAL
  and OTHER payees, who are in no biller directory, by mailed check, 5
  business days after sending. The seed's example (Saturday 15th delivered
  Monday 17th) fits no business-day rule and is not followed: the rule gives
  Wednesday 2025-11-19. transaction.proto's `estimated_delivery` comment
  ("two business days after it is sent") holds for electronic payees only.
- Limits: seed 002's daily bill-payment limit per account type (SAVINGS
  2,000, CHECKING 5,000, BUSINESS 25,000; TXN004), counted on the day the
  payment is debited. No per-transaction maximum beyond it; minimum 0.01
  (TXN005). Bill payments are free.
- Status: today's payment starts PROCESSING (debited at once), a later one
  SCHEDULED (its amount reserved in the account's pending debits, nothing
  posted until it executes). SCHEDULED -> PROCESSING
  when executed, or FAILED (refused when executed: funds, limits, a frozen
  account) or CANCELLED. PROCESSING -> COMPLETED when delivered, FAILED
  when the payee refuses it (the money given back), or CANCELLED within the
  5-minute window of `cancellation.check_cancellable`. COMPLETED, FAILED and
  CANCELLED are final.
- A payee's refusal is known at the estimated delivery, when the payment
  would complete: failure_code PAYEE_RETURNED, the debit mirrored back from
  bill-pay clearing under the same transaction, the day's bill-payment limit
  given back. In the sandbox, a number at the payee ending 0001 is returned
  (SANDBOX_PAYEE_RETURNS); real numbers end so too, hence sandbox only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from server.domain import errors, limit_checks, limits
from server.domain.calendar import add_business_days
from server.domain.lifecycle import Lifecycle
from server.domain.transaction_states import CANCELLED, COMPLETED, FAILED, PROCESSING, SCHEDULED

# PayeeTypeEnum.PayeeType (payee.proto); the seed prints UTILITY.
UTILITY = "UTILITY"
CREDIT_CARD = "CREDIT_CARD"
MERCHANT = "MERCHANT"
INDIVIDUAL = "INDIVIDUAL"
GOVERNMENT = "GOVERNMENT"
OTHER = "OTHER"
PAYEE_TYPES = (UTILITY, CREDIT_CARD, MERCHANT, INDIVIDUAL, GOVERNMENT, OTHER)

# How the bank pays a payee, and how many business days delivery takes after
# the payment leaves (see the module docstring).
ELECTRONIC = "ELECTRONIC"
CHECK = "CHECK"
DELIVERY_METHODS: Mapping[str, str] = {
    UTILITY: ELECTRONIC,
    CREDIT_CARD: ELECTRONIC,
    GOVERNMENT: ELECTRONIC,
    MERCHANT: ELECTRONIC,
    INDIVIDUAL: CHECK,
    OTHER: CHECK,
}
DELIVERY_BUSINESS_DAYS: Mapping[str, int] = {ELECTRONIC: 2, CHECK: 5}

PAYMENT_DATE_AHEAD_MAX_DAYS = 365
MEMO_LENGTH_MAX = 140
PAYEE_ACCOUNT_NUMBER_LENGTH_MAX = 34
_PAYEE_ACCOUNT_NUMBER_RE = re.compile(r"[0-9A-Za-z]+")

FIELD_PAYMENT_DATE = "paymentDate"
FIELD_ACCOUNT_NUMBER = "accountNumber"
FIELD_MEMO = "memo"

# The periodic limits a bill payment counts against (limits.USAGE_CLASSES), on
# the day it is debited; the use case checks them under the account's lock.
BILL_PAYMENT_LIMITS = (limits.DAILY_BILL_PAYMENT,)

LIFECYCLE = Lifecycle(
    "bill payment",
    {
        SCHEDULED: frozenset({PROCESSING, FAILED, CANCELLED}),
        PROCESSING: frozenset({COMPLETED, FAILED, CANCELLED}),
    },
)


# failure_code of a payment the payee refused after it left (PROCESSING -> FAILED).
PAYEE_RETURNED = "PAYEE_RETURNED"


@dataclass(frozen=True, slots=True)
class PayeeReturn:
    """Why a payee sent a payment back: failure_code and failure_reason."""

    code: str
    reason: str


# Sandbox numbers at the payee that come back on purpose, by their last four
# characters (the last four the payment keeps readable).
SANDBOX_PAYEE_RETURNS: Mapping[str, PayeeReturn] = {
    "0001": PayeeReturn(PAYEE_RETURNED, "Returned by the payee: no such customer account"),
}


def payee_return(payee_account_last4: str, sandbox: bool) -> PayeeReturn | None:
    """The payee's refusal of a payment delivered now, or None (it completes)."""
    if not sandbox:
        return None
    return SANDBOX_PAYEE_RETURNS.get(payee_account_last4)


def resolve_payment_date(requested: date | None, today: date) -> date:
    """The date the payment is debited: `requested`, or today when omitted.

    `today` is the UTC date of the bank's clock (the sandbox clock in
    sandbox mode). Refuses a past date and one more than 365 days ahead.
    """
    if requested is None:
        return today
    facts = {"payment_date": requested.isoformat(), "today": today.isoformat()}
    if requested < today:
        raise errors.ValidationFailed(
            "paymentDate is in the past", field=FIELD_PAYMENT_DATE, metadata=facts
        )
    latest = today + timedelta(days=PAYMENT_DATE_AHEAD_MAX_DAYS)
    if requested > latest:
        raise errors.ValidationFailed(
            f"paymentDate is at most {PAYMENT_DATE_AHEAD_MAX_DAYS} days ahead",
            field=FIELD_PAYMENT_DATE,
            metadata={**facts, "latest": latest.isoformat()},
        )
    return requested


def initial_status(payment_date: date, today: date) -> str:
    """PROCESSING for a payment debited today, SCHEDULED for a later date."""
    assert payment_date >= today, (payment_date, today)
    return PROCESSING if payment_date == today else SCHEDULED


def delivery_method(payee_type: str) -> str:
    """ELECTRONIC or CHECK: how the bank pays a payee of this type."""
    assert payee_type in DELIVERY_METHODS, payee_type
    return DELIVERY_METHODS[payee_type]


def send_date(payment_date: date) -> date:
    """The business day the payment leaves for the payee: `payment_date` or the next one."""
    return add_business_days(payment_date, 0)


def estimated_delivery(payment_date: date, payee_type: str) -> date:
    """When the payee should have the money: business days after `send_date`.

    2 business days for electronic payees, 5 for payees paid by check.
    """
    days = DELIVERY_BUSINESS_DAYS[delivery_method(payee_type)]
    return add_business_days(send_date(payment_date), days)


def check_amount(amount_minor: int, effective: limits.Limits, currency: str) -> None:
    """Refuses (TXN005) an amount under the minimum (0.01)."""
    if amount_minor < effective.per_transaction_min:
        shown = limits.format_major(effective.per_transaction_min, currency)
        raise errors.InvalidAmount(
            f"Amount is below the minimum of {shown}", field="amount", metadata={"minimum": shown}
        )


def check_limits(
    amount_minor: int,
    used_by_limit: Mapping[str, int],
    effective: limits.Limits,
    currency: str,
) -> list[limit_checks.LimitUse]:
    """Refuses (TXN004) a payment over the account's daily bill-payment limit.

    `used_by_limit` holds the usage of the day the payment is debited on.
    """
    return limit_checks.check(BILL_PAYMENT_LIMITS, amount_minor, used_by_limit, effective, currency)


def validate_payee_account_number(value: str, on_record: str) -> str:
    """The customer's number at the payee: the request's, else the payee record's.

    1 to 34 letters and digits (a contract or reference number, not a bank
    account number).
    """
    number = value.strip() or on_record
    if not (
        _PAYEE_ACCOUNT_NUMBER_RE.fullmatch(number)
        and len(number) <= PAYEE_ACCOUNT_NUMBER_LENGTH_MAX
    ):
        raise errors.ValidationFailed(
            f"accountNumber is 1 to {PAYEE_ACCOUNT_NUMBER_LENGTH_MAX} letters and digits",
            field=FIELD_ACCOUNT_NUMBER,
            metadata={"length": str(len(number))},
        )
    return number


def validate_memo(memo: str) -> str:
    """The memo passed on to the payee, at most 140 characters."""
    text = memo.strip()
    if len(text) > MEMO_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"memo is at most {MEMO_LENGTH_MAX} characters",
            field=FIELD_MEMO,
            metadata={"length": str(len(text)), "length_max": str(MEMO_LENGTH_MAX)},
        )
    return text


def move(current: str, target: str) -> str:
    """The payment's next status, or the 409 an illegal move is.

    A cancel of a PROCESSING payment passes here; whether its 5-minute
    window is still open is `cancellation.check_cancellable`'s to say.
    """
    return LIFECYCLE.move(current, target)
