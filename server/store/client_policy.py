"""What every call of a client is held to: rate limits, IP allowlist, signing.

Read from `oauth_clients` (and the client's sealed signing secret) and kept
in memory, because every call needs it, until the credential epoch moves
(`server.store.credential_changes`): a change of these columns or of the
secret, made by any server process or straight in the database, moves it,
so the next call of any process reads the policy again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from server.config import Settings
from server.domain import addresses, ratelimits
from server.domain.addresses import IpNetwork
from server.store import credential_changes, signing_secrets
from server.store.models import OAuthClient

log = logging.getLogger(__name__)

CACHED_CLIENTS_MAX = 10_000


@dataclass(frozen=True, slots=True)
class ClientPolicy:
    """One client's rules, parsed."""

    limits: dict[str, int]  # per rate-limit class name
    ip_allowlist: tuple[IpNetwork, ...]
    allowlist_configured: bool  # True even when no entry parsed: then nothing is allowed
    require_signing: bool
    signing_secret: str | None


DEFAULT = ClientPolicy(
    limits=ratelimits.limits_from({}),
    ip_allowlist=(),
    allowlist_configured=False,
    require_signing=False,
    signing_secret=None,
)

_cache: credential_changes.EpochCache[str, ClientPolicy] = credential_changes.EpochCache(
    CACHED_CLIENTS_MAX
)


def _json(text: str, kind: type, client_id: str, column: str) -> object:
    try:
        value = json.loads(text or "null")
    except ValueError:
        value = None
    if not isinstance(value, kind):
        log.error("unusable client setting", extra={"client_id": client_id, "column": column})
        return kind()
    return value


def _load(client_id: str, settings: Settings) -> ClientPolicy:
    client = OAuthClient.get_or_none(OAuthClient.id == client_id)
    if client is None:
        return DEFAULT
    limits = _json(client.rate_limits, dict, client_id, "rate_limits")
    allowlist = _json(client.ip_allowlist, list, client_id, "ip_allowlist")
    assert isinstance(limits, dict) and isinstance(allowlist, list)
    return ClientPolicy(
        limits=ratelimits.limits_from(limits),
        ip_allowlist=addresses.networks(str(entry) for entry in allowlist),
        allowlist_configured=bool(allowlist),
        require_signing=bool(client.require_signing),
        signing_secret=signing_secrets.read(
            client_id, signing_secrets.keyring(settings.data_dir / "keys")
        ),
    )


def policy(client_id: str, settings: Settings) -> ClientPolicy:
    """The client's policy as committed when the current epoch began."""
    at = credential_changes.epoch()  # before the read: see EpochCache.put
    cached = _cache.get(client_id, at)
    if cached is not None:
        return cached
    loaded = _load(client_id, settings)
    _cache.put(client_id, at, loaded)
    return loaded


def forget(client_id: str) -> None:
    """Drops the cached policy, so that this process's next call reads it again."""
    _cache.forget(client_id)
    credential_changes.changed()
