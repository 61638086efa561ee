"""Credentials for tests: tokens for the sandbox clients, authenticated clients."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from typing import Any

import grpc
import requests
from google.api import httpbody_pb2

from backoffice.v1 import auth_service_pb2 as auth_pb
from backoffice.v1 import auth_service_pb2_grpc as auth_grpc
from server.config import REPO_ROOT
from server.run import settings_env

SANDBOX_CLIENT = ("sandbox-client", "sandbox-secret")
LIMITED_CLIENT = ("sandbox-limited", "sandbox-limited-secret")
FORM = "application/x-www-form-urlencoded"


def token_over_rest(
    base_url: str, client: tuple[str, str] = SANDBOX_CLIENT, scope: str = ""
) -> dict[str, Any]:
    form = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    response = requests.post(f"{base_url}/oauth/token", data=form, auth=client, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def token_over_grpc(channel: grpc.Channel, client: tuple[str, str] = SANDBOX_CLIENT) -> str:
    form = f"grant_type=client_credentials&client_id={client[0]}&client_secret={client[1]}"
    reply = auth_grpc.OAuthServiceStub(channel).Token(
        auth_pb.TokenRequest(
            http_body=httpbody_pb2.HttpBody(content_type=FORM, data=form.encode())
        ),
        timeout=30,
    )
    return str(json.loads(reply.data)["access_token"])


class _Details(
    collections.namedtuple(
        "_Details",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,  # type: ignore[misc]
):
    """Call details with other metadata."""


class _BearerInterceptor(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Adds `authorization: Bearer ...` to every call that has none."""

    def __init__(self, token: str) -> None:
        self._token = token

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        metadata = list(details.metadata or [])
        if not any(key == "authorization" for key, _ in metadata):
            metadata.append(("authorization", f"Bearer {self._token}"))
        return continuation(
            _Details(
                details.method,
                details.timeout,
                metadata,
                details.credentials,
                details.wait_for_ready,
                details.compression,
            ),
            request,
        )


def authenticated(channel: grpc.Channel, token: str) -> grpc.Channel:
    return grpc.intercept_channel(channel, _BearerInterceptor(token))


def create_client(
    settings: Any, scopes: str = "banking.read banking.write backoffice.admin"
) -> tuple[str, str]:
    """A new non-sandbox client, made with the CLI against the stack's database."""
    result = subprocess.run(
        [sys.executable, "-m", "server", "create-client", "--name", "test", "--scopes", scopes],
        cwd=REPO_ROOT,
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    created = json.loads(result.stdout.strip().splitlines()[-1])
    return created["client_id"], created["client_secret"]
