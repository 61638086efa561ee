"""Starts the whole stack: the gRPC server and Envoy in front of it.

`Stack` is shared by `make run` and by the test suite, so the tests exercise
exactly what users run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from server import gateway, tls
from server.config import REPO_ROOT, Settings

DESCRIPTOR_SET = REPO_ROOT / "gen" / "backoffice.binpb"
LUA_FILTER = REPO_ROOT / "envoy" / "envelope.lua"
START_TIMEOUT_SECONDS = 30.0


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process see `settings`."""
    env = dict(os.environ)
    env.update(
        BANK_MODE=settings.mode,
        BANK_HOST=settings.host,
        GRPC_PORT=str(settings.grpc_port),
        HTTP_PORT=str(settings.http_port),
        HTTPS_PORT=str(settings.https_port),
        ENVOY_ADMIN_PORT=str(settings.envoy_admin_port),
        DATABASE_URL=settings.database_url,
        BANK_DATA_DIR=str(settings.data_dir),
        BANK_WORKER_THREADS=str(settings.worker_threads),
        BANK_LOG_LEVEL=settings.log_level,
        BANK_PUBLIC_URL=settings.public_url,
        REDIS_URL=settings.redis_url,
        BANK_TRUSTED_PROXIES=",".join(settings.trusted_proxies),
        BANK_SERVER_PROCESSES=str(settings.server_processes),
        BANK_GRPC_TLS=settings.grpc_tls,
        BANK_GRPC_TLS_DIR=str(settings.grpc_tls_files_dir),
        BANK_HASH_THREADS=str(settings.hash_threads),
        BANK_HASH_QUEUE=str(settings.hash_queue),
        BANK_TRANSFER_BATCH_WAIT_MS=str(settings.transfer_batch_wait_ms),
        BANK_TRANSFER_BATCH_MAX=str(settings.transfer_batch_max),
        BANK_TRANSFER_BATCH_CONCURRENCY=str(settings.transfer_batch_concurrency),
        BANK_OAUTH_REQUESTS_PER_MINUTE=str(settings.oauth_requests_per_minute),
        BANK_OAUTH_CLIENT_CHECKS_PER_MINUTE=str(settings.oauth_client_checks_per_minute),
        BANK_SIGN_IN_FAILURES_PER_MINUTE=str(settings.sign_in_failures_per_minute),
        BANK_WEBHOOK_WORKER="on" if settings.webhook_worker else "off",
        BANK_WEBHOOK_WORKERS=str(settings.webhook_workers),
        BANK_METRICS_HOST=settings.metrics_host,
        BANK_METRICS_PORT=str(settings.metrics_port),
        BANK_METRICS_DIR=settings.metrics_dir,
        BANK_WEBHOOK_CONCURRENCY=str(settings.webhook_concurrency),
        BANK_WEBHOOK_POLL_MS=str(settings.webhook_poll_ms),
        BANK_SMTP_HOST=settings.smtp_host,
        BANK_SMTP_PORT=str(settings.smtp_port),
        BANK_SMTP_USER=settings.smtp_user,
        BANK_SMTP_PASSWORD=settings.smtp_password,
        BANK_SMTP_FROM=settings.smtp_from,
        BANK_SMTP_STARTTLS="on" if settings.smtp_starttls else "off",
    )
    return env


def metrics_url(settings: Settings) -> str:
    if not settings.metrics_port:
        return "off (BANK_METRICS_PORT=0)"
    return f"http://{settings.metrics_host}:{settings.metrics_port}/metrics (Prometheus)"


def wait_for_port(host: str, port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port}") from None
            time.sleep(0.05)


def grpc_channel(
    settings: Settings,
    target: str | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A channel to the gRPC port as `settings` serve it (TLS: as the operator)."""
    address = target or f"{settings.host}:{settings.grpc_port}"
    if settings.grpc_tls == "off":
        return grpc.insecure_channel(address, options=list(options))
    files = tls.Files(settings.grpc_tls_files_dir)
    return grpc.secure_channel(
        address,
        tls.channel_credentials(files, settings.grpc_tls),
        options=[*options, ("grpc.ssl_target_name_override", tls.SERVER_NAME)],
    )


def wait_for_health(target: str, deadline: float, settings: Settings | None = None) -> None:
    """Until the server at `target` answers SERVING (over TLS when `settings` say so)."""
    channel_of = grpc_channel(settings, target) if settings else grpc.insecure_channel(target)
    with channel_of as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"gRPC server at {target} did not become healthy")
            time.sleep(0.05)


@dataclass
class Stack:
    """The gRPC server and Envoy as child processes."""

    settings: Settings
    log_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def grpc_target(self) -> str:
        return f"{self.settings.host}:{self.settings.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://{self.settings.host}:{self.settings.https_port}"

    def start(self) -> Stack:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        if self.settings.grpc_tls != "off":
            tls.ensure_files(self.settings.grpc_tls_files_dir, self.settings.host)
        self._spawn("server", [sys.executable, "-m", "server", "serve"])
        wait_for_health(self.grpc_target, deadline, self.settings)
        config_path = self.write_envoy_config()
        self._spawn(
            "envoy",
            gateway.envoy_command(config_path),
        )
        wait_for_port(self.settings.host, self.settings.http_port, deadline)
        wait_for_port(self.settings.host, self.settings.https_port, deadline)
        if self.settings.webhook_worker:  # last: the server and Envoy keep their places
            for index in range(self.settings.webhook_workers):
                name = "webhooks" if index == 0 else f"webhooks-{index}"
                self._spawn(name, [sys.executable, "-m", "server", "webhooks"])
        return self

    def write_envoy_config(self) -> Path:
        cert, key = gateway.ensure_dev_certificate(self.settings.data_dir / "tls")
        path = self.settings.data_dir / f"envoy-{self.settings.http_port}.yaml"
        gateway.write_envoy_config(
            path,
            http_port=self.settings.http_port,
            https_port=self.settings.https_port,
            admin_port=self.settings.envoy_admin_port,
            grpc_port=self.settings.grpc_port,
            descriptor_set=DESCRIPTOR_SET,
            cert=cert,
            key=key,
            lua_path=LUA_FILTER,
            services=gateway.service_names(DESCRIPTOR_SET),
            host=self.settings.host,
            upstream_tls=self._upstream_tls(),
        )
        return path

    def _upstream_tls(self) -> gateway.UpstreamTls | None:
        mode = self.settings.grpc_tls
        if mode == "off":
            return None
        files = tls.Files(self.settings.grpc_tls_files_dir)
        envoy = files.envoy if mode == "mutual" else None
        return gateway.UpstreamTls(
            ca=files.ca,
            server_name=tls.SERVER_NAME,
            certificate=envoy.certificate if envoy else None,
            key=envoy.key if envoy else None,
        )

    def _spawn(self, name: str, argv: list[str]) -> None:
        # The child keeps its own descriptor of the log file; ours closes here.
        with (self.log_dir / f"{name}.log").open("ab") as log_file:
            self.processes.append(
                subprocess.Popen(
                    argv,
                    cwd=REPO_ROOT,
                    env=settings_env(self.settings),
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                )
            )

    def stop(self) -> None:
        """SIGTERM (graceful) to each process, newest first; SIGKILL after 15 s."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)


def grpcurl_arguments(settings: Settings) -> list[str]:
    """grpcurl's options to reach the gRPC port as `settings` serve it, then the address."""
    target = f"{settings.host}:{settings.grpc_port}"
    if settings.grpc_tls == "off":
        return ["-plaintext", target]
    files = tls.Files(settings.grpc_tls_files_dir)
    options = ["-cacert", str(files.ca), "-servername", tls.SERVER_NAME]
    if settings.grpc_tls == "mutual":
        options += ["-cert", str(files.operator.certificate), "-key", str(files.operator.key)]
    return [*options, target]


def grpcurl_command() -> str:
    """grpcurl as a user can type it: the venv's own (`.venv/bin/grpcurl`, relative to
    the current directory when it is inside it, as under `make run`), not a bare
    `grpcurl` that is on nobody's PATH."""
    path = Path(sys.executable).with_name("grpcurl")
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def banner(stack: Stack) -> str:
    s = stack.settings
    database = "PostgreSQL" if s.database_url else f"SQLite {s.sqlite_path}"
    grpc_security = {"off": "", "tls": " (TLS)", "mutual": " (mutual TLS)"}[s.grpc_tls]
    return f"""
Banking back office is running ({s.mode} mode, {database})

  REST (Envoy)     {stack.http_url}
  OAuth metadata   {stack.http_url}/.well-known/oauth-authorization-server
  REST over TLS    {stack.https_url}         (TLS 1.3 only, self-signed: curl -k)
  gRPC             {stack.grpc_target}{grpc_security}
                   {grpcurl_command()} {" ".join(grpcurl_arguments(s))} list
  Envoy admin      http://127.0.0.1:{s.envoy_admin_port}
  Metrics          {metrics_url(s)}
  Logs             {stack.log_dir}

Sandbox credentials
  OAuth client     sandbox-client / sandbox-secret (all scopes)
                   sandbox-limited / sandbox-limited-secret (production rate limits)
  Customers        alice@example.com / alice-password, bob@example.com / bob-password
  Staff            admin@example.com / admin-password (ADMIN)

A token: curl -s -u sandbox-client:sandbox-secret -d grant_type=client_credentials \\
           {stack.http_url}/oauth/token

Ctrl-C stops both processes.
"""


def run(settings: Settings) -> int:
    from server.__main__ import setup

    print("Preparing the database...", flush=True)
    setup(settings)
    stack = Stack(settings, settings.data_dir / "logs")
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        print(banner(stack), flush=True)
        while not stopping and stack.alive():
            time.sleep(0.2)
        if not stopping:
            print(f"a process exited; see {stack.log_dir}", file=sys.stderr)
            return 1
        return 0
    finally:
        print("Stopping...", flush=True)
        stack.stop()
