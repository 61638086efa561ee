"""Per-client rate limits.

(Being built: limits per class of call, X-RateLimit-* headers, 429.)
"""

from __future__ import annotations

from server.config import Settings
from server.domain.principal import Principal


def check(method: str, principal: Principal, settings: Settings) -> None:
    """Counts the call; raises RateLimited (429) when the client is over its limit."""
    del method, principal, settings
