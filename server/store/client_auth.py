"""Client authentication at the token and revocation endpoints (RFC 6749 section 2.3.1).

A secret stored as `sha256:` (made by the server, 256 random bits) is checked
inline in microseconds; an Argon2 one (the sandbox's published secrets, and
secrets of clients made before secrets were stored as SHA-256) is checked on
the hashing pool (`server.hashing`), after `before_slow_check` (the
per-client limit of `server.domain.public_limits`) has let it. A server-made
secret still under Argon2 gets its fast hash after its first good check.
"""

from __future__ import annotations

from collections.abc import Callable

from server import hashing
from server.config import Settings
from server.domain import clients as client_rules
from server.domain import passwords
from server.store import tx
from server.store.models import OAuthClient
from server.store.oauth import OAuthError


def _nothing() -> None:
    return None


def authenticate(
    settings: Settings,
    client_id: str,
    secret: str,
    before_slow_check: Callable[[], None] = _nothing,
) -> OAuthClient:
    """The client, if the secret is right; else invalid_client (401).

    A PUBLIC client has no secret: it identifies itself by client_id alone,
    and sending a secret is an error (it cannot have one).
    """
    client = OAuthClient.get_or_none(OAuthClient.id == client_id) if client_id else None
    if client is not None and client.client_type == client_rules.PUBLIC:
        authenticated = not secret
    elif client is None or not client.secret_hash:
        authenticated = False
    else:
        if not passwords.is_fast(client.secret_hash):
            before_slow_check()
        authenticated = hashing.verify(settings, client.secret_hash, secret)
        if authenticated and passwords.rehash_to_fast(client.secret_hash, secret):
            _store_fast_hash(client, secret)
    if (
        client is None
        or not authenticated
        or not client.active
        # Sandbox credentials never work in production mode.
        or (client.sandbox and not settings.sandbox)
    ):
        raise OAuthError("invalid_client", "Client authentication failed", 401)
    return client


def _store_fast_hash(client: OAuthClient, secret: str) -> None:
    """Replaces the client's Argon2 hash with the fast one, unless it changed meanwhile."""
    fast = passwords.fast_hash(secret)
    old = client.secret_hash
    tx.write(
        lambda: (
            OAuthClient.update(secret_hash=fast)
            .where((OAuthClient.id == client.id) & (OAuthClient.secret_hash == old))
            .execute()
        )
    )
    client.secret_hash = fast
