"""Federal Reserve business days: weekends, holidays, and how weekend holidays move."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain.calendar import add_business_days, is_business_day


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 11, 26),  # Thanksgiving
        date(2026, 12, 25),  # Christmas, a Friday
        date(2026, 11, 11),  # Veterans Day, a Wednesday
        date(2026, 10, 12),  # Columbus Day
        date(2027, 7, 5),  # Independence Day on Sunday, observed Monday
        date(2023, 1, 2),  # New Year's Day on Sunday, observed Monday
    ],
)
def test_fed_holidays_are_not_business_days(day: date) -> None:
    assert not is_business_day(day)


@pytest.mark.parametrize(
    "day",
    [
        # A Saturday holiday is not moved to Friday: the Fed is open that
        # Friday, although the federal government's calendar is not.
        date(2026, 7, 3),
        date(2027, 12, 24),
        date(2021, 12, 31),
        date(2026, 11, 27),  # the Friday after Thanksgiving
    ],
)
def test_fridays_before_saturday_holidays_are_business_days(day: date) -> None:
    assert is_business_day(day)


def test_weekends_are_not_business_days() -> None:
    assert not is_business_day(date(2026, 11, 28))
    assert not is_business_day(date(2026, 11, 29))


def test_add_business_days_skips_weekends_and_holidays() -> None:
    assert add_business_days(date(2026, 11, 25), 1) == date(2026, 11, 27)
    assert add_business_days(date(2026, 11, 26), 0) == date(2026, 11, 27)
    assert add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert add_business_days(date(2026, 7, 2), 1) == date(2026, 7, 3)
