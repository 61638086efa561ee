"""Scheduled transfers: which dates a request may name, and when one runs."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from server.domain import errors, scheduling

TODAY = date(2026, 12, 5)


def test_an_immediate_transfer_has_no_date() -> None:
    assert scheduling.scheduled_date(False, None, TODAY) is None


def test_a_scheduled_transfer_names_a_day_after_today() -> None:
    assert scheduling.scheduled_date(True, "2026-12-06", TODAY) == date(2026, 12, 6)
    assert scheduling.scheduled_date(True, " 2027-12-05 ", TODAY) == date(2027, 12, 5)


@pytest.mark.parametrize(
    ("scheduled", "requested"),
    [
        (False, "2026-12-08"),  # a date without scheduled: true
        (True, None),  # scheduled without a date
        (True, ""),
        (True, "next tuesday"),
        (True, "2026-12-05"),  # today
        (True, "2026-12-04"),  # the past
        (True, "2027-12-06"),  # more than 365 days ahead
    ],
)
def test_refused_dates(scheduled: bool, requested: str | None) -> None:
    with pytest.raises(errors.ValidationFailed) as refused:
        scheduling.scheduled_date(scheduled, requested, TODAY)
    assert refused.value.field == "scheduledDate"


def test_it_runs_at_nine_utc_on_its_day() -> None:
    assert scheduling.execution_time(date(2026, 12, 6)) == datetime(2026, 12, 6, 9)
