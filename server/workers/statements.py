"""Monthly statements of closed months (statement.proto), made by the sweeper.

Each run walks the months from the oldest customer account's to the last
closed one, asking for the accounts open during a month that lack its
statement, BATCH at a time, and making theirs with one read of their
figures and one insert per batch (`statement_records.make_many`); the
insert ignores a statement another process made first, so several
processes may run this at once. A
run stops after RUN_SECONDS_MAX and the next sweep goes on (an account's
list makes its own missing statements on demand meanwhile), from the
account it stopped at. The months already complete are remembered per
process and database, so a sweep with nothing new to close costs no query.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.domain import statement_months as rules
from server.store import statement_records
from server.store.db import database

log = logging.getLogger(__name__)

BATCH = 200
RUN_SECONDS_MAX = 1.0  # a clock advance waits for at most this much of it

_lock = threading.Lock()


@dataclass
class _Progress:
    """How far the statements of one database are made."""

    complete_through: rules.Month | None = None  # every account has this month's and before
    month: rules.Month | None = None  # a run ran out of time in this month...
    after: str = ""  # ...after this account id
    clean: bool = True  # no account of the pass so far was left without one


# Per database (tests bind several in one process).
_progress: weakref.WeakKeyDictionary[Any, _Progress] = weakref.WeakKeyDictionary()


def forget() -> None:
    """Forgets how far the statements are made (the next run looks again)."""
    _progress.clear()


def run_due(now: datetime) -> int:
    """Makes missing statements of closed months; returns how many it made."""
    through = rules.last_closed(now)
    progress = _progress.setdefault(database.obj, _Progress())
    done = progress.complete_through
    if done is not None and done >= through:
        return 0
    if not _lock.acquire(blocking=False):
        return 0  # another thread of this process is at it
    try:
        return _run(now, through, progress)
    finally:
        _lock.release()


def _run(now: datetime, through: rules.Month, progress: _Progress) -> int:
    first = statement_records.first_month()
    if first is None:
        return 0
    done = progress.complete_through
    month = first if done is None else max(done.next(), first)
    after = ""
    if progress.month is not None and progress.month >= month:
        month, after = progress.month, progress.after  # a pass goes on
    else:
        progress.clean = True  # a new pass
    deadline = time.monotonic() + RUN_SECONDS_MAX
    made = 0
    while month <= through:
        missing = statement_records.accounts_missing(month, BATCH, after)
        written, broken = statement_records.make_many(missing, month, now)
        made += written
        for account_id in broken:
            # Postings that do not add up: a ledger fault; no statement is
            # made of them (the next complete pass tries again), the other
            # accounts go on.
            log.error(
                "statement not made: its postings do not add up",
                extra={"account_id": account_id, "period": month.label},
            )
            progress.clean = False
        if len(missing) == BATCH:
            after = missing[-1]
        else:
            month, after = month.next(), ""
        if missing and month <= through and time.monotonic() > deadline:
            progress.month, progress.after = month, after  # the next run goes on
            return made
    progress.month, progress.after = None, ""
    if progress.clean:
        progress.complete_through = through
    return made
