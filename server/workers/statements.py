"""Monthly statements of closed months (statement.proto), made by the sweeper.

Each run walks the months from the oldest customer account's to the last
closed one, asking for the accounts open during a month that lack its
statement, BATCH at a time, and making theirs with one read of their
figures and one insert per batch (`statement_records.make_many`); the
insert ignores a statement another process made first, so several
processes may run this at once. A
run stops after RUN_SECONDS_MAX and the next sweep goes on (an account's
list makes its own missing statements on demand meanwhile). The months
already complete are remembered per process and database, so a sweep with
nothing new to close costs no query.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from datetime import datetime
from typing import Any

from server.domain import statement_months as rules
from server.store import statement_records
from server.store.db import database

log = logging.getLogger(__name__)

BATCH = 200
RUN_SECONDS_MAX = 1.0  # a clock advance waits for at most this much of it

_lock = threading.Lock()
# Per database (tests bind several in one process): the last month every
# account has its statement of, once known.
_complete_through: weakref.WeakKeyDictionary[Any, rules.Month] = weakref.WeakKeyDictionary()


def forget() -> None:
    """Forgets which months are complete."""
    _complete_through.clear()


def run_due(now: datetime) -> int:
    """Makes missing statements of closed months; returns how many it made."""
    through = rules.last_closed(now)
    target = database.obj
    done = _complete_through.get(target)
    if done is not None and done >= through:
        return 0
    if not _lock.acquire(blocking=False):
        return 0  # another thread of this process is at it
    try:
        return _run(now, through, target, done)
    finally:
        _lock.release()


def _run(now: datetime, through: rules.Month, target: Any, done: rules.Month | None) -> int:
    first = statement_records.first_month()
    if first is None:
        return 0
    month = first if done is None else max(done.next(), first)
    deadline = time.monotonic() + RUN_SECONDS_MAX
    made = 0
    complete = True
    while month <= through:
        if time.monotonic() > deadline:
            return made
        while True:
            missing = statement_records.accounts_missing(month, BATCH)
            written, broken = statement_records.make_many(missing, month, now)
            made += written
            for account_id in broken:
                # Postings that do not add up: a ledger fault; no statement
                # is made of them, the other accounts go on.
                log.error(
                    "statement not made: its postings do not add up",
                    extra={"account_id": account_id, "period": month.label},
                )
                complete = False
            if len(missing) < BATCH:
                break
            if not complete or time.monotonic() > deadline:
                return made  # the next run goes on (a full batch of faults: later)
        month = month.next()
    if complete:
        _complete_through[target] = through
    return made
