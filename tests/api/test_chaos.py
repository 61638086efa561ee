"""The fault test, short version (the full one is `make chaos`; see tests/chaos/harness.py).

Transfers with Idempotency-Keys and snapshot reads run against two servers on
a private PostgreSQL while the harness kills a server, pauses PostgreSQL,
terminates its connections and crash-restarts it, one after the other; then
every invariant of the bank is checked. The seed is random and printed;
`CHAOS_SEED=<seed>` replays one, `CHAOS_BREAK=<bug>` runs the servers with a
deliberate bug (tests/chaos/server_entry.py) and must make this test fail.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from tests.chaos import harness
from tests.chaos.postgres import PostgresUnavailable
from tests.common.databases import IN_CI

SECONDS = 16
# What the servers log when a worker thread reuses a database connection
# that PostgreSQL closed (terminated, or restarted): see `_known_bug`.
NO_RECONNECT = "connection already closed"


def _config(seed: int) -> harness.Config:
    return harness.Config(
        seed=seed,
        duration=SECONDS,
        clients=6,
        readers=1,
        accounts=8,  # few accounts: transfers contend for the same rows
        opening=(200, 1_500),  # little money: accounts reach their floors within seconds
        # Each kind in turn, so that every kind is met in a short run.
        faults=("kill-server", "pause-postgres", "terminate-connections", "crash-postgres"),
        order="cycle",
        # One of each and no more: the last is a database crash, so the
        # servers must recover from lost connections without being restarted.
        min_faults=4,
        max_faults=4,
        gap=(1.0, 2.5),
        heal_timeout=15,
        replays=100,
        break_mode=os.environ.get("CHAOS_BREAK", ""),
    )


def _known_bug(report: harness.Report) -> bool:
    """True when the only failure is the servers never reconnecting to PostgreSQL.

    A server's worker thread keeps the connection it first opened; once
    PostgreSQL closes it (pg_terminate_backend, a restart) every call on that
    thread answers INTERNAL until the process restarts, so requests stay
    unanswered after healing. Until that is fixed in the server this test
    reports it as an expected failure; any other violation still fails it,
    and once the servers reconnect it passes outright.
    """
    if {category for category, _ in report.violations} != {"unresolved"}:
        return False
    logs = Path(report.work_dir, "bank", "logs").glob("server-*.log")
    return any(NO_RECONNECT in log.read_text(errors="replace") for log in logs)


@pytest.mark.postgres
def test_bank_invariants_hold_while_servers_and_postgres_fail() -> None:
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1, 10**9))
    lines: list[str] = []
    try:
        report = harness.run(_config(seed), log=lines.append)
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"the fault test needs PostgreSQL's binaries in CI: {exc}")
        pytest.skip(f"PostgreSQL's binaries are not installed: {exc}")
    summary = "\n".join([*lines, report.summary(examples=25)])
    print(summary)  # shown by pytest with the failure, and with -s
    if _known_bug(report):
        shutil.rmtree(report.work_dir, ignore_errors=True)
        pytest.xfail(
            f"seed {seed}: servers do not reconnect after PostgreSQL closes their connections"
            f" ({report.violation_counts()['unresolved']} requests unanswered after healing)"
        )
    assert report.ok, summary
    assert report.operations > 0 and report.outcomes.get("ok", 0) > 0, summary
    assert len(report.faults) == 4, summary  # every kind of fault was injected
