"""The statements worker: every account open during a closed month gets one
statement of it, made once however many runs (and processes) ask."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import peewee
import pytest

from server.domain.principal import ADMIN, Principal
from server.domain.statement_months import Month, figures, last_closed, months_open
from server.domain.statements import check_continuity
from server.services import deposits, transfers
from server.services.context import RequestContext
from server.store import statement_records, statement_rows
from server.store.bootstrap import ensure_internal_accounts
from server.store.models import Account
from server.store.statement_records import AccountStatementRow
from server.workers import due_work, statements
from tests.store import rows

ACCOUNTS = 120
STAFF = RequestContext(principal=Principal(client_id="sandbox-client", role=ADMIN))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _next_month_closed(now: datetime) -> datetime:
    return datetime.combine(Month.of(now).next().start, datetime.min.time()) + timedelta(hours=1)


def test_every_account_of_a_closed_month_gets_one_statement(database: peewee.Database) -> None:
    ensure_internal_accounts()
    owner = rows.customer("Statement Owner")
    made = [rows.account(owner, balance_minor=0) for _ in range(ACCOUNTS)]
    closed = rows.account(owner, balance_minor=0)
    Account.update(status="CLOSED", closed_at=_now() - timedelta(days=400)).where(
        Account.id == closed
    ).execute()
    Account.update(created_at=_now() - timedelta(days=500)).where(Account.id == closed).execute()
    statements.forget()
    now = _now()
    month = Month.of(now)
    assert statements.run_due(now) == 0 or last_closed(now) < month  # this month is open

    later = _next_month_closed(now)
    started = time.perf_counter()
    total = 0
    while done := due_work.run(later)["statements_made"]:
        total += done
    seconds = time.perf_counter() - started
    print(f"statements made: {total} in {seconds:.2f} s ({total / seconds:.0f}/s)")
    mine = AccountStatementRow.select().where(AccountStatementRow.account_id.in_(made))
    assert {(row.account_id, row.period) for row in mine} == {(a, month.label) for a in made}
    # Closed 400 days ago: the statements of the months it was open, none after.
    opened_at, closed_at = (
        Account.select(Account.created_at, Account.closed_at)
        .where(Account.id == closed)
        .tuples()[0]
    )
    expected = {m.label for m in months_open(opened_at, closed_at, last_closed(later))}
    assert len(expected) in (4, 5)
    periods = AccountStatementRow.select(AccountStatementRow.period).where(
        AccountStatementRow.account_id == closed
    )
    assert {row.period for row in periods} == expected
    assert due_work.run(later)["statements_made"] == 0
    statements.forget()
    assert statements.run_due(later) == 0  # all there: nothing made twice


def test_figures_and_racing_makers(database: peewee.Database) -> None:
    ensure_internal_accounts()
    owner = rows.customer("Racing Owner")
    source = rows.account(owner, balance_minor=0)
    month = Month.of(_now())
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def make() -> None:
        barrier.wait()
        with database.connection_context():
            results.append(statement_records.make_many([source], month, _now())[0] == 1)

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    (row,) = AccountStatementRow.select().where(AccountStatementRow.account_id == source)
    assert row.id == statement_records.statement_id(source, month)
    assert (row.opening_balance_minor, row.closing_balance_minor) == (0, 0)


def test_batched_figures_are_the_statement_reads(database: peewee.Database) -> None:
    """The sweeper's batch read gives each account the figures its PDF prints."""
    ensure_internal_accounts()
    owner = rows.customer("Batch Owner")
    accounts = [rows.account(owner, balance_minor=0) for _ in range(4)]
    for index, account_id in enumerate(accounts[:3]):
        for amount in (100, 20.5 * (index + 1)):
            deposits.deposit(
                deposits.DepositInput(account_id=account_id, amount=amount, method="CASH"), STAFF
            )
    transfers.transfer(
        transfers.TransferInput(
            from_account_id=accounts[0], to_account_id=accounts[1], amount=35.25
        ),
        STAFF,
    )
    month = Month.of(_now())
    written, broken = statement_records.make_many(accounts, month, _now())
    assert (written, broken) == (4, [])
    assert statement_records.make_many(accounts, month, _now()) == (0, [])
    for account_id in accounts:
        head = statement_rows.header(account_id, month.start, month.end)
        expected = figures(
            head, check_continuity(head, statement_rows.lines(account_id, month.start, month.end))
        )
        row = AccountStatementRow.get(AccountStatementRow.account_id == account_id)
        stored = (
            row.opening_balance_minor,
            row.closing_balance_minor,
            row.credit_count,
            row.credit_total_minor,
            row.debit_count,
            row.debit_total_minor,
        )
        assert stored == (
            expected.opening_balance_minor,
            expected.closing_balance_minor,
            expected.credit_count,
            expected.credit_total_minor,
            expected.debit_count,
            expected.debit_total_minor,
        ), account_id
    first = AccountStatementRow.get(AccountStatementRow.account_id == accounts[0])
    assert (first.credit_count, first.debit_count, first.debit_total_minor) == (2, 1, 3525)


def test_runs_out_of_time_and_go_on_where_they_stopped(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_internal_accounts()
    owner = rows.customer("Patient Owner")
    made = [rows.account(owner, balance_minor=0) for _ in range(25)]
    monkeypatch.setattr(statements, "BATCH", 10)
    monkeypatch.setattr(statements, "RUN_SECONDS_MAX", 0.0)  # one batch per run
    statements.forget()
    later = _next_month_closed(_now())
    counts = []
    while done := statements.run_due(later):
        counts.append(done)
    assert len(counts) >= 3 and max(counts) <= 10
    month = Month.of(_now())
    mine = AccountStatementRow.select().where(AccountStatementRow.account_id.in_(made))
    assert {row.account_id for row in mine if row.period == month.label} == set(made)
    assert statements.run_due(later) == 0
