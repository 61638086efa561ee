"""API clients: creation (with a secret shown once) and lookup."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

from server.domain import errors
from server.domain.passwords import hash_secret
from server.store import clock, tx
from server.store.models import OAuthClient
from server.store.sandbox import PRODUCTION_LIMITS

SCOPES = ("banking.read", "banking.write", "backoffice.admin")
GRANT_TYPES = ("client_credentials", "authorization_code", "refresh_token")


@dataclass(frozen=True)
class NewClient:
    name: str
    scopes: tuple[str, ...]
    grant_types: tuple[str, ...] = ("client_credentials", "refresh_token")
    redirect_uris: tuple[str, ...] = ()
    rate_limits: dict[str, int] = field(default_factory=lambda: dict(PRODUCTION_LIMITS))
    ip_allowlist: tuple[str, ...] = ()
    require_signing: bool = False


def create(spec: NewClient) -> tuple[OAuthClient, str]:
    """A new client and its secret (returned once; only its hash is kept)."""
    unknown = [scope for scope in spec.scopes if scope not in SCOPES]
    if unknown or not spec.scopes:
        raise errors.ValidationFailed(
            f"Unknown scope {unknown[0] if unknown else ''!r}", field="scopes"
        )
    if any(grant not in GRANT_TYPES for grant in spec.grant_types):
        raise errors.ValidationFailed("Unknown grant type", field="grant_types")
    client_id = f"cli_{secrets.token_hex(8)}"
    secret = secrets.token_urlsafe(32)
    now = clock.now()

    def write() -> OAuthClient:
        return OAuthClient.create(
            id=client_id,
            name=spec.name,
            secret_hash=hash_secret(secret),
            scopes=" ".join(s for s in SCOPES if s in spec.scopes),
            grant_types=json.dumps(list(spec.grant_types)),
            redirect_uris=json.dumps(list(spec.redirect_uris)),
            rate_limits=json.dumps(spec.rate_limits, sort_keys=True),
            ip_allowlist=json.dumps(list(spec.ip_allowlist)),
            require_signing=spec.require_signing,
            sandbox=False,
            active=True,
            created_at=now,
            updated_at=now,
        )

    return tx.write(write), secret
