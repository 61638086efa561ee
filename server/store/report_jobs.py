"""Stored (custom) reports' rows: asked PENDING, claimed PROCESSING, then
COMPLETED with their figures and file, or FAILED (m0028).

The worker claims the oldest PENDING report, or a PROCESSING one whose
worker stopped (its lease of `LEASE_SECONDS` passed; at most `ATTEMPTS_MAX`
tries, then FAILED). On PostgreSQL the claim takes FOR UPDATE SKIP LOCKED,
so several server processes never compute one report twice at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee

from server.store.db import database, is_postgres
from server.store.models import BaseModel

LEASE_SECONDS = 300
ATTEMPTS_MAX = 3
OPEN = ("PENDING", "PROCESSING")


class ReportRow(BaseModel):
    id = peewee.TextField(primary_key=True)
    client_id = peewee.TextField()
    user_id = peewee.TextField()
    requested_by = peewee.TextField()
    status = peewee.TextField()
    parameters = peewee.TextField()
    format = peewee.TextField()
    result = peewee.TextField(null=True)
    file = peewee.BlobField(null=True)
    content_type = peewee.TextField(null=True)
    failure_reason = peewee.TextField(null=True)
    attempts = peewee.IntegerField(default=0)
    created_at = peewee.DateTimeField()
    started_at = peewee.DateTimeField(null=True)
    completed_at = peewee.DateTimeField(null=True)
    expires_at = peewee.DateTimeField()

    class Meta:
        table_name = "reports"


@dataclass(frozen=True, slots=True)
class StoredReport:
    id: str
    client_id: str
    user_id: str
    requested_by: str
    status: str
    parameters: dict[str, Any]
    format: str
    result: dict[str, Any] | None
    failure_reason: str | None
    attempts: int
    created_at: datetime
    completed_at: datetime | None
    expires_at: datetime


_COLUMNS = [c for c in ReportRow._meta.sorted_fields if c.name not in ("file", "content_type")]


def _record(row: ReportRow) -> StoredReport:
    return StoredReport(
        id=row.id,
        client_id=row.client_id,
        user_id=row.user_id,
        requested_by=row.requested_by,
        status=row.status,
        parameters=json.loads(row.parameters),
        format=row.format,
        result=json.loads(row.result) if row.result else None,
        failure_reason=row.failure_reason,
        attempts=row.attempts,
        created_at=row.created_at,
        completed_at=row.completed_at,
        expires_at=row.expires_at,
    )


def insert(
    report_id: str,
    *,
    client_id: str,
    user_id: str,
    requested_by: str,
    parameters: dict[str, Any],
    file_format: str,
    now: datetime,
    kept_days: int,
) -> StoredReport:
    ReportRow.insert(
        id=report_id,
        client_id=client_id,
        user_id=user_id,
        requested_by=requested_by,
        status="PENDING",
        parameters=json.dumps(parameters, sort_keys=True),
        format=file_format,
        attempts=0,
        created_at=now,
        expires_at=now + timedelta(days=kept_days),
    ).execute()
    found = get(report_id, now)
    assert found is not None
    return found


def open_count(client_id: str, user_id: str, now: datetime) -> int:
    """The caller's reports PENDING or PROCESSING (not expired).

    Inside a write transaction the count holds until it commits: on
    PostgreSQL a transaction-scoped advisory lock per caller makes concurrent
    requests of one caller count one after the other (else each would see
    fewer than the limit and all would be stored); SQLite's write lock,
    taken when the transaction begins, does the same."""
    if is_postgres():
        database.execute_sql(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            (f"report-requests:{client_id}:{user_id}",),
        )
    return int(
        ReportRow.select()
        .where(
            (ReportRow.client_id == client_id)
            & (ReportRow.user_id == user_id)
            & ReportRow.status.in_(OPEN)
            & (ReportRow.expires_at > now)
        )
        .count()
    )


def get(report_id: str, now: datetime) -> StoredReport | None:
    row = (
        ReportRow.select(*_COLUMNS)
        .where((ReportRow.id == report_id) & (ReportRow.expires_at > now))
        .first()
    )
    return None if row is None else _record(row)


def file_of(report_id: str) -> tuple[bytes, str]:
    row = (
        ReportRow.select(ReportRow.file, ReportRow.content_type)
        .where(ReportRow.id == report_id)
        .tuples()
        .first()
    )
    assert row is not None and row[0] is not None, report_id
    return bytes(row[0]), str(row[1])


def claim(now: datetime) -> StoredReport | None:
    """The next report to compute, moved to PROCESSING (in the caller's transaction)."""
    stale = now - timedelta(seconds=LEASE_SECONDS)
    query = (
        ReportRow.select(*_COLUMNS)
        .where(
            (ReportRow.status == "PENDING")
            | ((ReportRow.status == "PROCESSING") & (ReportRow.started_at < stale))
        )
        .order_by(ReportRow.created_at, ReportRow.id)
        .limit(1)
    )
    if is_postgres():
        query = query.for_update(skip_locked=True)
    row = query.first()
    if row is None:
        return None
    ReportRow.update(status="PROCESSING", started_at=now, attempts=ReportRow.attempts + 1).where(
        ReportRow.id == row.id
    ).execute()
    row.status, row.attempts = "PROCESSING", row.attempts + 1
    return _record(row)


def complete(
    report_id: str, result: dict[str, Any], file: bytes, content_type: str, now: datetime
) -> None:
    ReportRow.update(
        status="COMPLETED",
        result=json.dumps(result, sort_keys=True),
        file=file,
        content_type=content_type,
        completed_at=now,
    ).where((ReportRow.id == report_id) & (ReportRow.status == "PROCESSING")).execute()


def fail(report_id: str, reason: str, now: datetime) -> None:
    ReportRow.update(status="FAILED", failure_reason=reason[:500], completed_at=now).where(
        (ReportRow.id == report_id) & ReportRow.status.in_(OPEN)
    ).execute()


def prune(now: datetime) -> int:
    """Deletes reports past their 30 days; returns how many."""
    return int(ReportRow.delete().where(ReportRow.expires_at <= now).execute())
