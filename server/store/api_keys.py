"""API keys: what a key proves, and the use hints it leaves.

Keys are `bko_` + 40 letters and digits, stored as SHA-256 (the key carries
238 random bits, so a fast hash is as safe as a slow one and the lookup is
one indexed equality). A key acts as its client, with the client's scopes
(`client_role`). A key's `last_used_at` (and its client's) is written at
most once a minute, so API-key traffic costs no write per call. What a key
proved is remembered by the token authority (`server.store.oauth`) until
the credential epoch moves.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain import errors
from server.domain.principal import ADMIN, OPERATIONS, Principal
from server.store import tx
from server.store.models import ApiKeyRecord, OAuthClient
from server.store.revocations import wall_now

PREFIX = "bko_"
RANDOM_LENGTH = 40
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# last_used_at is a hint for administrators: refreshed at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """(key shown once, its SHA-256, its prefix: the first 8 characters)."""
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    key = f"{PREFIX}{random_part}"
    return key, sha256(key), key[:8]


def client_role(scope: str) -> str:
    """A client acting for itself (client credentials, API key).

    With `backoffice.admin` it administers the back office; otherwise it is a
    bank application acting as operations staff, still limited by its scopes.
    """
    return ADMIN if "backoffice.admin" in scope.split() else OPERATIONS


@dataclass(frozen=True)
class KeyUse:
    """What an API key proved, and the rows whose use hints it refreshes."""

    principal: Principal
    row: ApiKeyRecord
    client: OAuthClient


def key_use(key: str, key_hash: str, *, sandbox: bool) -> KeyUse:
    """What `key` (whose SHA-256 is `key_hash`) proves; Unauthenticated when nothing."""
    row = ApiKeyRecord.get_or_none(ApiKeyRecord.key_hash == key_hash)
    if row is None or row.status != "ACTIVE" or not hmac.compare_digest(row.key_hash, sha256(key)):
        raise errors.Unauthenticated("The API key is invalid or revoked")
    client = OAuthClient.get_or_none(OAuthClient.id == row.client_id)
    if client is None or not client.active or (client.sandbox and not sandbox):
        raise errors.Unauthenticated("The API key is invalid or revoked")
    principal = Principal(
        client_id=client.id,
        role=client_role(client.scopes),
        scopes=frozenset(client.scopes.split()),
    )
    return KeyUse(principal, row, client)


def touch_client(client: OAuthClient, now: datetime) -> None:
    """Notes the client's use, at most once per LAST_USED_RESOLUTION."""
    if client.last_used_at is None or now - client.last_used_at >= LAST_USED_RESOLUTION:
        OAuthClient.update(last_used_at=now).where(OAuthClient.id == client.id).execute()
        client.last_used_at = now


def touch(use: KeyUse) -> None:
    """Notes the key's (and its client's) use, at most once per LAST_USED_RESOLUTION.

    `use` may be remembered from an earlier call (and shared by threads): at
    worst two threads both write the same hint.
    """
    now = wall_now()
    row = use.row
    if row.last_used_at is not None and now - row.last_used_at < LAST_USED_RESOLUTION:
        return

    def work() -> None:
        ApiKeyRecord.update(last_used_at=now).where(ApiKeyRecord.id == row.id).execute()
        touch_client(use.client, now)

    tx.write(work)
    row.last_used_at = now
