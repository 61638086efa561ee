"""Authorization of one call: the scope its RPC needs, and the caller's role.

(Being built: scopes per RPC declared in the protos.)
"""

from __future__ import annotations

from server.domain.principal import Principal


def authorize(method: str, principal: Principal) -> None:
    """Raises Forbidden (403) when `principal` may not call `method` at all."""
    del method, principal
