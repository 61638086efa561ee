"""Starting the real stack (gRPC server + Envoy) for a test session."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

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


@contextmanager
def running_stack(backend: str, tmp: Path) -> Iterator[Stack]:
    grpc_port, http_port, https_port, admin_port = free_ports(4)
    base = Settings.from_env({})
    settings = replace(
        base,
        grpc_port=grpc_port,
        http_port=http_port,
        https_port=https_port,
        envoy_admin_port=admin_port,
        data_dir=tmp,
        worker_threads=8,
        log_level="WARNING",
        public_url="",  # follows the test's own HTTP port
    )
    with postgres_database() if backend == "postgres" else _sqlite() as url:
        settings = replace(settings, database_url=url)
        run_setup(settings)
        stack = Stack(settings, tmp / "logs")
        try:
            stack.start()
            yield stack
        finally:
            stack.stop()


@contextmanager
def _sqlite() -> Iterator[str]:
    yield ""
