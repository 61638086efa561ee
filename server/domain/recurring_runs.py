"""The life of a recurring schedule: its statuses, its runs, and refused runs.

Statuses (RecurringTransactionStatusEnum): ACTIVE runs; PAUSED runs nothing;
CANCELLED and COMPLETED are final. Legal moves:

    ACTIVE  -> PAUSED      pause: the bank stops it (3 failed runs in a row,
                           an account frozen or closed), or staff do
    PAUSED  -> ACTIVE      resume
    ACTIVE, PAUSED -> CANCELLED    cancel (customer or staff)
    ACTIVE, PAUSED -> COMPLETED    no execution date is left (end date passed)

Anything else is CONFLICT (409, gRPC FAILED_PRECONDITION), e.g. cancelling a
CANCELLED or COMPLETED schedule (transaction_service.proto).

Decisions where the seeds are silent:
- Resuming does not catch up. The next run is the first execution instant
  after the moment of resuming; the runs that fell inside the pause are
  skipped, because someone stopped the schedule on purpose and a burst of
  old payments on resume would surprise the customer far more than a missed
  one. Resuming also clears the consecutive failure count: the cause was
  looked at. A schedule with nothing left to run completes instead.
- A late run does catch up. When the bank itself ran late (a sweeper that
  was down), the next run is counted from the late run's *scheduled* date,
  so every run the customer was promised is made, one per sweep.
- A run refused for insufficient funds (TXN001) or a daily or monthly limit
  (TXN004), which may well pass by the next day, is retried once, at 09:00
  UTC of the next business day, provided that comes before the schedule's
  next execution and not after its end date. Nothing is written for the
  refused attempt. If the retry is refused too, or no retry fits (a DAILY
  schedule), the run is recorded as failed: one FAILED transaction, the
  `recurring.failed` event, and the schedule moves on to its next date.
- A run refused because an account is missing, frozen or closed (TXN002,
  TXN003) is recorded as failed and pauses the schedule at once: it cannot
  succeed until someone acts. Three failed runs in a row pause it too.
- Every other refusal (an amount now above a lowered limit, TXN005) fails
  that run and moves on.
- Each run has a deterministic key, `run_key(recurring_id, run_date)`, stored
  uniquely with the transaction the run writes. A run writes exactly one
  transaction (COMPLETED or FAILED) and only when it ends, so a retried
  attempt may use the same key, and a run can never execute twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from server.domain import errors
from server.domain.calendar import add_business_days
from server.domain.recurring import (
    Schedule,
    execution_instant,
    first_execution,
    next_execution,
)

# RecurringTransactionStatusEnum.RecurringTransactionStatus.
ACTIVE = "ACTIVE"
PAUSED = "PAUSED"
CANCELLED = "CANCELLED"
COMPLETED = "COMPLETED"
RECURRING_STATUSES = frozenset({ACTIVE, PAUSED, CANCELLED, COMPLETED})
FINAL_STATUSES = frozenset({CANCELLED, COMPLETED})

CONSECUTIVE_FAILURES_PAUSE = 3
RETRIES_MAX = 1
RETRYABLE_CODES = frozenset({"TXN001", "TXN004"})
PAUSING_CODES = frozenset({"TXN002", "TXN003"})

# Webhook events (seed 002, "Webhooks"): one per run that ends.
EVENT_EXECUTED = "recurring.executed"
EVENT_FAILED = "recurring.failed"


class RecurringConflict(errors.Conflict):
    """The schedule's status forbids the change (409 CONFLICT, gRPC FAILED_PRECONDITION)."""

    grpc_status = "FAILED_PRECONDITION"


@dataclass(frozen=True, slots=True)
class RecurringState:
    """A schedule's moving parts.

    `run_date` is the scheduled date of the run `next_execution` belongs to
    (for a retry, next_execution is the retry's instant, later than the
    date's 09:00); both are None unless ACTIVE. `attempts_refused` counts
    that run's refused attempts so far.
    """

    status: str
    next_execution: datetime | None
    run_date: date | None
    attempts_refused: int = 0
    execution_count: int = 0
    consecutive_failure_count: int = 0

    def __post_init__(self) -> None:
        assert self.status in RECURRING_STATUSES, self.status
        scheduled = self.next_execution is not None and self.run_date is not None
        assert scheduled == (self.status == ACTIVE), "only an ACTIVE schedule has a next run"


@dataclass(frozen=True, slots=True)
class RefusedRun:
    """What to do after a run's attempt was refused.

    `retry`: nothing is written; the run is attempted again at
    state.next_execution. Otherwise the run is over: write its FAILED
    transaction (with `failure_code`) under the run key and emit EVENT_FAILED.
    """

    state: RecurringState
    retry: bool
    failure_code: str


def run_key(recurring_id: str, run_date: date) -> str:
    """The run's idempotency key: one schedule, one scheduled date, one transaction."""
    assert recurring_id.startswith("rec_"), recurring_id
    return f"{recurring_id}:{run_date.isoformat()}"


def _conflict(state: RecurringState, action: str) -> RecurringConflict:
    return RecurringConflict(
        f"A {state.status} recurring transaction cannot be {action}",
        metadata={"status": state.status, "action": action},
    )


def _scheduled(state: RecurringState, instant: datetime | None) -> RecurringState:
    """ACTIVE with the run at `instant`, or COMPLETED when there is none."""
    if instant is None:
        return replace(
            state, status=COMPLETED, next_execution=None, run_date=None, attempts_refused=0
        )
    return replace(
        state, status=ACTIVE, next_execution=instant, run_date=instant.date(), attempts_refused=0
    )


def activate(schedule: Schedule) -> RecurringState:
    """The state of a new schedule: ACTIVE, its first run next."""
    first = first_execution(schedule)
    assert first is not None, "new_schedule refuses schedules without an execution"
    return _scheduled(RecurringState(ACTIVE, first, first.date()), first)


def pause(state: RecurringState) -> RecurringState:
    """ACTIVE -> PAUSED; nothing runs until it is resumed."""
    if state.status != ACTIVE:
        raise _conflict(state, "paused")
    return replace(state, status=PAUSED, next_execution=None, run_date=None, attempts_refused=0)


def resume(schedule: Schedule, state: RecurringState, now: datetime) -> RecurringState:
    """PAUSED -> ACTIVE at the first execution after `now` (missed runs skipped), or COMPLETED."""
    if state.status != PAUSED:
        raise _conflict(state, "resumed")
    cleared = replace(state, consecutive_failure_count=0)
    return _scheduled(cleared, next_execution(schedule, now))


def cancel(state: RecurringState) -> RecurringState:
    """ACTIVE or PAUSED -> CANCELLED; final. Transactions already made are untouched."""
    if state.status in FINAL_STATUSES:
        raise _conflict(state, "cancelled")
    return replace(state, status=CANCELLED, next_execution=None, run_date=None, attempts_refused=0)


def is_due(state: RecurringState, now: datetime) -> bool:
    """True when the sweeper should attempt the schedule's run now."""
    return (
        state.status == ACTIVE and state.next_execution is not None and state.next_execution <= now
    )


def _following(schedule: Schedule, run_date: date) -> datetime | None:
    """The execution after the run of `run_date`: counted from its scheduled instant."""
    return next_execution(schedule, execution_instant(run_date))


def record_success(schedule: Schedule, state: RecurringState) -> RecurringState:
    """The run succeeded: count it, clear the failures, schedule the next (or complete)."""
    assert state.status == ACTIVE and state.run_date is not None
    counted = replace(state, execution_count=state.execution_count + 1, consecutive_failure_count=0)
    return _scheduled(counted, _following(schedule, state.run_date))


def retry_instant(attempted_at: datetime) -> datetime:
    """09:00 UTC of the first business day after the attempt's date."""
    day = add_business_days(attempted_at.date() + timedelta(days=1), 0)
    return execution_instant(day)


def record_refusal(
    schedule: Schedule, state: RecurringState, code: str, now: datetime
) -> RefusedRun:
    """Decides, for a run refused with contract code `code` at `now`, retry or failure."""
    assert state.status == ACTIVE and state.run_date is not None
    following = _following(schedule, state.run_date)
    retry_at = retry_instant(now)
    fits = (following is None or retry_at < following) and (
        schedule.end_date is None or retry_at.date() <= schedule.end_date
    )
    if code in RETRYABLE_CODES and state.attempts_refused < RETRIES_MAX and fits:
        retried = replace(
            state, next_execution=retry_at, attempts_refused=state.attempts_refused + 1
        )
        return RefusedRun(retried, retry=True, failure_code=code)
    failures = state.consecutive_failure_count + 1
    failed = replace(state, consecutive_failure_count=failures)
    moved_on = _scheduled(failed, following)
    if moved_on.status == ACTIVE and (
        code in PAUSING_CODES or failures >= CONSECUTIVE_FAILURES_PAUSE
    ):
        moved_on = pause(moved_on)
    return RefusedRun(moved_on, retry=False, failure_code=code)
