"""Recurring runs execute once: racing workers, and a run whose schedule update was lost.

Below the API, on the store's migrated databases (both backends), so that a
race can be staged with two threads of the same process.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import peewee

from server.crypto.fields import FieldRef
from server.domain.principal import ADMIN, Principal
from server.services import recurring, recurring_execution
from server.services.context import RequestContext
from server.store import recurring_rows, tx
from server.store.bootstrap import ensure_internal_accounts
from server.store.models import Account, LedgerTransaction
from server.workers import due_work
from server.workers import recurring as recurring_worker
from tests.store import rows

STAFF = RequestContext(principal=Principal(client_id="sandbox-client", role=ADMIN))


class _NoKeys:
    """Transfers seal nothing: a sealer that refuses to be used."""

    active = "none"

    def seal(self, value: str, ref: FieldRef) -> str:
        raise AssertionError("a recurring transfer sealed a value")

    def open(self, stored: str, ref: FieldRef) -> str:
        raise AssertionError("a recurring transfer opened a value")


KEYS = _NoKeys()


def _tomorrow() -> date:
    return datetime.now(UTC).date() + timedelta(days=1)


def _schedule(source: str, target: str, amount: float, start: date) -> str:
    record = recurring.create(
        recurring.RecurringInput(
            from_account_id=source,
            to_account_id=target,
            payee_id="",
            amount=amount,
            currency="",
            description="Rent",
            frequency="DAILY",
            start_date=start,
            end_date=None,
            day_of_month=None,
        ),
        STAFF,
        KEYS,
    )
    return record.id


def _runs_of(recurring_id: str) -> list[LedgerTransaction]:
    transactions = LedgerTransaction.select().where(
        LedgerTransaction.details.contains(recurring_id)
    )
    return list(transactions)


def _accounts(name: str, funded_minor: int) -> tuple[str, str]:
    ensure_internal_accounts()
    owner = rows.customer(name)
    return rows.account(owner, funded_minor), rows.account(owner, 0)


def test_two_workers_racing_for_one_due_run_make_one_transfer(database: peewee.Database) -> None:
    source, target = _accounts("Race Owner", 100_00)
    start = _tomorrow()
    recurring_id = _schedule(source, target, 10, start)
    due = datetime.combine(start, time(10, 0))
    # Both read the schedule before either writes, as two processes would
    # that both found it due; the claim's lock is bypassed on purpose so that
    # the run key alone must keep the run single.
    stale = recurring_rows.get(recurring_id)
    assert stale is not None
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def attempt() -> None:
        barrier.wait()
        try:
            outcomes.append(tx.write(lambda: recurring_execution.execute(stale, due, KEYS)))
        except Exception as exc:  # the loser's refusal is the point
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert recurring_execution.EXECUTED in outcomes and len(outcomes) == 2
    assert outcomes.count(recurring_execution.EXECUTED) == 1, outcomes
    assert set(outcomes) - {recurring_execution.EXECUTED} <= {"IntegrityError", "RecurringConflict"}
    assert len(_runs_of(recurring_id)) == 1
    assert Account.get_by_id(source).balance_minor == 90_00
    assert Account.get_by_id(target).balance_minor == 10_00
    # And the sweeper, racing too, finds the run done.
    both = [threading.Thread(target=lambda: recurring_worker.run_due(due)) for _ in range(2)]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join(30)
    assert len(_runs_of(recurring_id)) == 1
    record = recurring_rows.get(recurring_id)
    assert record is not None and record.state.execution_count == 1
    assert record.state.run_date == start + timedelta(days=1)


def test_a_run_whose_schedule_update_was_lost_is_not_run_again(
    database: peewee.Database,
) -> None:
    source, target = _accounts("Lost Update Owner", 100_00)
    start = _tomorrow()
    recurring_id = _schedule(source, target, 7, start)
    before = recurring_rows.get(recurring_id)
    assert before is not None
    due = datetime.combine(start, time(10, 0))
    assert due_work.run(due)["recurring_executed"] == 1
    (run,) = _runs_of(recurring_id)
    # The schedule's row goes back to before the run, as if its update had
    # been lost while the transfer and the run's key were kept.
    recurring_rows.RecurringTransactionRow.update(
        status="ACTIVE",
        next_execution=before.state.next_execution,
        run_date=before.state.run_date,
        execution_count=0,
        last_transaction_id=None,
    ).where(recurring_rows.RecurringTransactionRow.id == recurring_id).execute()

    done = due_work.run(due)

    assert done["recurring_executed"] == 0
    assert [row.id for row in _runs_of(recurring_id)] == [run.id]
    assert Account.get_by_id(source).balance_minor == 93_00
    record = recurring_rows.get(recurring_id)
    assert record is not None
    assert record.state.run_date == start + timedelta(days=1)
    assert record.state.execution_count == 1
    assert record.last_transaction_id == run.id
