"""`python -m server reset-sandbox` (`make reset-sandbox`) and what `make run` prints.

The sandbox clock persists and only moves forward; the reset drops the
sandbox database and loads it again, clock and balances as documented.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import requests

from server.config import REPO_ROOT, Settings
from server.run import Stack, banner, settings_env
from tests.common import envelope
from tests.common.auth import token_over_rest
from tests.common.money import ALICE_CHECKING
from tests.common.stack import stack_settings, started


def _reset(settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", "reset-sandbox"],
        cwd=REPO_ROOT,
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _session(stack: Stack) -> requests.Session:
    session = requests.Session()
    token = token_over_rest(stack.http_url)["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def _state(stack: Stack) -> tuple[int, float]:
    """The sandbox clock's offset and Alice's CHECKING balance."""
    with _session(stack) as rest:
        clock = envelope.success(rest.get(f"{stack.http_url}/v1/sandbox/clock"))["clock"]
        account = envelope.success(rest.get(f"{stack.http_url}/v1/accounts/{ALICE_CHECKING}"))
    return int(clock["offsetSeconds"]), float(account["account"]["balance"])


def test_reset_sandbox_brings_the_clock_and_the_data_back(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path, database_url="")
    with started(settings) as stack:
        assert _state(stack) == (0, 5000.0)
        with _session(stack) as rest:
            envelope.success(
                rest.post(f"{stack.http_url}/v1/sandbox/clock:advance", json={"days": 3})
            )
            envelope.success(
                rest.post(
                    f"{stack.http_url}/v1/transactions/deposit",
                    json={"accountId": ALICE_CHECKING, "amount": 10, "method": "CASH"},
                ),
                201,
            )
        assert _state(stack) == (3 * 86_400, 5010.0)
        running = _reset(settings)
        assert running.returncode == 2 and "stop it" in running.stderr
    done = _reset(settings)
    assert done.returncode == 0, done.stderr
    assert str(settings.sqlite_path) in done.stdout
    with started(settings) as stack:
        assert _state(stack) == (0, 5000.0)


def test_reset_sandbox_refuses_production_and_postgresql(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    production = _reset(replace(settings, mode="production"))
    assert production.returncode == 2 and "sandbox mode only" in production.stderr
    postgres = _reset(replace(settings, database_url="postgresql://nobody@127.0.0.1:1/none"))
    assert postgres.returncode == 2 and "PostgreSQL" in postgres.stderr


def test_the_banners_grpcurl_line_runs_as_printed(stack: Stack) -> None:
    printed = next(line for line in banner(stack).splitlines() if "grpcurl" in line)
    command = shlex.split(printed)
    assert command[0] == ".venv/bin/grpcurl" or Path(command[0]).is_absolute()
    listed = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=False
    )
    assert listed.returncode == 0, listed.stderr
    assert "backoffice.v1.TransactionService" in listed.stdout
