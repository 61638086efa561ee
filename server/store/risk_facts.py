"""Fraud screening's facts about a movement (m0034): the velocity counters,
the account's largest past debits, whether it paid a destination before, the
devices a user was seen with. Read by server.services.screening; the rules,
decisions and alerts are server.store.risk_rows.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime

from server.domain import risk
from server.domain.risk import Window
from server.store import sql
from server.store.db import is_postgres
from server.store.external_rows import ExternalTransfer
from server.store.models import Account, AccountEntry, LedgerTransaction
from server.store.payment_rows import BillPayment
from server.store.risk_rows import RiskDeviceRow

_COUNT_SQL = (
    'INSERT INTO "risk_velocity" ("account_id", "bucket_seconds", "bucket", "debits",'
    ' "amount_minor") VALUES (?, ?, ?, 1, ?)'
    ' ON CONFLICT ("account_id", "bucket_seconds", "bucket") DO UPDATE SET'
    ' "debits" = "risk_velocity"."debits" + 1,'
    ' "amount_minor" = "risk_velocity"."amount_minor" + excluded."amount_minor"'
    ' RETURNING "debits", "amount_minor"'
)
_EARLIER_SQL = (
    'SELECT COALESCE(SUM("debits"), 0), COALESCE(SUM("amount_minor"), 0) FROM "risk_velocity"'
    ' WHERE "account_id" = ? AND "bucket_seconds" = ? AND "bucket" >= ? AND "bucket" < ?'
)
_PRUNE_SQL = (
    'DELETE FROM "risk_velocity" WHERE "account_id" = ? AND "bucket_seconds" = ? AND "bucket" < ?'
)


def count_debit(
    account_id: str, bucket_lengths: list[int], amount_minor: int, now: datetime
) -> dict[int, Window]:
    """Adds one debit to the account's current bucket of each length
    (atomically: a row's new count is what this increment made) and returns
    each window's totals, this debit included: the current bucket and the
    SUBDIVISIONS before it. On PostgreSQL one statement does it all (the
    increments in a data-modifying WITH, the earlier buckets summed beside
    them); on SQLite two per length (its single writer holds the lock)."""
    if not bucket_lengths:
        return {}
    buckets = {length: int(now.timestamp()) // length for length in bucket_lengths}
    if is_postgres():
        counted = _count_postgres(account_id, buckets, amount_minor)
    else:
        counted = {
            length: _count_one(account_id, length, bucket, amount_minor)
            for length, bucket in buckets.items()
        }
    windows: dict[int, Window] = {}
    for length, (current, window) in counted.items():
        if current == 1:
            # The first debit of a bucket clears the account's buckets of this
            # length that no window reaches any more.
            sql.execute(_PRUNE_SQL, (account_id, length, buckets[length] - risk.SUBDIVISIONS))
        windows[length] = window
    return windows


def _count_one(account_id: str, length: int, bucket: int, amount_minor: int) -> tuple[int, Window]:
    count, amount = sql.execute(_COUNT_SQL, (account_id, length, bucket, amount_minor)).fetchone()
    earlier_count, earlier_amount = sql.execute(
        _EARLIER_SQL, (account_id, length, bucket - risk.SUBDIVISIONS, bucket)
    ).fetchone()
    return int(count), Window(int(count) + int(earlier_count), int(amount) + int(earlier_amount))


@functools.lru_cache(maxsize=8)
def _postgres_text(windows: int) -> str:
    values = ", ".join(["(?, ?, ?, 1, ?)"] * windows)
    return (
        'WITH "bumped" AS (INSERT INTO "risk_velocity" ("account_id", "bucket_seconds",'
        f' "bucket", "debits", "amount_minor") VALUES {values}'
        ' ON CONFLICT ("account_id", "bucket_seconds", "bucket") DO UPDATE SET'
        ' "debits" = "risk_velocity"."debits" + 1,'
        ' "amount_minor" = "risk_velocity"."amount_minor" + excluded."amount_minor"'
        ' RETURNING "bucket_seconds", "bucket", "debits", "amount_minor")'
        ' SELECT "b"."bucket_seconds", "b"."debits",'
        ' "b"."debits" + COALESCE(SUM("v"."debits"), 0),'
        ' "b"."amount_minor" + COALESCE(SUM("v"."amount_minor"), 0)'
        ' FROM "bumped" AS "b" LEFT JOIN "risk_velocity" AS "v"'
        ' ON "v"."account_id" = ? AND "v"."bucket_seconds" = "b"."bucket_seconds"'
        f' AND "v"."bucket" >= "b"."bucket" - {risk.SUBDIVISIONS} AND "v"."bucket" < "b"."bucket"'
        ' GROUP BY "b"."bucket_seconds", "b"."debits", "b"."amount_minor"'
    )


def _count_postgres(
    account_id: str, buckets: dict[int, int], amount_minor: int
) -> dict[int, tuple[int, Window]]:
    """The earlier buckets are read in the statement's snapshot, which the
    increments do not change (they touch the current buckets only)."""
    params: list[object] = []
    for length, bucket in buckets.items():
        params.extend((account_id, length, bucket, amount_minor))
    params.append(account_id)
    rows = sql.execute(_postgres_text(len(buckets)), params).fetchall()
    return {
        int(length): (int(current), Window(int(count), int(amount)))
        for length, current, count, amount in rows
    }


def largest_past_debits(account_id: str, size: int) -> list[int]:
    """The amounts of the account's last `size` completed debits, newest first."""
    query = (
        AccountEntry.select(AccountEntry.amount_minor)
        .where(
            (AccountEntry.account_id == account_id)
            & (AccountEntry.direction == "DEBIT")
            & (AccountEntry.status == "COMPLETED")
        )
        .order_by(AccountEntry.created_at.desc(), AccountEntry.id.desc())
        .limit(size)
    )
    return [int(row.amount_minor) for row in query]


def paid_account_before(from_id: str, to_id: str) -> bool:
    """Whether `to_id` is no new payee of `from_id`: an account of the same
    owner, or one a completed transfer from `from_id` went to before."""
    owners = {
        row.id: row.owner_id
        for row in Account.select(Account.id, Account.owner).where(Account.id.in_([from_id, to_id]))
    }
    if owners.get(from_id) is not None and owners.get(from_id) == owners.get(to_id):
        return True
    return (
        LedgerTransaction.select(LedgerTransaction.id)
        .where(
            (LedgerTransaction.from_account_id == from_id)
            & (LedgerTransaction.to_account_id == to_id)
            & (LedgerTransaction.status == "COMPLETED")
        )
        .limit(1)
        .exists()
    )


def paid_payee_before(from_id: str, payee_id: str) -> bool:
    """Whether a bill payment from `from_id` to the payee was made before (not
    failed or cancelled)."""
    return (
        BillPayment.select(BillPayment.id)
        .join(LedgerTransaction, on=(LedgerTransaction.id == BillPayment.id))
        .where(
            (BillPayment.payee_id == payee_id)
            & (LedgerTransaction.from_account_id == from_id)
            & LedgerTransaction.status.not_in(_NOT_PAID)
        )
        .limit(1)
        .exists()
    )


def paid_beneficiary_before(from_id: str, name: str, last4: str, country: str) -> bool:
    """Whether an external transfer from `from_id` went to this beneficiary
    before (not failed, cancelled or held): the same name, account number
    ending and bank country, since the numbers themselves are sealed."""
    return (
        ExternalTransfer.select(ExternalTransfer.id)
        .join(LedgerTransaction, on=(LedgerTransaction.id == ExternalTransfer.id))
        .where(
            (ExternalTransfer.from_account_id == from_id)
            & (ExternalTransfer.beneficiary_name == name)
            & (ExternalTransfer.account_number_last4 == last4)
            & (ExternalTransfer.bank_country == country)
            & LedgerTransaction.status.not_in(_NOT_PAID)
        )
        .limit(1)
        .exists()
    )


_NOT_PAID = ("FAILED", "CANCELLED", "PENDING_REVIEW")


def device_hash(device_id: str) -> str:
    return hashlib.sha256(device_id.encode()).hexdigest()


def device_known(user_id: str, device_id: str) -> bool:
    return (
        RiskDeviceRow.select(RiskDeviceRow.user_id)
        .where(
            (RiskDeviceRow.user_id == user_id)
            & (RiskDeviceRow.device_hash == device_hash(device_id))
        )
        .exists()
    )


_DEVICE_SQL = (
    'INSERT INTO "risk_devices" ("user_id", "device_hash", "first_seen") VALUES (?, ?, ?)'
    " ON CONFLICT DO NOTHING"
)


def remember_device(user_id: str, device_id: str, now: datetime) -> None:
    sql.defer(
        _DEVICE_SQL, (user_id, device_hash(device_id), RiskDeviceRow.first_seen.db_value(now))
    )
