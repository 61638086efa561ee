"""Custom reports: asked (stored PENDING), computed by the worker, read, downloaded.

Every custom report goes through the worker (server.workers.reports), small
or large: one path, and the caller's call never waits on a large
aggregation. The worker in the same process is woken at once, so a small
report is ready within about a second.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.domain import errors
from server.domain import report_files as files
from server.domain import reports as rules
from server.domain.ids import new_id
from server.domain.principal import Principal
from server.domain.reports import Figures, Period
from server.services import reports
from server.store import clock, report_jobs, tx
from server.store.report_jobs import StoredReport

log = logging.getLogger(__name__)
WAKE = threading.Event()  # set when a report is asked for: the worker looks at once


@dataclass(frozen=True, slots=True)
class CustomForm:
    first: str
    last: str
    account_ids: list[str]
    types: list[str]
    group_by: str  # "" = default (DAY)
    file_format: str
    currency: str


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """A stored report as the api layer shows it."""

    stored: StoredReport
    figures: Figures | None

    @property
    def period(self) -> Period:
        p = self.stored.parameters
        return Period(
            datetime.fromisoformat(p["from"]).date(), datetime.fromisoformat(p["to"]).date()
        )


def _owner(principal: Principal) -> tuple[str, str]:
    return principal.client_id, principal.user_id or ""


def create(principal: Principal, form: CustomForm, sandbox: bool) -> ReportRecord:
    now, today = reports.today(sandbox)
    period = rules.custom_period(form.first, form.last, today)
    account_ids = rules.account_list(form.account_ids)
    types = rules.type_list(form.types)
    file_format = rules.file_format(form.file_format)
    group_by = form.group_by or rules.DAY
    currency = reports.scope_accounts(principal, account_ids, form.currency)
    parameters: dict[str, Any] = {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "account_ids": account_ids,
        "types": types,
        "group_by": group_by,
        "currency": currency,
        "today": today.isoformat(),
    }
    client_id, user_id = _owner(principal)

    def write() -> StoredReport:
        if report_jobs.open_count(client_id, user_id, now) >= rules.PENDING_PER_CALLER_MAX:
            raise errors.RateLimited(
                f"At most {rules.PENDING_PER_CALLER_MAX} reports may wait at once;"
                " retry when one has completed",
                metadata={"pending_max": str(rules.PENDING_PER_CALLER_MAX)},
            )
        return report_jobs.insert(
            new_id("rpt"),
            client_id=client_id,
            user_id=user_id,
            requested_by=reports.requester(principal),
            parameters=parameters,
            file_format=file_format,
            now=now,
            kept_days=rules.KEPT_DAYS,
        )

    stored = tx.write(write)
    WAKE.set()
    return ReportRecord(stored, None)


def get(principal: Principal, report_id: str, sandbox: bool) -> ReportRecord:
    stored = _visible(principal, report_id, sandbox)
    figures = rules.figures_from(stored.result) if stored.result else None
    return ReportRecord(stored, figures)


def _visible(principal: Principal, report_id: str, sandbox: bool) -> StoredReport:
    stored = (
        report_jobs.get(report_id, clock.now(sandbox)) if report_id.startswith("rpt_") else None
    )
    # Staff read every report; others only the reports they asked for.
    if stored is None or not (
        principal.is_staff or _owner(principal) == (stored.client_id, stored.user_id)
    ):
        raise errors.NotFound(
            "Report not found", field="report_id", metadata={"report_id": report_id}
        )
    return stored


def download(principal: Principal, report_id: str, sandbox: bool) -> tuple[bytes, str, str]:
    """(file, Content-Type, file name) of a COMPLETED report."""
    stored = _visible(principal, report_id, sandbox)
    if stored.status != rules.COMPLETED:
        metadata = {"status": stored.status}
        if stored.failure_reason:
            metadata["failure_reason"] = stored.failure_reason
        raise errors.Conflict(
            "The report is not completed" if stored.status != rules.FAILED else "The report failed",
            metadata=metadata,
        )
    content, content_type = report_jobs.file_of(stored.id)
    return content, content_type, files.file_name(stored.id, stored.format)


# -- The worker's step ------------------------------------------------------------------
def run_next(sandbox: bool) -> bool:
    """Claims and computes one report; False when none was waiting."""
    now = clock.now(sandbox)
    claimed = tx.write(lambda: report_jobs.claim(now))
    if claimed is None:
        return False
    if claimed.attempts > report_jobs.ATTEMPTS_MAX:
        tx.write(lambda: report_jobs.fail(claimed.id, "The report could not be computed", now))
        return True
    try:
        result, content, content_type = _compute(claimed, sandbox)
    except errors.BankError as exc:
        reason = exc.message
        tx.write(lambda: report_jobs.fail(claimed.id, reason, clock.now(sandbox)))
        return True
    except Exception:
        log.exception("report failed", extra={"report_id": claimed.id})
        tx.write(
            lambda: report_jobs.fail(
                claimed.id, "The report could not be computed", clock.now(sandbox)
            )
        )
        return True
    done = clock.now(sandbox)
    tx.write(lambda: report_jobs.complete(claimed.id, result, content, content_type, done))
    return True


def _compute(stored: StoredReport, sandbox: bool) -> tuple[dict[str, Any], bytes, str]:
    p = stored.parameters
    period = Period(
        datetime.fromisoformat(p["from"]).date(), datetime.fromisoformat(p["to"]).date()
    )
    query = reports.ReportQuery(
        kind=rules.CUSTOM,
        period=period,
        currency=p["currency"],
        account_ids=tuple(p["account_ids"]),
        types=tuple(p["types"]),
        group_by=p["group_by"],
    )
    now = clock.now(sandbox)
    (figures,) = reports.figures(query, now)
    rules.check_group_count(figures.groups)
    document = files.ReportDocument(
        id=stored.id,
        first=p["from"],
        last=p["to"],
        account_ids=tuple(p["account_ids"]),
        types=tuple(p["types"]),
        group_by=p["group_by"],
        generated_at=now,
        figures=figures,
    )
    content, content_type = files.render(document, stored.format)
    return rules.figures_dict(figures), content, content_type


def prune(sandbox: bool) -> int:
    now = clock.now(sandbox)
    return tx.write(lambda: report_jobs.prune(now))
