"""Several server processes on one port (`BANK_SERVER_PROCESSES`).

A Python process runs Python code on one core at a time, so one server
process cannot use a second core. With BANK_SERVER_PROCESSES=N > 1, `serve`
becomes a supervisor of N worker processes that each bind the gRPC port with
SO_REUSEPORT; the kernel spreads incoming *connections* over them (a client
that wants every core opens several connections; Envoy does, see
envoy/envoy.yaml.tmpl). The supervisor:

- refuses to start when something already listens on the port: the workers
  share the port on purpose, and a stray second server must not join them
  silently, so it first binds the port itself without SO_REUSEPORT;
- passes SIGTERM/SIGINT on to the workers, which finish their calls
  (graceful shutdown, as a single process does), and waits for them;
- starts a worker again when one dies unexpectedly (after RESTART_DELAY_SECONDS);
- takes its workers with it when it is killed (PR_SET_PDEATHSIG): nothing
  is left serving behind a dead supervisor.

Everything a worker keeps in memory is either shared through the database
(or Redis) or is a cache with a bound on its age; see the README
("Several server processes").
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from types import FrameType

from server import metrics
from server.config import ConfigError, Settings

log = logging.getLogger("server.supervisor")

WORKER_ENV = "BANK_SERVER_WORKER"  # set by the supervisor: the worker's index
RESTART_DELAY_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1


def worker_index() -> int | None:
    """This process's index among the workers; None when it is not a worker."""
    raw = os.environ.get(WORKER_ENV, "")
    return int(raw) if raw.isdigit() else None


def _port_is_free(host: str, port: int) -> bool:
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        # SO_REUSEADDR: a port in TIME_WAIT is free; one with a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def _die_with_parent() -> None:
    """Runs in the worker before exec: SIGKILL when the supervisor goes away."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Supervisor:
    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.stopping = threading.Event()

    def _spawn(self, index: int) -> None:
        env = dict(os.environ, **{WORKER_ENV: str(index)})
        self.workers[index] = subprocess.Popen(
            [sys.executable, "-m", "server", "serve"],
            env=env,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 (single-threaded here; nothing else forks)
        )

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("shutting down workers", extra={"signal": signal.Signals(signum).name})
        self.stopping.set()
        for worker in self.workers.values():
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)

    def run(self) -> int:
        s = self.settings
        if not _port_is_free(s.host, s.grpc_port):
            raise ConfigError(f"{s.host}:{s.grpc_port} is already in use")
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for index in range(self.processes):
            self._spawn(index)
        log.info(
            "supervising",
            extra={"grpc": f"{s.host}:{s.grpc_port}", "workers": self.processes},
        )
        while not self.stopping.is_set():
            for index, worker in list(self.workers.items()):
                code = worker.poll()
                if code is not None and not self.stopping.is_set():
                    log.error("worker died; restarting", extra={"worker": index, "code": code})
                    metrics.process_gone(worker.pid)
                    time.sleep(RESTART_DELAY_SECONDS)
                    if not self.stopping.is_set():
                        self._spawn(index)
            self.stopping.wait(0.2)
        grace = s.shutdown_grace_seconds + 5
        for worker in self.workers.values():
            try:
                worker.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        log.info("stopped")
        return 0
