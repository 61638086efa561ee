"""The transfer's lock: the locked rows, their owners, a number and the limit
counters, in one round trip; the counters as they are once the lock is held."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import peewee
import psycopg2
import pytest

from server.domain import limits
from server.store import ledger, sql, tx
from server.store.db import is_postgres
from server.store.limit_usage import day_key, month_key
from tests.store import rows

NOW = datetime(2026, 12, 1, 15, 30)
PERIODS = limits.period_bounds(NOW)


def _use(account_id: str, limit_class: str, period: str, used_minor: int) -> None:
    sql.execute(
        'INSERT INTO "limit_usage" ("account_id", "limit_class", "period", "used_minor")'
        " VALUES (?, ?, ?, ?)",
        (account_id, limit_class, period, used_minor),
    )


def test_the_lock_reads_owners_a_number_and_the_counters_of_the_periods(
    database: peewee.Database,
) -> None:
    source, destination = (
        rows.account(rows.customer("Ada Source")),
        rows.account(rows.customer("Bo Destination")),
    )
    internal = rows.account(None, kind="INTERNAL")
    _use(source, limits.CLASS_TRANSFER, day_key(NOW), 1_500)
    _use(source, limits.CLASS_EXTERNAL_TRANSFER, day_key(NOW), 200)
    _use(source, limits.CLASS_TRANSFER, month_key(NOW), 9_000)
    _use(source, limits.CLASS_ATM, day_key(NOW), 40)
    _use(source, limits.CLASS_TRANSFER, "D2026-11-30", 777)  # yesterday: not counted
    _use(source, limits.CLASS_TRANSFER, "M2026-11", 888)  # last month: not counted

    _use(destination, limits.CLASS_TRANSFER, day_key(NOW), 5)

    def lock(usage_of: str | None) -> ledger.LockedAccounts:
        return tx.write(
            lambda: ledger.lock_accounts_with_owners(
                [destination, internal, source, "acc_unknown"],
                "CUSTOMER",
                usage_of=usage_of,
                periods=None if usage_of is None else PERIODS,
            )
        )

    first = lock(source)
    assert sorted(first.accounts) == sorted([source, destination])
    assert first.owners == {source: "Ada Source", destination: "Bo Destination"}
    assert first.usage is not None
    assert first.usage[limits.DAILY_TRANSFER] == 1_700
    assert first.usage[limits.MONTHLY_TRANSFER] == 9_000
    assert first.usage[limits.DAILY_ATM_WITHDRAWAL] == 40
    assert lock(destination).usage == {**dict.fromkeys(first.usage, 0), "daily_transfer": 5}
    assert lock(internal).usage is None  # not a customer account: not locked, not read
    plain = lock(None)
    assert plain.usage is None
    assert plain.sequence > first.sequence


def test_the_counters_are_read_once_the_lock_is_granted(database: peewee.Database) -> None:
    """A debit committed while the transfer waited for the lock is counted."""
    if not is_postgres():
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE: nobody waits on a row")
    source = rows.account(rows.customer("Cy Waiting"))
    _use(source, limits.CLASS_TRANSFER, day_key(NOW), 100)
    params = {"dbname": database.database, **database.connect_params}
    holder = psycopg2.connect(**params)
    try:
        with holder.cursor() as cursor:  # another movement of the source, mid-way
            cursor.execute('SELECT 1 FROM "accounts" WHERE "id" = %s FOR UPDATE', (source,))
            cursor.execute(
                'UPDATE "limit_usage" SET "used_minor" = "used_minor" + 2400'
                ' WHERE "account_id" = %s',
                (source,),
            )
        seen: list[ledger.LockedAccounts] = []
        waiter = threading.Thread(
            target=lambda: seen.append(
                tx.write(
                    lambda: ledger.lock_accounts_with_owners(
                        [source], "CUSTOMER", usage_of=source, periods=PERIODS
                    )
                )
            )
        )
        waiter.start()
        time.sleep(0.3)
        assert not seen, "the lock was granted while another transaction held it"
        holder.commit()
        waiter.join(10)
    finally:
        holder.close()
    assert seen and seen[0].usage is not None
    assert seen[0].usage[limits.DAILY_TRANSFER] == 2_500
