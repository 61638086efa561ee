"""The fault test, short version (the full one is `make chaos`; see tests/chaos/harness.py).

Transfers, external transfers, bill payments, deposits, cancels and
recurring schedules with Idempotency-Keys, the sandbox clock moving, and
snapshot reads run against two servers on a private PostgreSQL while the
harness kills a server, pauses PostgreSQL, terminates its connections and
crash-restarts it, one after the other; then every invariant of the bank is
checked. The seed is random and printed; `CHAOS_SEED=<seed>` replays one,
`CHAOS_BREAK=<bug>` runs the servers with a deliberate bug
(tests/chaos/server_entry.py) and must make this test fail.
"""

from __future__ import annotations

import os
import random

import pytest

from tests.chaos import harness
from tests.chaos.postgres import PostgresUnavailable
from tests.common.databases import IN_CI

SECONDS = 16


def _config(seed: int) -> harness.Config:
    return harness.Config(
        seed=seed,
        duration=SECONDS,
        clients=6,
        readers=1,
        accounts=8,  # few accounts: transfers contend for the same rows
        opening=(200, 1_500),  # little money: accounts reach their floors within seconds
        # Each kind in turn, so that every kind is met in a short run.
        faults=(
            "kill-server",
            "kill-webhook-worker",
            "pause-postgres",
            "terminate-connections",
            "crash-postgres",
        ),
        order="cycle",
        # One of each and no more: the last is a database crash, so the
        # servers must recover from lost connections without being restarted.
        min_faults=5,
        max_faults=5,
        gap=(1.0, 2.5),
        heal_timeout=15,
        replays=100,
        break_mode=os.environ.get("CHAOS_BREAK", ""),
    )


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
    assert report.ok, summary
    assert report.operations > 0 and report.outcomes.get("transfer_ok", 0) > 0, summary
    assert len(report.faults) == 5, summary  # every kind of fault was injected
