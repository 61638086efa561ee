"""Recurring schedules' rows (m0019): the schedules, and one row per run that ended.

Reads return frozen `RecurringRecord`s. Every change of a schedule is a
conditional update of the `version` it read (`save`), so that two writers
never both apply a change computed from the same state. The worker claims
due schedules with `FOR UPDATE SKIP LOCKED` on PostgreSQL (`claim_due`);
SQLite serialises writers anyway.

A run's row (`recurring_runs`, key: schedule and scheduled date) is written
in the run's own database transaction, together with its ledger
transaction: it is how a run is known to have happened even when the
schedule's own update was lost, and its key makes a second execution fail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import peewee

from server.crypto.fields import FieldRef, FieldSealer
from server.domain.recurring import Schedule
from server.domain.recurring_runs import RecurringState
from server.store.db import is_postgres
from server.store.models import BaseModel, LedgerTransaction


class RecurringTransactionRow(BaseModel):
    id = peewee.TextField(primary_key=True)
    type = peewee.TextField()
    owner_id = peewee.TextField(null=True)
    client_id = peewee.TextField(null=True)
    created_by = peewee.TextField(null=True)
    from_account_id = peewee.TextField()
    to_account_id = peewee.TextField(null=True)
    payee_id = peewee.TextField(null=True)
    payee_account_number = peewee.TextField(null=True)  # sealed (PAYEE_NUMBER)
    payee_account_last4 = peewee.TextField(null=True)
    amount_minor = peewee.BigIntegerField()
    currency = peewee.TextField()
    description = peewee.TextField()
    frequency = peewee.TextField()
    start_date = peewee.DateField()
    end_date = peewee.DateField(null=True)
    day_of_month = peewee.IntegerField(null=True)
    status = peewee.TextField()
    next_execution = peewee.DateTimeField(null=True)
    run_date = peewee.DateField(null=True)
    attempts_refused = peewee.IntegerField()
    execution_count = peewee.IntegerField()
    consecutive_failure_count = peewee.IntegerField()
    last_execution = peewee.DateTimeField(null=True)
    last_transaction_id = peewee.TextField(null=True)
    created_at = peewee.DateTimeField()
    cancelled_at = peewee.DateTimeField(null=True)
    version = peewee.IntegerField()

    class Meta:
        table_name = "recurring_transactions"


class RecurringRunRow(BaseModel):
    recurring_id = peewee.TextField()
    run_date = peewee.DateField()
    transaction_id = peewee.TextField()
    status = peewee.TextField()
    failure_code = peewee.TextField(null=True)
    created_at = peewee.DateTimeField()

    class Meta:
        table_name = "recurring_runs"
        primary_key = peewee.CompositeKey("recurring_id", "run_date")


@dataclass(frozen=True, slots=True)
class RecurringRecord:
    """One schedule as stored."""

    id: str
    type: str
    owner_id: str | None
    client_id: str | None
    from_account_id: str
    to_account_id: str | None
    payee_id: str | None
    payee_account_last4: str | None
    amount_minor: int
    currency: str
    description: str
    schedule: Schedule
    state: RecurringState
    last_execution: datetime | None
    last_transaction_id: str | None
    created_at: datetime
    cancelled_at: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run that ended: its transaction and how it ended."""

    recurring_id: str
    run_date: date
    transaction_id: str
    status: str
    failure_code: str | None


@dataclass(frozen=True, slots=True)
class RecurringPage:
    records: list[RecurringRecord]
    total: int
    next_key: list[Any] | None


def _as_date(value: Any) -> date:
    # SQLite hands a DATE column back as text.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _record(row: RecurringTransactionRow) -> RecurringRecord:
    frequency = str(row.frequency)
    schedule = Schedule(
        frequency,
        _as_date(row.start_date),
        _as_date(row.end_date) if row.end_date is not None else None,
        int(row.day_of_month) if row.day_of_month is not None else None,
    )
    state = RecurringState(
        status=str(row.status),
        next_execution=row.next_execution,
        run_date=_as_date(row.run_date) if row.run_date is not None else None,
        attempts_refused=int(row.attempts_refused),
        execution_count=int(row.execution_count),
        consecutive_failure_count=int(row.consecutive_failure_count),
    )
    return RecurringRecord(
        id=str(row.id),
        type=str(row.type),
        owner_id=row.owner_id,
        client_id=row.client_id,
        from_account_id=str(row.from_account_id),
        to_account_id=row.to_account_id,
        payee_id=row.payee_id,
        payee_account_last4=row.payee_account_last4,
        amount_minor=int(row.amount_minor),
        currency=str(row.currency),
        description=str(row.description),
        schedule=schedule,
        state=state,
        last_execution=row.last_execution,
        last_transaction_id=row.last_transaction_id,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
        version=int(row.version),
    )


def _state_columns(state: RecurringState) -> dict[str, Any]:
    return {
        "status": state.status,
        "next_execution": state.next_execution,
        "run_date": state.run_date,
        "attempts_refused": state.attempts_refused,
        "execution_count": state.execution_count,
        "consecutive_failure_count": state.consecutive_failure_count,
    }


def _number_ref(recurring_id: str) -> FieldRef:
    return FieldRef("recurring_transactions", "payee_account_number", recurring_id)


def insert(
    record: RecurringRecord,
    created_by: str | None,
    *,
    payee_account_number: str = "",
    sealer: FieldSealer | None = None,
) -> None:
    """Writes a new schedule; a payment's own number at the payee is sealed."""
    schedule = record.schedule
    sealed = None
    if payee_account_number:
        assert sealer is not None
        sealed = sealer.seal(payee_account_number, _number_ref(record.id))
    RecurringTransactionRow.insert(
        id=record.id,
        type=record.type,
        owner_id=record.owner_id,
        client_id=record.client_id,
        created_by=created_by,
        from_account_id=record.from_account_id,
        to_account_id=record.to_account_id,
        payee_id=record.payee_id,
        payee_account_number=sealed,
        payee_account_last4=record.payee_account_last4,
        amount_minor=record.amount_minor,
        currency=record.currency,
        description=record.description,
        frequency=schedule.frequency,
        start_date=schedule.start_date,
        end_date=schedule.end_date,
        day_of_month=schedule.day_of_month,
        created_at=record.created_at,
        version=record.version,
        **_state_columns(record.state),
    ).execute()


def get(recurring_id: str, *, lock: bool = False) -> RecurringRecord | None:
    """The schedule, or None; `lock`: locked for this transaction (on PostgreSQL)."""
    query = RecurringTransactionRow.select().where(RecurringTransactionRow.id == recurring_id)
    if lock and is_postgres():
        query = query.for_update()
    row = query.first()
    return None if row is None else _record(row)


def payee_account_number(recurring_id: str, sealer: FieldSealer) -> str:
    """A payment schedule's own number at the payee, opened; "" when it has none."""
    stored = (
        RecurringTransactionRow.select(RecurringTransactionRow.payee_account_number)
        .where(RecurringTransactionRow.id == recurring_id)
        .scalar()
    )
    return sealer.open(str(stored), _number_ref(recurring_id)) if stored else ""


def names_active_payment(payee_id: str) -> bool:
    """True when an ACTIVE recurring payment pays this payee (DeletePayee refuses)."""
    table = RecurringTransactionRow
    query = table.select(table.id).where((table.payee_id == payee_id) & (table.status == "ACTIVE"))
    return query.exists()


def claim_due(now: datetime) -> RecurringRecord | None:
    """The ACTIVE schedule whose run is due first at `now`, locked for this
    transaction (on PostgreSQL, one another process holds is skipped), or None."""
    query = (
        RecurringTransactionRow.select()
        .where(
            (RecurringTransactionRow.status == "ACTIVE")
            & (RecurringTransactionRow.next_execution <= now)
        )
        .order_by(
            RecurringTransactionRow.next_execution,
            RecurringTransactionRow.created_at,
            RecurringTransactionRow.id,
        )
        .limit(1)
    )
    if is_postgres():
        query = query.for_update(skip_locked=True)
    row = query.first()
    return None if row is None else _record(row)


def save(
    record: RecurringRecord,
    state: RecurringState,
    *,
    last_execution: datetime | None = None,
    last_transaction_id: str | None = None,
    cancelled_at: datetime | None = None,
) -> bool:
    """Writes the new state if the row is still at the version `record` read; False if not."""
    columns = _state_columns(state)
    if last_execution is not None:
        columns["last_execution"] = last_execution
    if last_transaction_id is not None:
        columns["last_transaction_id"] = last_transaction_id
    if cancelled_at is not None:
        columns["cancelled_at"] = cancelled_at
    columns["version"] = record.version + 1
    changed = (
        RecurringTransactionRow.update(**columns)
        .where(
            (RecurringTransactionRow.id == record.id)
            & (RecurringTransactionRow.version == record.version)
        )
        .execute()
    )
    return bool(changed)


def list_page(
    *,
    owner_id: str | None,
    account_id: str,
    status: str,
    limit: int,
    offset: int,
    after: list[Any] | None,
) -> RecurringPage:
    """Schedules newest first; `owner_id` None lists everyone's (staff)."""
    table = RecurringTransactionRow
    where = table.id.is_null(False)
    if owner_id is not None:
        where &= table.owner_id == owner_id
    if account_id:
        where &= table.from_account_id == account_id
    if status:
        where &= table.status == status
    total = table.select().where(where).count()
    query = table.select().where(where)
    if after is not None:
        created_at, last_id = datetime.fromisoformat(str(after[0])), str(after[1])
        query = query.where(
            (table.created_at < created_at)
            | ((table.created_at == created_at) & (table.id < last_id))
        )
    rows = list(
        query.order_by(table.created_at.desc(), table.id.desc()).offset(offset).limit(limit + 1)
    )
    more = len(rows) > limit
    records = [_record(row) for row in rows[:limit]]
    next_key = None
    if more and records:
        last = records[-1]
        next_key = [last.created_at.isoformat(), last.id]
    return RecurringPage(records, total, next_key)


def find_run(recurring_id: str, run_date: date) -> RunRecord | None:
    row = (
        RecurringRunRow.select()
        .where(
            (RecurringRunRow.recurring_id == recurring_id) & (RecurringRunRow.run_date == run_date)
        )
        .first()
    )
    if row is None:
        return None
    return RunRecord(
        str(row.recurring_id),
        _as_date(row.run_date),
        str(row.transaction_id),
        str(row.status),
        row.failure_code,
    )


def insert_run(run: RunRecord, now: datetime) -> None:
    """The run's row; a second row of the same run raises IntegrityError (no retry)."""
    RecurringRunRow.insert(
        recurring_id=run.recurring_id,
        run_date=run.run_date,
        transaction_id=run.transaction_id,
        status=run.status,
        failure_code=run.failure_code,
        created_at=now,
    ).execute()


def tag_transaction(transaction_id: str, recurring_id: str, run_date: date) -> None:
    """Marks a run's transaction with its schedule and the date it was scheduled for."""
    row = LedgerTransaction.get_by_id(transaction_id)
    details = json.loads(row.details or "{}")
    details["recurring_transaction_id"] = recurring_id
    details["scheduled_date"] = run_date.isoformat()
    LedgerTransaction.update(details=json.dumps(details, sort_keys=True)).where(
        LedgerTransaction.id == transaction_id
    ).execute()
