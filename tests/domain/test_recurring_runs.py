"""A recurring schedule's statuses, runs, retries and run keys, without a database."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from server.domain import recurring, recurring_runs
from server.domain.recurring import DAILY, MONTHLY, WEEKLY, Schedule
from server.domain.recurring_runs import (
    ACTIVE,
    CANCELLED,
    COMPLETED,
    PAUSED,
    RecurringConflict,
    RecurringState,
)

TODAY = date(2027, 1, 10)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


def monthly_15th(end: date | None = None) -> Schedule:
    return recurring.new_schedule(MONTHLY, date(2027, 1, 15), end, 15, today=TODAY)


def weekly_friday(end: date | None = None) -> Schedule:
    return recurring.new_schedule(WEEKLY, date(2027, 1, 15), end, None, today=TODAY)


# --- life cycle ----------------------------------------------------------------------


def test_a_new_schedule_is_active_with_its_first_run_next() -> None:
    state = recurring_runs.activate(monthly_15th())
    assert state.status == ACTIVE
    assert state.next_execution == at(date(2027, 1, 15))
    assert state.run_date == date(2027, 1, 15)
    assert state.execution_count == 0


def test_successful_runs_count_and_the_end_date_completes_the_schedule() -> None:
    schedule = monthly_15th(end=date(2027, 3, 15))
    state = recurring_runs.activate(schedule)
    seen = []
    while state.status == ACTIVE:
        assert state.run_date is not None
        seen.append(state.run_date)
        state = recurring_runs.record_success(schedule, state)
    assert seen == [date(2027, 1, 15), date(2027, 2, 15), date(2027, 3, 15)]
    assert state.status == COMPLETED
    assert state.execution_count == 3
    assert state.next_execution is None and state.run_date is None


def test_resume_skips_the_runs_missed_while_paused() -> None:
    schedule = monthly_15th()
    state = recurring_runs.record_success(schedule, recurring_runs.activate(schedule))
    paused = recurring_runs.pause(state)
    assert paused.status == PAUSED and paused.next_execution is None
    # Paused over the February, March and April runs; resumed on April 20.
    resumed = recurring_runs.resume(schedule, paused, at(date(2027, 4, 20), 12))
    assert resumed.status == ACTIVE
    assert resumed.next_execution == at(date(2027, 5, 15))
    assert resumed.execution_count == 1


def test_resume_on_a_run_date_before_nine_runs_that_day() -> None:
    schedule = monthly_15th()
    paused = recurring_runs.pause(recurring_runs.activate(schedule))
    resumed = recurring_runs.resume(schedule, paused, at(date(2027, 3, 15), 8))
    assert resumed.next_execution == at(date(2027, 3, 15))


def test_resume_after_the_end_date_completes() -> None:
    schedule = monthly_15th(end=date(2027, 3, 15))
    paused = recurring_runs.pause(recurring_runs.activate(schedule))
    assert recurring_runs.resume(schedule, paused, at(date(2027, 3, 16))).status == COMPLETED


def test_resume_clears_the_failure_count() -> None:
    schedule = monthly_15th()
    state = recurring_runs.activate(schedule)
    for _ in range(recurring_runs.CONSECUTIVE_FAILURES_PAUSE):
        assert state.next_execution is not None
        state = recurring_runs.record_refusal(schedule, state, "TXN005", state.next_execution).state
    assert state.status == PAUSED and state.consecutive_failure_count == 3
    resumed = recurring_runs.resume(schedule, state, at(date(2027, 4, 1)))
    assert resumed.consecutive_failure_count == 0


def test_cancel_is_final_from_active_and_from_paused() -> None:
    state = recurring_runs.activate(monthly_15th())
    for before in (state, recurring_runs.pause(state)):
        cancelled = recurring_runs.cancel(before)
        assert cancelled.status == CANCELLED and cancelled.next_execution is None


def _in(status: str) -> RecurringState:
    if status == ACTIVE:
        return recurring_runs.activate(monthly_15th())
    return RecurringState(status, None, None)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (PAUSED, "pause"),
        (CANCELLED, "pause"),
        (COMPLETED, "pause"),
        (ACTIVE, "resume"),
        (CANCELLED, "resume"),
        (COMPLETED, "resume"),
        (CANCELLED, "cancel"),
        (COMPLETED, "cancel"),
    ],
)
def test_illegal_transitions_are_409_conflict(status: str, action: str) -> None:
    state = _in(status)
    with pytest.raises(RecurringConflict) as raised:
        if action == "pause":
            recurring_runs.pause(state)
        elif action == "resume":
            recurring_runs.resume(monthly_15th(), state, at(TODAY))
        else:
            recurring_runs.cancel(state)
    assert raised.value.reason == "CONFLICT"
    assert raised.value.http_status == 409
    assert raised.value.grpc_status == "FAILED_PRECONDITION"
    assert raised.value.metadata["status"] == status


def test_only_an_active_schedule_is_due_and_only_from_its_instant() -> None:
    state = recurring_runs.activate(monthly_15th())
    assert not recurring_runs.is_due(state, at(date(2027, 1, 15)) - timedelta(microseconds=1))
    assert recurring_runs.is_due(state, at(date(2027, 1, 15)))
    assert not recurring_runs.is_due(recurring_runs.pause(state), at(date(2027, 2, 1)))


def test_a_late_run_catches_up_from_its_scheduled_date() -> None:
    schedule = weekly_friday()
    state = recurring_runs.activate(schedule)
    # The sweeper was down from the 15th to the 30th: the next run is still the 22nd.
    assert recurring_runs.record_success(schedule, state).next_execution == at(date(2027, 1, 22))


# --- refused runs -----------------------------------------------------------------


def test_insufficient_funds_is_retried_once_on_the_next_business_day() -> None:
    schedule = weekly_friday()
    state = recurring_runs.activate(schedule)
    first = recurring_runs.record_refusal(schedule, state, "TXN001", at(date(2027, 1, 15)))
    assert first.retry
    # Friday's refusal: Monday the 18th is Martin Luther King Jr. Day, so Tuesday.
    assert first.state.next_execution == at(date(2027, 1, 19))
    assert first.state.run_date == date(2027, 1, 15)
    assert first.state.consecutive_failure_count == 0
    second = recurring_runs.record_refusal(schedule, first.state, "TXN001", at(date(2027, 1, 19)))
    assert not second.retry and second.failure_code == "TXN001"
    assert second.state.status == ACTIVE
    assert second.state.next_execution == at(date(2027, 1, 22))
    assert second.state.run_date == date(2027, 1, 22)
    assert second.state.consecutive_failure_count == 1
    assert second.state.attempts_refused == 0


def test_a_daily_run_is_not_retried_because_the_next_run_comes_first() -> None:
    schedule = recurring.new_schedule(DAILY, TODAY, None, None, today=TODAY)
    state = recurring_runs.activate(schedule)
    refused = recurring_runs.record_refusal(schedule, state, "TXN001", at(TODAY))
    assert not refused.retry
    assert refused.state.next_execution == at(TODAY + timedelta(days=1))


def test_no_retry_after_the_end_date() -> None:
    schedule = weekly_friday(end=date(2027, 1, 15))
    state = recurring_runs.activate(schedule)
    refused = recurring_runs.record_refusal(schedule, state, "TXN001", at(date(2027, 1, 15)))
    assert not refused.retry
    assert refused.state.status == COMPLETED


@pytest.mark.parametrize("code", ["TXN002", "TXN003"])
def test_a_missing_or_frozen_account_fails_the_run_and_pauses_at_once(code: str) -> None:
    schedule = weekly_friday()
    state = recurring_runs.activate(schedule)
    refused = recurring_runs.record_refusal(schedule, state, code, at(date(2027, 1, 15)))
    assert not refused.retry
    assert refused.state.status == PAUSED
    assert refused.state.consecutive_failure_count == 1


def test_other_refusals_fail_the_run_and_move_on_without_retry() -> None:
    schedule = weekly_friday()
    state = recurring_runs.activate(schedule)
    refused = recurring_runs.record_refusal(schedule, state, "TXN005", at(date(2027, 1, 15)))
    assert not refused.retry
    assert refused.state.status == ACTIVE
    assert refused.state.next_execution == at(date(2027, 1, 22))


def test_three_failed_runs_in_a_row_pause_and_a_success_resets_the_count() -> None:
    schedule = weekly_friday()
    state = recurring_runs.activate(schedule)
    state = recurring_runs.record_refusal(schedule, state, "TXN005", at(date(2027, 1, 15))).state
    state = recurring_runs.record_refusal(schedule, state, "TXN005", at(date(2027, 1, 22))).state
    assert state.consecutive_failure_count == 2
    state = recurring_runs.record_success(schedule, state)
    assert state.consecutive_failure_count == 0
    for day in (date(2027, 2, 5), date(2027, 2, 12)):
        state = recurring_runs.record_refusal(schedule, state, "TXN005", at(day)).state
        assert state.status == ACTIVE
    state = recurring_runs.record_refusal(schedule, state, "TXN005", at(date(2027, 2, 19))).state
    assert state.status == PAUSED
    assert state.execution_count == 1


# --- run keys ------------------------------------------------------------------------


def test_run_keys_are_deterministic_per_schedule_and_date() -> None:
    key = recurring_runs.run_key("rec_abc", date(2027, 1, 15))
    assert key == "rec_abc:2027-01-15"
    assert recurring_runs.run_key("rec_abc", date(2027, 1, 15)) == key
    assert recurring_runs.run_key("rec_abc", date(2027, 1, 22)) != key
    assert recurring_runs.run_key("rec_abd", date(2027, 1, 15)) != key


def test_a_retried_run_keeps_its_key() -> None:
    schedule = weekly_friday()
    state = recurring_runs.activate(schedule)
    retried = recurring_runs.record_refusal(schedule, state, "TXN004", at(date(2027, 1, 15))).state
    assert retried.run_date is not None and state.run_date is not None
    assert recurring_runs.run_key("rec_x", retried.run_date) == recurring_runs.run_key(
        "rec_x", state.run_date
    )
