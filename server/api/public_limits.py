"""The public endpoints' limits, spent for the current call (rules: server.domain.public_limits).

Counted in the shared rate-limit counters (`server.store.ratelimit`, the
database or Redis) through the same leasing `Limiter` as the API's budgets,
keyed by source address or client id instead of an authenticated client.
"""

from __future__ import annotations

import time

from server.api import call
from server.config import Settings
from server.domain import public_limits, ratelimits
from server.domain.ratelimits import LimitClass
from server.store import ratelimit as shared


def address() -> str | None:
    """The caller's address as the guards judged it (Envoy's, from a trusted proxy)."""
    found = call.current().client_address
    return str(found) if found is not None else None


def spend_address(settings: Settings) -> None:
    """One call of a public endpoint from this address; RateLimited (429) beyond the limit."""
    _spend(
        public_limits.address_key(address()),
        public_limits.OAUTH_ADDRESS,
        settings.oauth_requests_per_minute,
        settings,
    )


def spend_client_check(settings: Settings, client_id: str) -> None:
    """One Argon2 check of `client_id`'s secret; RateLimited (429) beyond the limit."""
    _spend(
        public_limits.client_key(client_id),
        public_limits.OAUTH_CLIENT,
        settings.oauth_client_checks_per_minute,
        settings,
    )


def _spend(key: str, limit_class: LimitClass, limit: int, settings: Settings) -> None:
    now = time.time()
    usage = shared.limiter(settings).spend(key, limit_class, limit, now)
    if not usage.allowed:
        raise ratelimits.refusal(usage, now)
