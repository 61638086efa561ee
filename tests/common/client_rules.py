"""Clients with their own rules (rate limits, IP allowlist, signing), extra server processes.

Each test makes a fresh client so that its counters and nonces are its own on
the shared stack. The rules are written straight into `oauth_clients`
before the client's first API call (servers remember a client's rules until
the database announces a change of them: `server.store.credential_changes`).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from server.config import REPO_ROOT, Settings
from server.domain import ratelimits
from server.run import Stack, settings_env, wait_for_health
from tests.common.auth import create_client, token_over_rest
from tests.common.stack import free_ports
from tests.common.users import db_execute

READ_WRITE = "banking.read banking.write"


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str
    token: str
    signing_secret: str = ""

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def grpc_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),)


def issue_signing_secret(settings: Settings, client_id: str) -> str:
    """The CLI a deployment uses to give a client its signing secret."""
    result = subprocess.run(
        [sys.executable, "-m", "server", "issue-signing-secret", "--client-id", client_id],
        cwd=REPO_ROOT,
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert printed["client_id"] == client_id
    return str(printed["signing_secret"])


def configured_client(
    stack: Stack,
    scopes: str = READ_WRITE,
    *,
    rate_limits: dict[str, int] | None = None,
    ip_allowlist: list[str] | None = None,
    require_signing: bool = False,
    signing_secret: bool = False,
) -> Client:
    """A new client with these rules, and an access token (got over REST)."""
    client_id, secret = create_client(stack.settings, scopes)
    updates: list[tuple[str, Any]] = []
    if rate_limits is not None:
        updates.append(("rate_limits", json.dumps(rate_limits)))
    if ip_allowlist is not None:
        updates.append(("ip_allowlist", json.dumps(ip_allowlist)))
    if require_signing:
        updates.append(("require_signing", True))
    if updates:
        assignments = ", ".join(f"{column} = %s" for column, _ in updates)
        changed = db_execute(
            stack,
            f"UPDATE oauth_clients SET {assignments} WHERE id = %s",
            (*(value for _, value in updates), client_id),
        )
        assert changed == 1
    issued = issue_signing_secret(stack.settings, client_id) if signing_secret else ""
    token = token_over_rest(stack.http_url, (client_id, secret))["access_token"]
    return Client(client_id, secret, str(token), issued)


def rate_headers(headers: Any) -> dict[str, str]:
    """The X-RateLimit-* and Retry-After headers (or gRPC metadata), lowercased names."""
    pairs = headers.items() if hasattr(headers, "items") else headers
    return {
        str(key).lower(): str(value)
        for key, value in pairs
        if str(key).lower().startswith("x-ratelimit-") or str(key).lower() == "retry-after"
    }


def wait_for_fresh_window(seconds: int, needed: float = 20.0) -> None:
    """Sleeps into the next fixed window when less than `needed` seconds are left in this one."""
    left = seconds - time.time() % seconds
    if left < needed:
        time.sleep(left + 0.2)


def wait_for_fresh_minute() -> None:
    wait_for_fresh_window(ratelimits.ACCOUNT_CREATE.window_seconds, needed=8.0)


@contextmanager
def extra_server(stack: Stack, **changes: Any) -> Iterator[str]:
    """Another gRPC server process on the stack's database; yields its target."""
    (port,) = free_ports(1)
    # As on another host: metrics of its own (none here), not the stack's port.
    changes.setdefault("metrics_port", 0)
    settings = replace(stack.settings, grpc_port=port, **changes)
    log_path = stack.log_dir / f"extra-server-{port}.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve"],
            cwd=REPO_ROOT,
            env=settings_env(settings),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    target = f"{settings.host}:{port}"
    try:
        wait_for_health(target, time.monotonic() + 30)
        yield target
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
