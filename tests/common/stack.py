"""Starting the real stack (gRPC server + Envoy) for a test session."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from server.config import REPO_ROOT, Settings
from server.run import Stack, settings_env
from tests.common.databases import postgres_database


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def run_setup(settings: Settings) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "setup"],
        cwd=REPO_ROOT,
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def stack_settings(tmp: Path, **changes: Any) -> Settings:
    """Settings of a stack of a test's own: free ports, `tmp` for its data, then `changes`."""
    grpc_port, http_port, https_port, admin_port, metrics_port = free_ports(5)
    defaults: dict[str, Any] = {
        "grpc_port": grpc_port,
        "http_port": http_port,
        "https_port": https_port,
        "envoy_admin_port": admin_port,
        "metrics_port": metrics_port,
        "data_dir": tmp,
        "worker_threads": 4,
        "log_level": "WARNING",
        "public_url": "",  # follows the test's own HTTP port
    }
    return replace(Settings.from_env({}), **{**defaults, **changes})


@contextmanager
def started(settings: Settings, *, set_up_as: str | None = None) -> Iterator[Stack]:
    """The stack of `settings`, its database set up first (in mode `set_up_as` if given)."""
    run_setup(replace(settings, mode=set_up_as) if set_up_as else settings)
    stack = Stack(settings, settings.data_dir / "logs")
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@contextmanager
def running_stack(backend: str, tmp: Path) -> Iterator[Stack]:
    """The session's stack on `backend` (sqlite or postgres)."""
    with (
        postgres_database() if backend == "postgres" else _sqlite() as url,
        started(
            stack_settings(
                tmp,
                worker_threads=8,
                database_url=url,
                # The session's tests all come from 127.0.0.1 and get tokens
                # and sign in as often as they like: the public endpoints'
                # limits are tested on stacks of their own
                # (tests/api/test_public_limits.py).
                oauth_requests_per_minute=10_000_000,
                oauth_client_checks_per_minute=10_000_000,
                sign_in_failures_per_minute=1_000_000,
                hash_queue=256,
            )
        ) as stack,
    ):
        yield stack


@contextmanager
def _sqlite() -> Iterator[str]:
    yield ""
