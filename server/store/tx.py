"""Write transactions with bounded retries.

One mutating use-case = one database transaction. On PostgreSQL a deadlock or
serialization failure is retried a bounded number of times with jittered
backoff; on SQLite the transaction takes the write lock up front
(BEGIN IMMEDIATE), so two writers queue on busy_timeout instead of failing
on a lock upgrade.

Some writes must outlast the request that makes them: a wrong PIN counts
even though its request fails, and even when the failure rolls back the
transaction (or savepoint) around it, as a request with an Idempotency-Key
does. `write_lasting` keeps them: when a block around one rolls back, the
write runs again right after the rollback, in the enclosing transaction if
there is one, else in a transaction of its own. (A transaction on a second
connection would not do: on SQLite the request's transaction already holds
the single write lock, and it would wait for it.)
"""

from __future__ import annotations

import logging
import random
import threading
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


class _Lasting(threading.local):
    """Per thread: the lasting writes made inside each open `write` block, innermost last."""

    def __init__(self) -> None:
        self.blocks: list[list[Callable[[], object]]] = []


_lasting = _Lasting()


class _AfterCommit(threading.local):
    """Per thread: what runs once the outermost `write` commits, per open block."""

    def __init__(self) -> None:
        self.blocks: list[list[Callable[[], object]]] = []


_after = _AfterCommit()


def after_commit(callback: Callable[[], object]) -> None:
    """Runs `callback` once the outermost `write` around this call has
    committed, never when it rolls back (a savepoint rolled back drops what
    was registered in it). Outside any `write` it runs at once: the caller's
    statement has committed on its own, or its transaction is the caller's.
    For side effects that must not precede the commit (metrics)."""
    if _after.blocks:
        _after.blocks[-1].append(callback)
    else:
        callback()


def _run_after(callbacks: list[Callable[[], object]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("an after-commit callback failed")


def write(work: Callable[[], T]) -> T:
    """Runs `work` in one write transaction, retrying transient conflicts.

    Inside an enclosing transaction it runs in a savepoint without retries:
    the outermost `write` owns the retry, since a conflict aborts it whole.
    """
    if database.in_transaction():
        return _savepoint(work)
    for attempt in range(1, RETRIES_MAX + 1):
        block: list[Callable[[], object]] = []
        _lasting.blocks = [block]
        committed: list[Callable[[], object]] = []
        _after.blocks = [committed]
        try:
            if is_postgres():
                with database.atomic():
                    result = work()
            else:
                with database.atomic("IMMEDIATE"):
                    result = work()
            _after.blocks = []
            _run_after(committed)
            return result
        except (peewee.OperationalError, peewee.DatabaseError) as exc:
            if not _retryable(exc) or attempt == RETRIES_MAX:
                _redo_alone(block)
                if _retryable(exc):
                    raise errors.Unavailable("The database is busy; retry shortly") from exc
                raise
            # The retry runs `work` again, lasting writes included.
            log.warning(
                "retrying transaction", extra={"attempt": attempt, "error": type(exc).__name__}
            )
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 (jitter, not crypto)
        except BaseException:
            _redo_alone(block)
            raise
        finally:
            _lasting.blocks = []
            _after.blocks = []
    raise AssertionError("unreachable")


def _savepoint(work: Callable[[], T]) -> T:
    block: list[Callable[[], object]] = []
    _lasting.blocks.append(block)
    later: list[Callable[[], object]] = []
    _after.blocks.append(later)
    try:
        with database.atomic():
            result = work()
    except BaseException:
        _pop_after(later)
        _pop(block)
        # Rolled back to the savepoint: the lasting writes made in it again,
        # now as lasting writes of the enclosing block (registered first, so
        # that they are made alone should this fail and the enclosing block
        # roll back too).
        for lasting in block:
            if _lasting.blocks:
                _lasting.blocks[-1].append(lasting)
            write(lasting)
        raise
    _pop_after(later)
    if _after.blocks:
        _after.blocks[-1].extend(later)
    else:  # the enclosing transaction is not a `write`'s: see after_commit
        _run_after(later)
    _pop(block)
    if _lasting.blocks:
        # Kept by the savepoint; now they share the enclosing block's fate.
        _lasting.blocks[-1].extend(block)
    return result


def _pop(block: list[Callable[[], object]]) -> None:
    if _lasting.blocks and _lasting.blocks[-1] is block:
        _lasting.blocks.pop()


def _pop_after(later: list[Callable[[], object]]) -> None:
    if _after.blocks and _after.blocks[-1] is later:
        _after.blocks.pop()


def _redo_alone(block: list[Callable[[], object]]) -> None:
    """After the outermost transaction rolled back: each lasting write in its own."""
    for lasting in block:
        try:
            write(lasting)
        except Exception:
            # The request's own failure is the answer; this one goes to the log.
            log.exception("a lasting write failed after its transaction rolled back")


def write_lasting(work: Callable[[], T]) -> T:
    """Like `write`, and the writes stay even when a block around them rolls back.

    `work` then runs again after the rollback (see the module comment), so it
    must make its whole change again from what the database holds: an
    increment is fine (the rolled-back one is gone), a read-then-write of a
    value computed before the rollback is not.
    """
    result = write(work)
    if _lasting.blocks:
        _lasting.blocks[-1].append(work)
    return result
