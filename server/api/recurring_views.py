"""Recurring schedules as messages: only the fields that apply (transaction.proto)."""

from __future__ import annotations

from backoffice.v1 import transaction_pb2 as tpb
from server.api.convert import timestamp
from server.domain.masking import mask_account_number
from server.domain.money import to_major
from server.store.recurring_rows import RecurringRecord


def recurring_message(record: RecurringRecord) -> tpb.RecurringTransaction:
    schedule, state = record.schedule, record.state
    return tpb.RecurringTransaction(
        id=record.id,
        type=record.type,  # type: ignore[arg-type]
        from_account_id=record.from_account_id,
        to_account_id=record.to_account_id,
        payee_id=record.payee_id,
        amount=to_major(record.amount_minor, record.currency),
        currency=record.currency,
        description=record.description or None,
        frequency=schedule.frequency,  # type: ignore[arg-type]
        start_date=schedule.start_date.isoformat(),
        end_date=schedule.end_date.isoformat() if schedule.end_date else None,
        day_of_month=schedule.day_of_month,
        next_execution=timestamp(state.next_execution),
        last_execution=timestamp(record.last_execution),
        last_transaction_id=record.last_transaction_id,
        status=state.status,  # type: ignore[arg-type]
        execution_count=state.execution_count,
        consecutive_failure_count=state.consecutive_failure_count,
        created_at=timestamp(record.created_at),
        cancelled_at=timestamp(record.cancelled_at),
        payee_account_number=(
            mask_account_number(record.payee_account_last4) if record.payee_account_last4 else None
        ),
    )
