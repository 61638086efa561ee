"""Running the recurring schedules whose run has come due, one per transaction."""

from __future__ import annotations

import functools
import logging
from datetime import datetime

import peewee

from server.config import Settings
from server.crypto.fields import FieldRef, LiveKeyring
from server.domain import errors
from server.services import recurring_execution as execution
from server.store import recurring_rows, tx

log = logging.getLogger(__name__)
RUN_MAX = 10_000  # runs per sweep; the rest wait for the next one


def run_due(now: datetime) -> tuple[int, int]:
    """Executes the runs due at `now`; returns (executed, failed).

    Each is claimed (skipping a schedule another process holds) and run in
    one transaction with its transfer, so a crash leaves the run either
    done, with the schedule moved on, or not started. A schedule late by
    several runs is claimed again until it is up to date. A run refused and
    retried later counts in neither.
    """
    executed = failed = 0
    for _ in range(RUN_MAX):
        try:
            outcome = tx.write(lambda: _claim_and_run(now))
        except (peewee.IntegrityError, errors.Conflict):
            # Another process ended this run first (its key exists) or changed
            # the schedule meanwhile: nothing was written here. The next sweep
            # sees the schedule as that process left it.
            log.info("recurring run already taken by another process")
            break
        if outcome is None:
            break
        if outcome == execution.EXECUTED:
            executed += 1
        elif outcome == execution.FAILED:
            failed += 1
    return executed, failed


@functools.cache
def _keyring() -> LiveKeyring:
    """The process's field keyring: payment runs open and seal numbers at payees.

    Read from the server's own settings (BANK_DATA_DIR), which every server
    process is started with, since the due work is called without them.
    """
    return LiveKeyring(Settings.from_env().data_dir / "keys")


class _KeyringOnFirstUse:
    """The keyring, loaded when a payment run first needs it (transfers never do)."""

    @property
    def active(self) -> str:
        return _keyring().active

    def seal(self, value: str, ref: FieldRef) -> str:
        return _keyring().seal(value, ref)

    def open(self, stored: str, ref: FieldRef) -> str:
        return _keyring().open(stored, ref)


_SEALER = _KeyringOnFirstUse()


def _claim_and_run(now: datetime) -> str | None:
    """Claims the schedule due first and runs it; its outcome (None: none due)."""
    record = recurring_rows.claim_due(now)
    return None if record is None else execution.execute(record, now, _SEALER)
