"""Network and request-integrity guards of a client: IP allowlist, request signing.

(Being built.)
"""

from __future__ import annotations

import grpc

from server.config import Settings
from server.domain.principal import Principal


def check(
    method: str, request: object, principal: Principal, context: grpc.ServicerContext,
    settings: Settings,
) -> None:
    """Raises Forbidden/Unauthenticated when the client's network or signature rules fail."""
    del method, request, principal, context, settings
