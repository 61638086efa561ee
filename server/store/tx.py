"""Write transactions with bounded retries.

One mutating use-case = one database transaction. On PostgreSQL a deadlock or
serialization failure is retried a bounded number of times with jittered
backoff; on SQLite the transaction takes the write lock up front
(BEGIN IMMEDIATE), so two writers queue on busy_timeout instead of failing
on a lock upgrade.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import peewee
import psycopg2.errors

from server.domain import errors
from server.store.db import database, is_postgres

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRIES_MAX = 5
_RETRYABLE_PG = (psycopg2.errors.DeadlockDetected, psycopg2.errors.SerializationFailure)


def _retryable(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, _RETRYABLE_PG) or isinstance(cause, _RETRYABLE_PG):
        return True
    return isinstance(exc, peewee.OperationalError) and "locked" in str(exc).lower()


def write(work: Callable[[], T]) -> T:
    """Runs `work` in one write transaction, retrying transient conflicts.

    Inside an enclosing transaction it runs in a savepoint without retries:
    the outermost `write` owns the retry, since a conflict aborts it whole.
    """
    if database.in_transaction():
        with database.atomic():
            return work()
    for attempt in range(1, RETRIES_MAX + 1):
        try:
            if is_postgres():
                with database.atomic():
                    return work()
            with database.atomic("IMMEDIATE"):
                return work()
        except (peewee.OperationalError, peewee.DatabaseError) as exc:
            if not _retryable(exc) or attempt == RETRIES_MAX:
                if _retryable(exc):
                    raise errors.Unavailable("The database is busy; retry shortly") from exc
                raise
            log.warning(
                "retrying transaction", extra={"attempt": attempt, "error": type(exc).__name__}
            )
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 (jitter, not crypto)
    raise AssertionError("unreachable")
