"""One run of a recurring schedule: an ordinary transfer, made at most once.

Called by the due-work worker (server.workers.recurring) with a schedule it
claimed, inside the worker's database transaction, and by
server.services.recurring for a first run that is due at once.

A run is the same use case as CreateTransfer (server.services.transfers),
run in a savepoint. What the run wrote is kept under its key (schedule,
scheduled date) in `recurring_runs`, in the same database transaction as
the transfer and the schedule's new state, so:
- two processes that both attempt a run cannot both commit: the second
  insert of the key fails and rolls its whole transaction back (on
  PostgreSQL the claim's SKIP LOCKED usually keeps them apart before that);
- a run found already written (its transaction committed, the schedule's
  update lost) is not executed again: the schedule moves on as that run
  ended.

The transfer is made by the bank on the schedule's behalf: checked as staff
would be (the schedule's owner was checked when it was created), with the
schedule's client id and no user, so it shows no `initiatedBy` (transaction.proto).
It runs at the moment the run executes (`now`): a run the sweeper makes late
is dated, and counted against the limits, when it moves money, as a
scheduled transfer is.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from server.crypto.fields import FieldSealer
from server.domain import errors, limits
from server.domain import recurring_runs as runs
from server.domain.ids import new_id
from server.domain.money import to_major
from server.domain.movement_events import recurring_data
from server.domain.principal import OPERATIONS, Principal
from server.domain.recurring import RECURRING_PAYMENT
from server.services import payments, steps, transfers
from server.services.context import RequestContext
from server.store import ledger, movement_rows, outbox, tx
from server.store import payees as payee_store
from server.store import recurring_rows as store
from server.store.recurring_rows import RecurringRecord, RunRecord

# Outcomes of `execute`.
EXECUTED = "EXECUTED"
FAILED = "FAILED"
RETRYING = "RETRYING"
RECOVERED = "RECOVERED"
NOT_DUE = "NOT_DUE"


def run_one(recurring_id: str, now: datetime, sealer: FieldSealer) -> str:
    """Executes the schedule's due run, if any, in a transaction of its own."""

    def work() -> str:
        record = store.get(recurring_id, lock=True)
        return NOT_DUE if record is None else execute(record, now, sealer)

    return tx.write(work)


def execute(record: RecurringRecord, now: datetime, sealer: FieldSealer) -> str:
    """Runs the schedule's due run; the caller's transaction holds the schedule.

    `sealer` opens a payment schedule's number at the payee and seals it on
    the payment, as CreatePayment does.
    """
    state = record.state
    if not runs.is_due(state, now):
        return NOT_DUE
    assert state.run_date is not None
    ended = store.find_run(record.id, state.run_date)
    if ended is not None:
        _recover(record, ended)
        return RECOVERED
    try:
        # A savepoint: a refusal undoes the attempt and nothing else.
        transaction_id = tx.write(lambda: _movement(record, sealer))
    except errors.BankError as refusal:
        return _refused(record, refusal, now)
    _ended(record, runs.record_success(record.schedule, state), transaction_id, None, now)
    return EXECUTED


def _movement(record: RecurringRecord, sealer: FieldSealer) -> str:
    """CreateTransfer's or CreatePayment's use case for the run; the transaction's id."""
    assert record.state.run_date is not None
    # A run of a schedule screened when it was made: not screened again.
    context = RequestContext(
        principal=Principal(client_id=record.client_id or "", role=OPERATIONS), screened=False
    )
    if record.type == RECURRING_PAYMENT:
        assert record.payee_id is not None
        paid = payments.pay(
            payments.PaymentInput(
                from_account_id=record.from_account_id,
                payee_id=record.payee_id,
                amount=to_major(record.amount_minor, record.currency),
                currency=record.currency,
                account_number=store.payee_account_number(record.id, sealer),
                memo=record.description,
            ),
            context,
            sealer,
        )
        transaction_id = paid.movement.transaction.id
        store.tag_transaction(transaction_id, record.id, record.state.run_date)
        return transaction_id
    assert record.to_account_id is not None
    movement = transfers.transfer(
        transfers.TransferInput(
            from_account_id=record.from_account_id,
            to_account_id=record.to_account_id,
            amount=to_major(record.amount_minor, record.currency),
            currency=record.currency,
            description=record.description,
        ),
        context,
    )
    transaction_id = movement.transaction.id
    store.tag_transaction(transaction_id, record.id, record.state.run_date)
    return transaction_id


def _refused(record: RecurringRecord, refusal: errors.BankError, now: datetime) -> str:
    """Retry later, or end the run FAILED (recurring_runs.record_refusal)."""
    decision = runs.record_refusal(record.schedule, record.state, refusal.reason, now)
    if decision.retry:
        _save(record, decision.state)
        return RETRYING
    transaction_id = _failed_transaction(record, refusal, now)
    _ended(record, decision.state, transaction_id, refusal.reason, now)
    return FAILED


def _recover(record: RecurringRecord, ended: RunRecord) -> None:
    """The run was written before but the schedule not moved on: move it on now,
    as that run ended, without moving money or emitting anything again."""
    state = record.state
    if ended.status == "COMPLETED":
        moved = runs.record_success(record.schedule, state)
    else:
        final = replace(state, attempts_refused=runs.RETRIES_MAX)
        at = datetime.combine(ended.run_date, datetime.min.time())
        moved = runs.record_refusal(record.schedule, final, ended.failure_code or "", at).state
    _save(record, moved, last_transaction_id=ended.transaction_id)


def _ended(
    record: RecurringRecord,
    state: runs.RecurringState,
    transaction_id: str,
    failure_code: str | None,
    now: datetime,
) -> None:
    """A run ended: its key, the schedule's new state, and its event."""
    assert record.state.run_date is not None
    status = "COMPLETED" if failure_code is None else "FAILED"
    store.insert_run(
        RunRecord(record.id, record.state.run_date, transaction_id, status, failure_code), now
    )
    _save(record, state, last_execution=now, last_transaction_id=transaction_id)
    data = recurring_data(
        recurring_id=record.id,
        transaction_id=transaction_id,
        account_id=record.from_account_id,
        amount_minor=record.amount_minor,
        currency=record.currency,
        run_date=record.state.run_date.isoformat(),
        execution_count=state.execution_count,
        status=state.status,
        failure_code=failure_code,
    )
    event = runs.EVENT_EXECUTED if failure_code is None else runs.EVENT_FAILED
    outbox.emit(event, record.id, data, now)


def _save(
    record: RecurringRecord,
    state: runs.RecurringState,
    *,
    last_execution: datetime | None = None,
    last_transaction_id: str | None = None,
) -> None:
    if not store.save(
        record, state, last_execution=last_execution, last_transaction_id=last_transaction_id
    ):
        # Someone changed the schedule after this transaction read it: undo the run.
        raise runs.RecurringConflict(
            "The recurring transaction changed meanwhile", metadata={"recurring_id": record.id}
        )


def _failed_transaction(record: RecurringRecord, refusal: errors.BankError, now: datetime) -> str:
    """The refused run's FAILED TRANSFER or PAYMENT: no postings; a line in the
    payer's history."""
    assert record.state.run_date is not None
    source = movement_rows.customer_account(record.from_account_id)
    counterparty = _counterparty(record)
    details: dict[str, object] = {
        "failure_code": refusal.reason,
        "recurring_transaction_id": record.id,
        "scheduled_date": record.state.run_date.isoformat(),
    }
    row = ledger.create_transaction(
        id=new_id("txn"),
        number=steps.next_number(now),
        type="PAYMENT" if record.type == RECURRING_PAYMENT else "TRANSFER",
        status="FAILED",
        currency=record.currency,
        amount_minor=record.amount_minor,
        fee_minor=0,
        description=record.description,
        reference="",
        details=json.dumps(details, sort_keys=True),
        created_at=now,
        from_account_id=record.from_account_id,
        to_account_id=record.to_account_id,
        client_id=record.client_id,
        failure_reason=refusal.message[:255],
    )
    if source is not None:
        movement_rows.write_entries(
            movement_rows.entry(
                row,
                source,
                direction="DEBIT",
                amount_minor=record.amount_minor,
                fee_minor=0,
                balance_after=None,
                limit_class=limits.CLASS_NONE,
                counterparty=counterparty,
                now=now,
            )
        )
    data = movement_rows.event_data(row, record.from_account_id)
    failed = {**data, "failureCode": refusal.reason, "failureReason": row.failure_reason}
    outbox.emit_many(
        [("transaction.created", row.id, data), ("transaction.failed", row.id, failed)], now
    )
    return str(row.id)


def _counterparty(record: RecurringRecord) -> str:
    """Who the run would have paid, as the payer's history line names them."""
    if record.type == RECURRING_PAYMENT:
        payee = payee_store.get_payee(record.payee_id or "")
        return payee.name if payee is not None else ""
    destination = movement_rows.customer_account(record.to_account_id or "")
    if destination is None:
        return ""
    return movement_rows.holder_names([destination]).get(destination.id, "")
