"""The system under test: the private PostgreSQL, the server processes and the
webhook delivery workers on it, and the webhook receiver (tests/chaos/webhooks.py)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import grpc
import psycopg2

import server  # noqa: F401  (puts gen/ on sys.path)
from backoffice.v1 import account_service_pb2_grpc as account_grpc
from backoffice.v1 import payee_service_pb2_grpc as payee_grpc
from backoffice.v1 import sandbox_service_pb2_grpc as sandbox_grpc
from backoffice.v1 import transaction_service_pb2_grpc as transaction_grpc
from backoffice.v1 import user_service_pb2_grpc as user_grpc
from server.config import REPO_ROOT, Settings
from server.run import settings_env, wait_for_health
from tests.chaos.model import CHANNEL_OPTIONS, Config
from tests.chaos.postgres import PrivatePostgres
from tests.chaos.server_entry import BREAK_ENV
from tests.chaos.webhooks import ChaosReceiver, WebhookProcess, chaos_receiver, subscribe
from tests.common.auth import authenticated, token_over_grpc
from tests.common.stack import free_ports


class ServerProcess:
    """One `python -m server serve` (through tests.chaos.server_entry)."""

    def __init__(self, index: int, settings: Settings, log_dir: Path, break_mode: str) -> None:
        self.index = index
        self.settings = settings
        self.log_path = log_dir / f"server-{index}.log"
        self.break_mode = break_mode
        self.process: subprocess.Popen[bytes] | None = None
        self.target = f"{settings.host}:{settings.grpc_port}"

    def start(self) -> None:
        env = settings_env(self.settings)
        env[BREAK_ENV] = self.break_mode
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.chaos.server_entry", "serve"],
                cwd=REPO_ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        wait_for_health(self.target, time.monotonic() + 60)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class System:
    """PostgreSQL, the servers, and authenticated gRPC stubs for each server."""

    def __init__(self, config: Config, work_dir: Path) -> None:
        self.config = config
        self.work_dir = work_dir
        ports = free_ports(1 + config.servers)
        self.pg = PrivatePostgres(work_dir / "postgres", ports[0])
        data_dir = work_dir / "bank"
        data_dir.mkdir()
        base = replace(
            Settings.from_env({}),
            database_url=self.pg.url(),
            data_dir=data_dir,
            worker_threads=8,
            log_level="WARNING",
            metrics_port=0,  # several servers here, none a supervisor's worker
        )
        self.base_settings = base
        self.servers = [
            ServerProcess(
                index, replace(base, grpc_port=port), data_dir / "logs", config.break_mode
            )
            for index, port in enumerate(ports[1:])
        ]
        self.webhook_workers = [
            WebhookProcess(index, base, data_dir / "logs", config)
            for index in range(config.webhook_workers)
        ]
        self._open = contextlib.ExitStack()
        self.receiver: ChaosReceiver = self._open.enter_context(chaos_receiver(config))
        self.webhook_id = ""
        self.channels: list[grpc.Channel] = []
        self.transactions: list[transaction_grpc.TransactionServiceStub] = []
        self.accounts: list[account_grpc.AccountServiceStub] = []
        self.users: list[user_grpc.UserServiceStub] = []
        self.payees: list[payee_grpc.PayeeServiceStub] = []
        self.sandbox: list[sandbox_grpc.SandboxServiceStub] = []

    def start(self) -> None:
        self.pg.init()
        self.cli("migrate")
        (self.base_settings.data_dir / "logs").mkdir(exist_ok=True)
        # The sandbox data (its OAuth client is all the harness needs) loads
        # while the servers start: they need only the migrated schema.
        with ThreadPoolExecutor(1 + len(self.servers)) as pool:
            loading = pool.submit(self.cli, "load-sandbox")
            starting = [pool.submit(process.start) for process in self.servers]
            for future in [loading, *starting]:
                future.result()
        token = ""
        for process in self.servers:
            raw = grpc.insecure_channel(process.target, options=CHANNEL_OPTIONS)
            token = token or token_over_grpc(raw)
            channel = authenticated(raw, token)
            self.channels.append(raw)
            self.transactions.append(transaction_grpc.TransactionServiceStub(channel))
            self.accounts.append(account_grpc.AccountServiceStub(channel))
            self.users.append(user_grpc.UserServiceStub(channel))
            self.payees.append(payee_grpc.PayeeServiceStub(channel))
            self.sandbox.append(sandbox_grpc.SandboxServiceStub(channel))
        # Subscribed before any worker runs: every event is fanned out to it.
        self.webhook_id = subscribe(authenticated(self.channels[0], token), self.receiver.url)
        for worker in self.webhook_workers:
            worker.start()

    def cli(self, command: str) -> None:
        """`python -m server <command>` against the private database."""
        result = subprocess.run(
            [sys.executable, "-m", "server", command],
            cwd=REPO_ROOT,
            env=settings_env(self.base_settings),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"python -m server {command} failed: {result.stderr}")

    def heal(self) -> None:
        """PostgreSQL running and not paused, every server running and healthy."""
        self.pg.resume()
        try:
            self.pg.connect("postgres", timeout=5).close()
        except psycopg2.OperationalError:
            self.pg.start()
        for process in self.servers:
            if not process.alive():
                process.start()
            wait_for_health(process.target, time.monotonic() + 60)
        for worker in self.webhook_workers:
            if not worker.alive():
                worker.start()

    def close(self) -> None:
        for channel in self.channels:
            channel.close()
        self.pg.resume()
        for worker in self.webhook_workers:
            worker.stop()
        for process in self.servers:
            process.stop()
        self.pg.stop("fast")
        self._open.close()
