"""Graceful shutdown: on SIGTERM, in-flight calls finish, then the process exits 0."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import grpc

from backoffice.v1 import sandbox_service_pb2 as sandbox_pb
from backoffice.v1 import sandbox_service_pb2_grpc as sandbox_grpc
from server.config import REPO_ROOT, Settings
from server.run import settings_env, wait_for_health
from tests.common.auth import authenticated, token_over_grpc
from tests.common.stack import free_ports, run_setup


def test_sigterm_lets_in_flight_calls_finish(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    settings = replace(
        Settings.from_env({}),
        grpc_port=port,
        data_dir=tmp_path,
        log_level="WARNING",
        metrics_port=0,
    )
    run_setup(settings)
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve"], cwd=REPO_ROOT, env=settings_env(settings)
    )
    try:
        wait_for_health(f"127.0.0.1:{port}", time.monotonic() + 30)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            token = token_over_grpc(channel)
        # Hold SQLite's write lock so that AdvanceClock waits inside the server.
        blocker = sqlite3.connect(settings.sqlite_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        results: dict[str, object] = {}

        def advance() -> None:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as raw:
                stub = sandbox_grpc.SandboxServiceStub(authenticated(raw, token))
                reply = stub.AdvanceClock(sandbox_pb.AdvanceClockRequest(seconds=60), timeout=30)
                results["offset"] = reply.clock.offset_seconds

        caller = threading.Thread(target=advance)
        caller.start()
        time.sleep(2.5)  # the call is now waiting for the lock (slow machines included)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert process.poll() is None, "the server stopped before its in-flight call finished"
        blocker.execute("COMMIT")
        blocker.close()
        caller.join(timeout=30)
        assert results.get("offset") == 60
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
