"""The report worker: computes stored (custom) reports, one at a time per process.

A thread of every server process (started by server.app.serve). It claims
the oldest waiting report (server.store.report_jobs: FOR UPDATE SKIP LOCKED
on PostgreSQL, so processes never compute one twice), computes its figures
and file (server.services.report_jobs) and stores them. It looks again at
once when a report is asked for in its process (report_jobs.WAKE), else
every POLL_SECONDS. About every PRUNE_SECONDS it deletes expired reports and
sums yesterday bank-wide (kept: server.store.report_days), so daily reports
of a closed day read kept totals.
"""

from __future__ import annotations

import logging
import threading
import time

from server.services import report_jobs, reports
from server.store.db import per_use_connection

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
PRUNE_SECONDS = 600.0


def start_worker(stop: threading.Event, sandbox: bool) -> threading.Thread:
    """A daemon thread computing waiting reports until `stop` is set."""

    def work() -> None:
        pruned_at = 0.0
        while not stop.is_set():
            try:
                with per_use_connection():
                    if time.monotonic() - pruned_at > PRUNE_SECONDS:
                        pruned_at = time.monotonic()
                        report_jobs.prune(sandbox)
                        reports.keep_yesterday(sandbox)
                    while not stop.is_set() and report_jobs.run_next(sandbox):
                        pass
            except Exception:
                log.exception("report worker step failed; retrying")
            report_jobs.WAKE.wait(POLL_SECONDS)
            report_jobs.WAKE.clear()

    thread = threading.Thread(target=work, name="report-worker", daemon=True)
    thread.start()
    return thread
