"""Factories for webhook API tests: admin clients of their own, subscriptions.

Subscriptions belong to the client that made them (at most 20 each), so
each test subscribes with a client of its own rather than the sandbox
client every other test shares.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc

from backoffice.v1 import webhook_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.client_rules import configured_client
from tests.common.principals import STAFF_SCOPES, Caller, caller

SEED_BODY: dict[str, Any] = {
    "url": "https://your-app.com/webhooks/banking",
    "events": ["account.created", "transaction.created"],
    "secret": "webhook_secret_key",
    "active": True,
}
# Generous budgets: a test's own client must not meet the production limits.
LIMITS = {"read_per_hour": 1_000_000, "write_per_hour": 1_000_000}


@contextmanager
def admin_client(stack: Stack, raw_channel: grpc.Channel) -> Iterator[Caller]:
    """A new API client with the admin scope, over REST and gRPC."""
    client = configured_client(stack, STAFF_SCOPES, rate_limits=LIMITS)
    who = caller(stack, raw_channel, client.client_id, client.token)
    try:
        yield who
    finally:
        who.close()


def stub(who: Caller) -> pb_grpc.WebhookServiceStub:
    return pb_grpc.WebhookServiceStub(who.channel)


def subscribe(who: Caller, **overrides: Any) -> dict[str, Any]:
    """A new subscription over REST (seed 000's body unless overridden)."""
    body = {**SEED_BODY, **overrides}
    data = envelope.success(who.rest.post("/v1/webhooks", json=body), 201)
    return data["webhook"]  # type: ignore[no-any-return]
