"""Scheduled transfers: which dates a request may name, and when one runs.

A scheduled transfer names a date after today and at most
SCHEDULE_DAYS_MAX days ahead; it executes at SCHEDULED_HOUR_UTC on that
date (or at the first sweep after it, when the server was down).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from server.domain import errors

SCHEDULE_DAYS_MAX = 365
SCHEDULED_HOUR_UTC = 9


def scheduled_date(scheduled: bool, requested: str | None, today: date) -> date | None:
    """The execution date a transfer request asks for, or None for an immediate one.

    `requested` is None when the request has no scheduledDate at all.
    """
    if requested is not None and not scheduled:
        raise errors.ValidationFailed(
            "scheduledDate is only allowed with scheduled: true", field="scheduledDate"
        )
    if not scheduled:
        return None
    if not requested:
        raise errors.ValidationFailed(
            "scheduledDate is required when scheduled is true", field="scheduledDate"
        )
    try:
        day = date.fromisoformat(requested.strip())
    except ValueError:
        raise errors.ValidationFailed(
            "scheduledDate must be a date YYYY-MM-DD", field="scheduledDate"
        ) from None
    if not today < day <= today + timedelta(days=SCHEDULE_DAYS_MAX):
        raise errors.ValidationFailed(
            f"scheduledDate must be after today and at most {SCHEDULE_DAYS_MAX} days ahead",
            field="scheduledDate",
            metadata={"today": today.isoformat()},
        )
    return day


def execution_time(day: date) -> datetime:
    """When a transfer scheduled for `day` becomes due (naive UTC)."""
    return datetime.combine(day, time(hour=SCHEDULED_HOUR_UTC))
