"""Business days: Monday to Friday, less the Federal Reserve's holidays.

The Fed observes the US federal holidays, which the `holidays` package's US
calendar lists. A holiday on a Sunday is observed the next Monday; one on a
Saturday is not moved: the Fed stays open the Friday before, which the
federal government's calendar closes (2026-07-03, 2027-12-24), so the
package's observed dates are not used as they are.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache

import holidays


@cache
def _us_holidays(year: int) -> frozenset[date]:
    actual = holidays.country_holidays("US", years=year, observed=False)
    sundays_moved = {day + timedelta(days=1) for day in actual if day.weekday() == 6}
    return frozenset(actual) | frozenset(sundays_moved)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _us_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    """The date `days` business days after `start` (0 = start itself if a business day)."""
    assert days >= 0
    current = start
    while not is_business_day(current):
        current += timedelta(days=1)
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def release_time(deposited_at: datetime, business_days: int, hour_utc: int = 13) -> datetime:
    """When held funds become available: the business day's opening (13:00 UTC ~ 9:00 ET)."""
    if business_days == 0:
        return deposited_at
    day = add_business_days(deposited_at.date(), business_days)
    return datetime.combine(day, time(hour=hour_utc))
