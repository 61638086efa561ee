"""Recurring schedules: when they run, and what makes a new schedule valid.

A schedule (transaction.proto, RecurringTransaction) creates one ordinary
TRANSFER or PAYMENT per execution date, at 09:00 UTC on that date. The
schedule's life (ACTIVE, PAUSED, CANCELLED, COMPLETED) and what happens to
a refused run are in `server.domain.recurring_runs`.

Dates are calendar dates; instants are naive UTC datetimes, the project's
convention (server.store.clock).

How each frequency counts (the words of RecurringFrequencyEnum):
- DAILY, WEEKLY, BIWEEKLY: every 1, 7 or 14 days from start_date.
- MONTHLY, QUARTERLY, ANNUALLY: every 1, 3 or 12 months from start_date's
  month, on day_of_month (default start_date's day). In a month shorter than
  day_of_month the last day of the month is used, and the next month is
  back on day_of_month: each date is worked out from the anchor (start
  month, day_of_month), never from the previous date, so a 31st never drifts
  to the 28th for good. The first execution is the first such date on or
  after start_date.
- Execution dates are not moved off weekends or holidays: internal transfers
  and bill payments book any day, and the payment's delivery estimate
  already counts business days.

A schedule starting today runs today at 09:00 UTC, or at once when 09:00
has passed (its first execution instant is then already due). The proto has
no maximum execution count; the end date alone ends a schedule.
"""

from __future__ import annotations

import itertools
from calendar import monthrange
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from server.domain import errors
from server.domain.limits import Limits, format_major
from server.domain.scheduling import SCHEDULED_HOUR_UTC

# RecurringFrequencyEnum.RecurringFrequency.
DAILY = "DAILY"
WEEKLY = "WEEKLY"
BIWEEKLY = "BIWEEKLY"
MONTHLY = "MONTHLY"
QUARTERLY = "QUARTERLY"
ANNUALLY = "ANNUALLY"
FREQUENCIES = (DAILY, WEEKLY, BIWEEKLY, MONTHLY, QUARTERLY, ANNUALLY)
_DAY_STEPS = {DAILY: 1, WEEKLY: 7, BIWEEKLY: 14}
_MONTH_STEPS = {MONTHLY: 1, QUARTERLY: 3, ANNUALLY: 12}
DAY_OF_MONTH_FREQUENCIES = frozenset(_MONTH_STEPS)

# RecurringTransactionTypeEnum.RecurringTransactionType.
RECURRING_TRANSFER = "RECURRING_TRANSFER"
RECURRING_PAYMENT = "RECURRING_PAYMENT"

# Every execution runs at this time (UTC) of its date (transaction.proto): the
# hour every scheduled movement runs at.
EXECUTION_TIME_UTC = time(hour=SCHEDULED_HOUR_UTC)
# CreateRecurringTransactionRequest: start_date today to 365 days ahead, end
# date at most 10 years after the start.
START_DATE_AHEAD_MAX_DAYS = 365
END_DATE_AFTER_START_MAX_MONTHS = 120


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a recurring transaction runs. Build it with `new_schedule`, which validates.

    `day_of_month` is set exactly for MONTHLY, QUARTERLY and ANNUALLY.
    """

    frequency: str
    start_date: date
    end_date: date | None = None
    day_of_month: int | None = None

    def __post_init__(self) -> None:
        assert self.frequency in FREQUENCIES, self.frequency
        monthly = self.frequency in DAY_OF_MONTH_FREQUENCIES
        assert (self.day_of_month is not None) == monthly, "day_of_month iff monthly-ish"
        assert self.day_of_month is None or 1 <= self.day_of_month <= 31


# --- arithmetic ----------------------------------------------------------------


def _month_number(day: date) -> int:
    """Months since year 0, so that adding months is adding integers."""
    return day.year * 12 + day.month - 1


def _date_in_month(month_number: int, day_of_month: int) -> date:
    """`day_of_month` of that month, or its last day when the month is shorter."""
    year, month_index = divmod(month_number, 12)
    last_day = monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(day_of_month, last_day))


def _first_month_offset(schedule: Schedule) -> int:
    """0 when start_date's own month holds the first execution, else 1 (its day has passed)."""
    assert schedule.day_of_month is not None
    anchor = _date_in_month(_month_number(schedule.start_date), schedule.day_of_month)
    return 0 if anchor >= schedule.start_date else 1


def execution_date(schedule: Schedule, index: int) -> date:
    """The date of execution number `index` (0 = the first), ignoring end_date."""
    assert index >= 0
    if schedule.frequency in _DAY_STEPS:
        return schedule.start_date + timedelta(days=index * _DAY_STEPS[schedule.frequency])
    assert schedule.day_of_month is not None
    step = _MONTH_STEPS[schedule.frequency]
    periods = _first_month_offset(schedule) + index
    return _date_in_month(
        _month_number(schedule.start_date) + periods * step, schedule.day_of_month
    )


def first_index_on_or_after(schedule: Schedule, day: date) -> int:
    """The smallest index whose execution date is `day` or later (end_date ignored).

    Computed, not counted from the start, so that a ten-year DAILY schedule
    costs the same as a new one.
    """
    if day <= schedule.start_date:
        return 0
    if schedule.frequency in _DAY_STEPS:
        step_days = _DAY_STEPS[schedule.frequency]
        return -(-(day - schedule.start_date).days // step_days)
    months = _month_number(day) - _month_number(schedule.start_date)
    offset = _first_month_offset(schedule)
    index = max(months // _MONTH_STEPS[schedule.frequency] - offset, 0)
    # The period containing `day` may hold its execution before `day`: then
    # the next one is the answer. Never more than two steps.
    while execution_date(schedule, index) < day:
        index += 1
    return index


def _within_end(schedule: Schedule, day: date) -> bool:
    return schedule.end_date is None or day <= schedule.end_date


def execution_dates(schedule: Schedule, from_date: date | None = None) -> Iterator[date]:
    """Execution dates on or after `from_date` (default start_date), up to end_date.

    Open-ended schedules never end: take what you need with itertools.islice.
    """
    first = 0 if from_date is None else first_index_on_or_after(schedule, from_date)
    for index in itertools.count(first):
        day = execution_date(schedule, index)
        if not _within_end(schedule, day):
            return
        yield day


def execution_instant(day: date) -> datetime:
    """When the execution of `day` runs: 09:00 UTC that day."""
    return datetime.combine(day, EXECUTION_TIME_UTC)


def first_execution(schedule: Schedule) -> datetime | None:
    """The first execution instant; None when end_date comes before it.

    It may be in the past for a schedule created today after 09:00 UTC: it
    is then due at once.
    """
    day = execution_date(schedule, 0)
    return execution_instant(day) if _within_end(schedule, day) else None


def next_execution(schedule: Schedule, after: datetime) -> datetime | None:
    """The first execution instant strictly after `after`; None once past end_date."""
    assert after.tzinfo is None, "instants are naive UTC"
    earliest = after.date() if after.time() < EXECUTION_TIME_UTC else after.date() + timedelta(1)
    day = execution_date(schedule, first_index_on_or_after(schedule, earliest))
    return execution_instant(day) if _within_end(schedule, day) else None


# --- validation of a new schedule --------------------------------------------------


def _months_later(day: date, months: int) -> date:
    return _date_in_month(_month_number(day) + months, day.day)


def new_schedule(
    frequency: str | None,
    start_date: date,
    end_date: date | None,
    day_of_month: int | None,
    *,
    today: date,
) -> Schedule:
    """A validated schedule, or ValidationFailed naming the JSON field at fault.

    `today` is the bank's UTC date (the sandbox clock's). Start today up to
    365 days ahead; end not before start and at most 10 years after it;
    dayOfMonth 1-31, only for MONTHLY, QUARTERLY and ANNUALLY (default the
    start date's day). A schedule whose end date leaves no execution at all
    is refused on endDate: it would be created only to complete.
    """
    if frequency not in FREQUENCIES:
        raise errors.ValidationFailed(
            f"frequency must be one of {', '.join(FREQUENCIES)}", field="frequency"
        )
    if start_date < today:
        raise errors.ValidationFailed("startDate must not be in the past", field="startDate")
    if start_date > today + timedelta(days=START_DATE_AHEAD_MAX_DAYS):
        raise errors.ValidationFailed(
            f"startDate must be at most {START_DATE_AHEAD_MAX_DAYS} days ahead",
            field="startDate",
            metadata={"days_max": str(START_DATE_AHEAD_MAX_DAYS)},
        )
    if end_date is not None and end_date < start_date:
        raise errors.ValidationFailed("endDate must not be before startDate", field="endDate")
    if end_date is not None and end_date > _months_later(
        start_date, END_DATE_AFTER_START_MAX_MONTHS
    ):
        raise errors.ValidationFailed(
            "endDate must be at most 10 years after startDate", field="endDate"
        )
    if day_of_month is not None and frequency not in DAY_OF_MONTH_FREQUENCIES:
        raise errors.ValidationFailed(
            "dayOfMonth applies only to MONTHLY, QUARTERLY and ANNUALLY", field="dayOfMonth"
        )
    if day_of_month is not None and not 1 <= day_of_month <= 31:
        raise errors.ValidationFailed("dayOfMonth must be between 1 and 31", field="dayOfMonth")
    if frequency in DAY_OF_MONTH_FREQUENCIES and day_of_month is None:
        day_of_month = start_date.day
    schedule = Schedule(frequency, start_date, end_date, day_of_month)
    if first_execution(schedule) is None:
        raise errors.ValidationFailed("endDate comes before the first execution", field="endDate")
    return schedule


def recurring_type(from_account_id: str, to_account_id: str, payee_id: str) -> str:
    """RECURRING_TRANSFER or RECURRING_PAYMENT: exactly one of toAccountId and payeeId."""
    if bool(to_account_id) == bool(payee_id):
        raise errors.ValidationFailed(
            "Give exactly one of toAccountId and payeeId",
            field="payeeId" if payee_id else "toAccountId",
        )
    if to_account_id and to_account_id == from_account_id:
        raise errors.ValidationFailed(
            "toAccountId must differ from fromAccountId", field="toAccountId"
        )
    return RECURRING_TRANSFER if to_account_id else RECURRING_PAYMENT


def check_amount(amount_minor: int, currency: str, limits: Limits, kind: str) -> None:
    """TXN005 unless every execution's amount fits the per-execution bounds.

    A transfer's per-transaction maximum is the debited account's internal
    transfer maximum (staff may raise it). A payment has no per-transaction
    maximum of its own; the daily bill-payment limit caps it, since a run
    above it could never succeed. Daily and monthly usage is checked when
    each run executes, not here.
    """
    assert kind in (RECURRING_TRANSFER, RECURRING_PAYMENT), kind
    maximum = (
        limits.per_transaction_internal_transfer_max
        if kind == RECURRING_TRANSFER
        else limits.daily_bill_payment
    )
    if amount_minor < limits.per_transaction_min:
        raise errors.InvalidAmount(
            "Amount is below the minimum",
            field="amount",
            metadata={"minimum": format_major(limits.per_transaction_min, currency)},
        )
    if amount_minor > maximum:
        raise errors.InvalidAmount(
            "Amount is above the per-transaction maximum",
            field="amount",
            metadata={"maximum": format_major(maximum, currency)},
        )
