"""Recurring schedule arithmetic and validation, without a database."""

from __future__ import annotations

import itertools
from calendar import monthrange
from datetime import date, datetime, timedelta

import pytest

from server.domain import errors
from server.domain import recurring as rules
from server.domain.limits import default_limits
from server.domain.recurring import (
    ANNUALLY,
    BIWEEKLY,
    DAILY,
    MONTHLY,
    QUARTERLY,
    WEEKLY,
    Schedule,
)

TODAY = date(2027, 1, 10)


def dates(schedule: Schedule, count: int, from_date: date | None = None) -> list[date]:
    return list(itertools.islice(rules.execution_dates(schedule, from_date), count))


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


# --- every frequency ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "day_of_month", "expected"),
    [
        (DAILY, None, ["2027-01-15", "2027-01-16", "2027-01-17", "2027-01-18"]),
        (WEEKLY, None, ["2027-01-15", "2027-01-22", "2027-01-29", "2027-02-05"]),
        (BIWEEKLY, None, ["2027-01-15", "2027-01-29", "2027-02-12", "2027-02-26"]),
        (MONTHLY, 15, ["2027-01-15", "2027-02-15", "2027-03-15", "2027-04-15"]),
        (QUARTERLY, 15, ["2027-01-15", "2027-04-15", "2027-07-15", "2027-10-15"]),
        (ANNUALLY, 15, ["2027-01-15", "2028-01-15", "2029-01-15", "2030-01-15"]),
    ],
)
def test_every_frequency_counts_from_the_start_date(
    frequency: str, day_of_month: int | None, expected: list[str]
) -> None:
    schedule = rules.new_schedule(frequency, date(2027, 1, 15), None, day_of_month, today=TODAY)
    assert [d.isoformat() for d in dates(schedule, 4)] == expected


def test_monthly_day_of_month_defaults_to_the_start_day() -> None:
    schedule = rules.new_schedule(MONTHLY, date(2027, 1, 20), None, None, today=TODAY)
    assert schedule.day_of_month == 20
    assert dates(schedule, 2) == [date(2027, 1, 20), date(2027, 2, 20)]


def test_day_of_month_already_past_in_the_start_month_begins_the_month_after() -> None:
    schedule = rules.new_schedule(MONTHLY, date(2027, 1, 20), None, 15, today=TODAY)
    assert dates(schedule, 2) == [date(2027, 2, 15), date(2027, 3, 15)]
    quarterly = rules.new_schedule(QUARTERLY, date(2027, 1, 20), None, 15, today=TODAY)
    assert dates(quarterly, 2) == [date(2027, 4, 15), date(2027, 7, 15)]
    annually = rules.new_schedule(ANNUALLY, date(2027, 1, 20), None, 15, today=TODAY)
    assert dates(annually, 2) == [date(2028, 1, 15), date(2029, 1, 15)]


# --- the 31st in short months ----------------------------------------------------------


def test_the_31st_falls_on_february_29_in_2028_and_returns_to_march_31() -> None:
    schedule = rules.new_schedule(MONTHLY, date(2028, 1, 31), None, 31, today=date(2028, 1, 1))
    assert dates(schedule, 5) == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
        date(2028, 5, 31),
    ]


def test_the_31st_falls_on_february_28_in_a_common_year() -> None:
    schedule = rules.new_schedule(MONTHLY, date(2027, 1, 31), None, 31, today=TODAY)
    assert dates(schedule, 3) == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]


def test_annual_february_29_falls_on_the_28th_outside_leap_years() -> None:
    schedule = rules.new_schedule(ANNUALLY, date(2027, 2, 1), None, 29, today=TODAY)
    assert dates(schedule, 3) == [date(2027, 2, 28), date(2028, 2, 29), date(2029, 2, 28)]


@pytest.mark.parametrize("frequency", [MONTHLY, QUARTERLY, ANNUALLY])
def test_month_based_dates_never_drift_from_their_anchor(frequency: str) -> None:
    step = {MONTHLY: 1, QUARTERLY: 3, ANNUALLY: 12}[frequency]
    for day_of_month in (1, 15, 28, 29, 30, 31):
        for start in (date(2027, 1, 1) + timedelta(days=n) for n in range(0, 366, 11)):
            schedule = rules.new_schedule(frequency, start, None, day_of_month, today=start)
            produced = dates(schedule, 30)
            assert produced[0] >= start
            assert produced[0] - start < timedelta(days=31 * step)
            for earlier, later in itertools.pairwise(produced):
                months = (later.year - earlier.year) * 12 + later.month - earlier.month
                assert months == step
            for day in produced:
                assert day.day == min(day_of_month, monthrange(day.year, day.month)[1])


# --- next execution ----------------------------------------------------------------------


@pytest.mark.parametrize("frequency", list(rules.FREQUENCIES))
def test_next_execution_after_each_run_is_the_following_run(frequency: str) -> None:
    day_of_month = 31 if frequency in rules.DAY_OF_MONTH_FREQUENCIES else None
    schedule = rules.new_schedule(frequency, date(2027, 1, 31), None, day_of_month, today=TODAY)
    produced = dates(schedule, 40)
    for run, following in itertools.pairwise(produced):
        assert rules.next_execution(schedule, at(run)) == at(following)
        assert rules.next_execution(schedule, at(run) - timedelta(microseconds=1)) == at(run)
        assert rules.next_execution(schedule, at(following, 8, 59)) == at(following)


def test_next_execution_matches_the_sequence_from_any_moment() -> None:
    schedule = rules.new_schedule(BIWEEKLY, date(2027, 3, 3), None, None, today=TODAY)
    produced = dates(schedule, 60)
    for hours in range(0, 24 * 700, 7):
        moment = datetime(2027, 1, 1) + timedelta(hours=hours)
        expected = next(at(d) for d in produced if at(d) > moment)
        assert rules.next_execution(schedule, moment) == expected


def test_execution_dates_from_a_later_date_skip_the_earlier_ones() -> None:
    schedule = rules.new_schedule(WEEKLY, date(2027, 1, 15), None, None, today=TODAY)
    assert dates(schedule, 2, date(2027, 1, 23)) == [date(2027, 1, 29), date(2027, 2, 5)]


def test_the_end_date_is_the_last_possible_execution() -> None:
    schedule = rules.new_schedule(MONTHLY, date(2027, 1, 15), date(2027, 4, 15), 15, today=TODAY)
    assert list(rules.execution_dates(schedule)) == [
        date(2027, 1, 15),
        date(2027, 2, 15),
        date(2027, 3, 15),
        date(2027, 4, 15),
    ]
    assert rules.next_execution(schedule, at(date(2027, 3, 15))) == at(date(2027, 4, 15))
    assert rules.next_execution(schedule, at(date(2027, 4, 15))) is None


def test_a_schedule_starting_today_runs_today_at_nine_even_when_nine_has_passed() -> None:
    schedule = rules.new_schedule(DAILY, TODAY, None, None, today=TODAY)
    first = rules.first_execution(schedule)
    assert first == at(TODAY)
    # Created at 15:00: the first run is already due, so the sweeper runs it at once.
    assert first is not None and first < at(TODAY, 15)


# --- validation ---------------------------------------------------------------------


def field_of(error: pytest.ExceptionInfo[errors.BankError]) -> str | None:
    return error.value.field


@pytest.mark.parametrize(
    ("frequency", "start", "end", "day_of_month", "field"),
    [
        (None, TODAY, None, None, "frequency"),
        ("HOURLY", TODAY, None, None, "frequency"),
        (DAILY, TODAY - timedelta(days=1), None, None, "startDate"),
        (DAILY, TODAY + timedelta(days=366), None, None, "startDate"),
        (DAILY, TODAY, TODAY - timedelta(days=1), None, "endDate"),
        (DAILY, TODAY, date(2037, 1, 11), None, "endDate"),
        (WEEKLY, TODAY, None, 10, "dayOfMonth"),
        (DAILY, TODAY, None, 1, "dayOfMonth"),
        (MONTHLY, TODAY, None, 0, "dayOfMonth"),
        (MONTHLY, TODAY, None, 32, "dayOfMonth"),
        # Monthly on the 5th from the 10th, ending the 20th: no execution at all.
        (MONTHLY, TODAY, date(2027, 1, 20), 5, "endDate"),
    ],
)
def test_invalid_schedules_name_the_json_field(
    frequency: str | None, start: date, end: date | None, day_of_month: int | None, field: str
) -> None:
    with pytest.raises(errors.ValidationFailed) as raised:
        rules.new_schedule(frequency, start, end, day_of_month, today=TODAY)
    assert field_of(raised) == field
    assert raised.value.http_status == 422 and raised.value.reason == "VALIDATION_ERROR"


def test_validation_boundaries_that_are_allowed() -> None:
    rules.new_schedule(DAILY, TODAY + timedelta(days=365), None, None, today=TODAY)
    rules.new_schedule(DAILY, TODAY, date(2037, 1, 10), None, today=TODAY)
    single = rules.new_schedule(DAILY, TODAY, TODAY, None, today=TODAY)
    assert list(rules.execution_dates(single)) == [TODAY]


def test_recurring_type_needs_exactly_one_destination() -> None:
    assert rules.recurring_type("acc_a", "acc_b", "") == rules.RECURRING_TRANSFER
    assert rules.recurring_type("acc_a", "", "payee_x") == rules.RECURRING_PAYMENT
    for to_account, payee in (("", ""), ("acc_b", "payee_x")):
        with pytest.raises(errors.ValidationFailed):
            rules.recurring_type("acc_a", to_account, payee)
    with pytest.raises(errors.ValidationFailed) as raised:
        rules.recurring_type("acc_a", "acc_a", "")
    assert raised.value.field == "toAccountId"


def test_amount_bounds_follow_the_account_limits() -> None:
    checking = default_limits("CHECKING")
    rules.check_amount(1, "USD", checking, rules.RECURRING_TRANSFER)
    rules.check_amount(10_000_00, "USD", checking, rules.RECURRING_TRANSFER)
    rules.check_amount(5_000_00, "USD", checking, rules.RECURRING_PAYMENT)
    for amount, kind in (
        (0, rules.RECURRING_TRANSFER),
        (10_000_01, rules.RECURRING_TRANSFER),
        (5_000_01, rules.RECURRING_PAYMENT),
    ):
        with pytest.raises(errors.InvalidAmount) as raised:
            rules.check_amount(amount, "USD", checking, kind)
        assert raised.value.reason == "TXN005" and raised.value.field == "amount"
