"""Session fixtures: the real server and real Envoy, on SQLite and on PostgreSQL.

Every test that asks for `stack` (or a client built on it) runs once per
database backend. With CI=true the PostgreSQL backend must be reachable:
its absence fails the run instead of skipping.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import requests

import server  # noqa: F401  (puts gen/ on sys.path)
from server.run import Stack
from tests.common.auth import authenticated, token_over_rest
from tests.common.stack import running_stack

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=BACKENDS)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp(f"stack-{request.param}")
    with running_stack(request.param, tmp) as running:
        yield running


@pytest.fixture(scope="session")
def raw_channel(stack: Stack) -> Iterator[grpc.Channel]:
    """A gRPC channel that sends no credentials."""
    with grpc.insecure_channel(stack.grpc_target) as channel:
        yield channel


@pytest.fixture(scope="session")
def admin_token(stack: Stack) -> str:
    """An access token of the sandbox client (all scopes; acts as ADMIN)."""
    return str(token_over_rest(stack.http_url)["access_token"])


@pytest.fixture(scope="session")
def grpc_channel(raw_channel: grpc.Channel, admin_token: str) -> grpc.Channel:
    """A gRPC channel authenticated as the sandbox client."""
    return authenticated(raw_channel, admin_token)


class Rest(requests.Session):
    """A requests session rooted at Envoy's HTTP listener."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def request(self, method: str, url: str, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        kwargs.setdefault("timeout", 30)
        return super().request(method, self.base_url + url, *args, **kwargs)


@pytest.fixture(scope="session")
def rest(stack: Stack, admin_token: str) -> Iterator[Rest]:
    """REST through Envoy, authenticated as the sandbox client."""
    with Rest(stack.http_url) as session:
        session.headers["Authorization"] = f"Bearer {admin_token}"
        yield session


@pytest.fixture(scope="session")
def anonymous(stack: Stack) -> Iterator[Rest]:
    """REST through Envoy with no credentials."""
    with Rest(stack.http_url) as session:
        yield session
