"""Several server processes on one port (BANK_SERVER_PROCESSES), on PostgreSQL.

The supervisor starts its workers, refuses a port already taken, starts a
worker again when one dies, stops every worker gracefully on SIGTERM and
takes them with it when it is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from backoffice.v1 import sandbox_service_pb2 as sandbox_pb
from backoffice.v1 import sandbox_service_pb2_grpc as sandbox_grpc
from server.config import REPO_ROOT, Settings
from server.run import settings_env, wait_for_health
from tests.common.auth import authenticated, token_over_grpc
from tests.common.databases import postgres_database
from tests.common.metrics import scrape, value
from tests.common.stack import free_ports, run_setup

pytestmark = pytest.mark.postgres

WORKERS = 2
GET_CLOCK = "SandboxService/GetClock"


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def _wait_for(predicate: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    port, metrics_port = free_ports(2)
    with postgres_database() as url:
        found = replace(
            Settings.from_env({}),
            grpc_port=port,
            metrics_port=metrics_port,
            data_dir=tmp_path_factory.mktemp("supervised"),
            database_url=url,
            worker_threads=4,
            log_level="WARNING",
            server_processes=WORKERS,
        )
        run_setup(found)
        yield found


def _start(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = dict(settings_env(settings), BANK_SERVER_PROCESSES=str(WORKERS))
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "server", "serve"],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _clock(target: str) -> int:
    """An authenticated call (token, database) answered by whichever worker takes it."""
    with grpc.insecure_channel(target) as channel:
        token = token_over_grpc(channel)
        stub = sandbox_grpc.SandboxServiceStub(authenticated(channel, token))
        return stub.GetClock(sandbox_pb.GetClockRequest(), timeout=10).clock.offset_seconds


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def test_workers_serve_restart_and_stop_with_the_supervisor(
    settings: Settings, tmp_path: Path
) -> None:
    target = f"127.0.0.1:{settings.grpc_port}"
    supervisor = _start(settings, tmp_path / "supervisor.log")
    try:
        wait_for_health(target, time.monotonic() + 30)
        _wait_for(lambda: len(_children(supervisor.pid)) == WORKERS, 30, "both workers")
        workers = _children(supervisor.pid)
        # Every worker answers: connections are spread by the kernel, so
        # enough fresh connections reach both.
        assert {_clock(target) for _ in range(8)} == {0}
        # The supervisor serves the sum of every worker's metrics.
        samples = scrape(settings.metrics_port)
        assert value(samples, "bank_rpc_calls_total", method=GET_CLOCK, outcome="OK") == 8
        recorded = {p.stem.rsplit("_", 1)[-1] for p in settings.data_dir.glob("metrics/counter_*")}
        assert recorded <= {str(pid) for pid in workers}, recorded

        # A second server on the same port is refused, not silently added.
        second = _start(settings, tmp_path / "second.log")
        try:
            assert second.wait(timeout=30) != 0
            assert "already in use" in (tmp_path / "second.log").read_text()
        finally:
            _stop(second)
        assert _children(supervisor.pid) == workers

        # A worker that dies is started again; the port keeps answering.
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        _wait_for(lambda: len(_children(supervisor.pid) - {victim}) == WORKERS, 30, "a new worker")
        wait_for_health(target, time.monotonic() + 30)
        assert _clock(target) == 0

        # SIGTERM: the workers drain and exit, then the supervisor, with 0.
        workers = _children(supervisor.pid)
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=30) == 0
        for pid in workers:
            _wait_for(lambda pid=pid: _gone(pid), 10, f"worker {pid} to exit")
    finally:
        _stop(supervisor)


def test_killing_the_supervisor_takes_its_workers(settings: Settings, tmp_path: Path) -> None:
    target = f"127.0.0.1:{settings.grpc_port}"
    supervisor = _start(settings, tmp_path / "supervisor.log")
    try:
        wait_for_health(target, time.monotonic() + 30)
        _wait_for(lambda: len(_children(supervisor.pid)) == WORKERS, 30, "both workers")
        workers = _children(supervisor.pid)
        supervisor.kill()
        supervisor.wait()
        for pid in workers:
            _wait_for(lambda pid=pid: _gone(pid), 10, f"worker {pid} to die")
    finally:
        _stop(supervisor)
