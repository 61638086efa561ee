"""Rules of an external transfer (seed 002 section 2): rails, fees, limits, timing.

Plain Python over integer minor units; the use case applies these inside its
database transaction, and the workers that submit and settle transfers call
the same functions.

Decisions where seed 002 is silent or disagrees with itself, written down so
that the protos and the README can say the same:
- Fees come from the seed's fee table, not its example response: the
  example answers `"fee": 5.00` for a 1,000.00 ACH transfer, which no row of
  the table gives. ACH: the first 3 ACH transfers per source account and
  calendar month are free, then 1.00 each; domestic wire 25.00;
  international wire 45.00. The month is the UTC calendar month, the same
  period the monthly limits count (`limits.period_bounds`). A transfer that
  ends FAILED or CANCELLED gives its fee back and does not use up a free
  one, as it counts against no limit.
- The fee is charged on top of the amount; limits count the amount only.
- Per-transaction amount: 0.01 to 5,000.00 on every rail (TXN005). Periodic
  limits (TXN004): the daily and monthly transfer limits (which count
  internal and external transfers alike) and the seed's monthly
  external-transfer limit per account type (SAVINGS 10,000, CHECKING 25,000,
  BUSINESS 250,000).
- ACH and domestic wires settle in USD only (the US networks do); an
  international wire leaves in the source account's currency.
- Timing, in America/New_York (the Federal Reserve's clock, so daylight
  saving time moves the cut-offs in UTC): a transfer accepted on a business
  day before its rail's cut-off is submitted at once; otherwise it is
  submitted at 09:00 on the next business day. The cut-off is 14:00 for
  wires (the seed's "same day if before 2 PM EST"; EST read as New York
  time, which is EDT in summer) and 14:45 for ACH (the Fed's last same-day
  ACH submission window). Settlement, `estimated_completion`, is 17:00 New
  York time on the submission day plus: ACH 2 business days (the middle of
  the seed's 1-3), domestic wire 0 (same day), international wire 5 (the top
  of the seed's 3-5, as deposit holds take the top of their ranges and as
  transaction.proto already promises). The seed's example (accepted Sunday
  2025-11-09, completion 2025-11-11, itself a Fed holiday) fits no rule and
  is not followed.
- Status: PENDING (accepted, amount and fee reserved in pending_debits) ->
  PROCESSING (submitted; the debit posts) -> COMPLETED (settled). PENDING
  may also end CANCELLED (by the customer) or FAILED (refused at
  submission); PROCESSING may end FAILED (returned by the receiving bank,
  the money and fee given back). COMPLETED and FAILED are final; a later
  correction is a REFUND or REVERSAL transaction of its own.
- Sandbox beneficiaries that fail on purpose, by the last four digits of
  the beneficiary account number (or IBAN): `0001` R01 insufficient funds,
  `0002` R02 account closed, `0003` R03 no account / unable to locate
  account (NACHA return codes, used for every rail). The transfer is
  submitted as usual and comes back FAILED at its estimated completion; the
  NACHA code is its failure code. R01 also costs the seed's returned-item
  fee, 30.00, as a FEE transaction of its own: the seed's fee table calls
  that fee an NSF fee, so the other returns cost nothing. Outside sandbox
  mode no account number fails on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.domain import errors, limit_checks, limits
from server.domain.calendar import add_business_days, is_business_day
from server.domain.lifecycle import Lifecycle
from server.domain.money import exponent
from server.domain.transaction_states import CANCELLED, COMPLETED, FAILED, PENDING, PROCESSING

# TransferRailEnum.TransferRail; TRANSFER_RAIL_UNSPECIFIED means ACH.
ACH = "ACH"
WIRE = "WIRE"
INTERNATIONAL_WIRE = "INTERNATIONAL_WIRE"
RAILS = (ACH, WIRE, INTERNATIONAL_WIRE)
DEFAULT_RAIL = ACH
# Rails of the US payment system: they reach US banks by ABA routing number.
DOMESTIC_RAILS = frozenset({ACH, WIRE})
DOMESTIC_CURRENCY = "USD"

# Fees, in cents of a two-decimal currency (seed 002 "Fees Structure").
ACH_FREE_PER_MONTH = 3
FEE_CENTS = {ACH: 1_00, WIRE: 25_00, INTERNATIONAL_WIRE: 45_00}
RETURNED_ITEM_FEE_CENTS = 30_00

# Timing (see the module docstring).
NEW_YORK = ZoneInfo("America/New_York")
CUTOFF_LOCAL = {ACH: time(14, 45), WIRE: time(14, 0), INTERNATIONAL_WIRE: time(14, 0)}
SUBMISSION_LOCAL = time(9, 0)
SETTLEMENT_LOCAL = time(17, 0)
SETTLEMENT_BUSINESS_DAYS = {ACH: 2, WIRE: 0, INTERNATIONAL_WIRE: 5}

# The periodic limits an external transfer counts against (limits.USAGE_CLASSES):
# the use case checks them with the account's counters read under its lock.
EXTERNAL_TRANSFER_LIMITS = (
    limits.DAILY_TRANSFER,
    limits.MONTHLY_TRANSFER,
    limits.MONTHLY_EXTERNAL_TRANSFER,
)

LIFECYCLE = Lifecycle(
    "external transfer",
    {
        PENDING: frozenset({PROCESSING, FAILED, CANCELLED}),
        PROCESSING: frozenset({COMPLETED, FAILED}),
    },
)


@dataclass(frozen=True, slots=True)
class NetworkReturn:
    """Why the receiving bank sent a transfer back (a NACHA return code)."""

    code: str
    reason: str
    # Whether the seed's returned-item fee is charged for this return.
    returned_item_fee: bool


# Sandbox beneficiaries that fail on purpose, by the account number's last
# four characters. Real accounts end in these digits too, hence sandbox only.
SANDBOX_RETURNS: Mapping[str, NetworkReturn] = {
    "0001": NetworkReturn("R01", "Insufficient funds", returned_item_fee=True),
    "0002": NetworkReturn("R02", "Account closed", returned_item_fee=False),
    "0003": NetworkReturn("R03", "No account or unable to locate account", returned_item_fee=False),
}


def parse_rail(value: str) -> str:
    """The rail a request names; empty (TRANSFER_RAIL_UNSPECIFIED) is ACH."""
    if not value:
        return DEFAULT_RAIL
    if value not in RAILS:
        raise errors.ValidationFailed(
            f"Unknown rail {value}", field="rail", metadata={"rail": value}
        )
    return value


def _nominal_minor(cents: int, currency: str) -> int:
    """A seed figure given in cents, in minor units of `currency`.

    As for limits, an account in another currency pays the same nominal
    figure in its own major unit: the bank applies no exchange rate.
    """
    scale: int = 10 ** exponent(currency)
    return cents * scale // 100


def transfer_fee_minor(rail: str, *, ach_transfers_this_month: int, currency: str) -> int:
    """The fee of one transfer on `rail`, in minor units.

    `ach_transfers_this_month`: the source account's ACH transfers already
    made in this UTC calendar month, not counting FAILED or CANCELLED ones
    (they give their fee back). The 4th and later ACH transfers cost 1.00.
    """
    assert rail in RAILS, rail
    assert ach_transfers_this_month >= 0, ach_transfers_this_month
    if rail == ACH and ach_transfers_this_month < ACH_FREE_PER_MONTH:
        return 0
    return _nominal_minor(FEE_CENTS[rail], currency)


@dataclass(frozen=True, slots=True)
class PriorTransfer:
    """An earlier external transfer of the same source account (naive UTC time)."""

    rail: str
    status: str
    created_at: datetime


def ach_transfers_this_month(prior: Iterable[PriorTransfer], now: datetime) -> int:
    """How many of the account's free ACH transfers the UTC month of `now` has used.

    Counts ACH transfers created in that month that did not end FAILED or
    CANCELLED; the store may count the same rows with SQL instead.
    """
    period = limits.period_bounds(now)
    return sum(
        1
        for transfer in prior
        if transfer.rail == ACH
        and transfer.status not in limits.USAGE_EXCLUDED_STATUSES
        and period.month_start <= transfer.created_at < period.month_end
    )


def returned_item_fee_minor(network_return: NetworkReturn, currency: str) -> int:
    """The returned-item fee a return costs the sender (0 when none applies)."""
    if not network_return.returned_item_fee:
        return 0
    return _nominal_minor(RETURNED_ITEM_FEE_CENTS, currency)


def check_rail_currency(rail: str, currency: str) -> None:
    """ACH and domestic wires move US dollars only (TXN006 otherwise)."""
    assert rail in RAILS, rail
    if rail in DOMESTIC_RAILS and currency != DOMESTIC_CURRENCY:
        raise errors.CurrencyMismatch(
            f"{rail} transfers are made in {DOMESTIC_CURRENCY} only; use INTERNATIONAL_WIRE",
            field="currency",
            metadata={"rail": rail, "currency": currency, "rail_currency": DOMESTIC_CURRENCY},
        )


def check_amount(amount_minor: int, effective: limits.Limits, currency: str) -> None:
    """Refuses (TXN005) an amount outside 0.01 to 5,000.00 (the per-transaction limits)."""
    minimum = effective.per_transaction_min
    maximum = effective.per_transaction_external_transfer_max
    if amount_minor < minimum:
        shown = limits.format_major(minimum, currency)
        raise errors.InvalidAmount(
            f"Amount is below the minimum of {shown}", field="amount", metadata={"minimum": shown}
        )
    if amount_minor > maximum:
        shown = limits.format_major(maximum, currency)
        raise errors.InvalidAmount(
            f"Amount is above the external transfer maximum of {shown}",
            field="amount",
            metadata={"maximum": shown},
        )


def check_limits(
    amount_minor: int,
    used_by_limit: Mapping[str, int],
    effective: limits.Limits,
    currency: str,
) -> list[limit_checks.LimitUse]:
    """Refuses (TXN004) a transfer over the daily, monthly or monthly external limit."""
    return limit_checks.check(
        EXTERNAL_TRANSFER_LIMITS, amount_minor, used_by_limit, effective, currency
    )


def _new_york(moment: datetime) -> datetime:
    """`moment` (naive UTC, as the store keeps time, or aware) in New York time."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(NEW_YORK)


def _as_naive_utc(moment: datetime) -> datetime:
    """`moment` as the store keeps time: naive UTC."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _naive_utc(day: date, local: time) -> datetime:
    """`local` New York time on `day`, as naive UTC."""
    return datetime.combine(day, local, tzinfo=NEW_YORK).astimezone(UTC).replace(tzinfo=None)


def submission_day(rail: str, accepted_at: datetime) -> date:
    """The business day (New York) a transfer accepted at `accepted_at` is submitted on.

    The day of acceptance when it is a business day and the rail's cut-off
    has not passed; otherwise the next business day.
    """
    assert rail in RAILS, rail
    local = _new_york(accepted_at)
    day = local.date()
    if is_business_day(day) and local.time() < CUTOFF_LOCAL[rail]:
        return day
    return add_business_days(day + timedelta(days=1), 0)


def submission_at(rail: str, accepted_at: datetime) -> datetime:
    """When the transfer goes to the network (naive UTC): PENDING until then.

    At once when accepted before the cut-off of a business day, else at
    09:00 New York time on the next business day. A worker moves it to
    PROCESSING at this time; until then the customer may cancel it.
    """
    day = submission_day(rail, accepted_at)
    if day == _new_york(accepted_at).date():
        return _as_naive_utc(accepted_at)
    return _naive_utc(day, SUBMISSION_LOCAL)


def estimated_completion(rail: str, accepted_at: datetime) -> datetime:
    """When the transfer should settle (naive UTC): 17:00 New York time of its day.

    ACH: 2 business days after its submission day; domestic wire: the
    submission day itself; international wire: 5 business days after.
    """
    day = add_business_days(submission_day(rail, accepted_at), SETTLEMENT_BUSINESS_DAYS[rail])
    return _naive_utc(day, SETTLEMENT_LOCAL)


def sandbox_return(account_number: str, *, sandbox: bool) -> NetworkReturn | None:
    """The return a sandbox beneficiary triggers on purpose, else None.

    `account_number` is the beneficiary's account number as validated (an
    IBAN when it replaces the account number). Always None outside sandbox
    mode, so that a real account ending in 0001 is never failed.
    """
    if not sandbox:
        return None
    return SANDBOX_RETURNS.get(account_number[-4:])


def move(current: str, target: str) -> str:
    """The external transfer's next status, or the 409 an illegal move is."""
    return LIFECYCLE.move(current, target)
