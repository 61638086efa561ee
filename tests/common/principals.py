"""Callers other than the sandbox client: customers, staff of each role, narrow clients.

Also the list of every RPC (from gen/), for tests that walk them all.

User tokens are minted in the test process with the server's own token
authority (`oauth.authority(settings).issue`), bound for the moment to the
stack's database: it signs with the same key file and the same signing keys
the server uses, so the server takes the tokens as its own. (The browser
sign-in that issues user tokens in production is tested on its own.)

Staff users are created through the API by the sandbox client (ADMIN), as a
bank would; only the token is minted here.
"""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import MethodDescriptor

import backoffice.v1
from server.run import Stack
from server.store import db as store_db
from server.store import oauth
from server.store.models import OAuthClient, User
from tests.common import envelope
from tests.common.auth import SANDBOX_CLIENT, authenticated, token_over_rest
from tests.common.users import PASSWORD
from tests.conftest import Rest

READ = "banking.read"
WRITE = "banking.write"
ADMIN_SCOPE = "backoffice.admin"
CUSTOMER_SCOPES = f"{READ} {WRITE}"
STAFF_SCOPES = f"{READ} {WRITE} {ADMIN_SCOPE}"


@dataclass
class Caller:
    """One caller of the API, over REST (through Envoy) and over gRPC."""

    name: str
    token: str
    rest: Rest
    channel: grpc.Channel
    user_id: str | None = None

    def close(self) -> None:
        self.rest.close()


@contextmanager
def bound_store(stack: Stack) -> Iterator[None]:
    """The server's store, pointed at the stack's database for the block.

    The proxy is put back afterwards: store tests bind their own databases.
    """
    previous = store_db.database.obj
    database = store_db.bind(
        store_db.open_database(stack.settings.database_url, stack.settings.sqlite_path, 1)
    )
    try:
        with database.connection_context():
            yield
    finally:
        if hasattr(database, "close_all"):
            database.close_all()
        store_db.database.initialize(previous)


def user_token(stack: Stack, user_id: str, scope: str, client_id: str = SANDBOX_CLIENT[0]) -> str:
    """An access token for user `user_id` through client `client_id`, as a sign-in gives."""
    with bound_store(stack):
        user = User.get_by_id(user_id)
        client = OAuthClient.get_by_id(client_id)
        grant = oauth.authority(stack.settings).issue(client, scope, user=user)
    return grant.access_token


def caller(stack: Stack, raw_channel: grpc.Channel, name: str, token: str, **kw: Any) -> Caller:
    session = Rest(stack.http_url)
    session.headers["Authorization"] = f"Bearer {token}"
    return Caller(name, token, session, authenticated(raw_channel, token), **kw)


def user_caller(
    stack: Stack, raw_channel: grpc.Channel, name: str, user_id: str, scope: str
) -> Caller:
    token = user_token(stack, user_id, scope)
    return caller(stack, raw_channel, name, token, user_id=user_id)


def client_caller(stack: Stack, raw_channel: grpc.Channel, scope: str) -> Caller:
    """The sandbox client (relaxed rate limits) narrowed to `scope`."""
    token = str(token_over_rest(stack.http_url, scope=scope)["access_token"])
    return caller(stack, raw_channel, f"client[{scope}]", token)


def create_user(admin: Rest, role: str, name: str = "Test User") -> str:
    """A new ACTIVE user of `role`, created through the API by an ADMIN."""
    body = {
        "email": f"{role.lower()}.{uuid.uuid4().hex[:12]}@example.com",
        "name": name,
        "password": PASSWORD,
        "role": role,
    }
    data = envelope.success(admin.post("/v1/users", json=body), 201)
    return str(data["user"]["id"])


# --- every RPC ---------------------------------------------------------------------------


def all_methods() -> list[MethodDescriptor]:
    """Every RPC of every service in gen/backoffice/v1."""
    found = []
    for info in pkgutil.iter_modules(backoffice.v1.__path__):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"backoffice.v1.{info.name}")
        for service in module.DESCRIPTOR.services_by_name.values():
            found.extend(service.methods)
    return found


def path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def short(method: MethodDescriptor) -> str:
    return f"{method.containing_service.name}/{method.name}"


METHODS = all_methods()
NON_OAUTH = [m for m in METHODS if m.containing_service.name != "OAuthService"]
