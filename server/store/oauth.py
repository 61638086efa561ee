"""The OAuth 2.0 token authority: clients, JWT access tokens, refresh tokens, API keys.

- Access tokens are JWTs (ES256) signed with a key named by `kid`, valid one
  hour, published at /.well-known/jwks.json. Keys rotate: a new key signs,
  retired keys keep verifying until what they signed has expired.
- Refresh tokens are opaque, valid 30 days, stored as SHA-256, and rotate on
  every use; using a rotated one again revokes its whole family (the grant),
  access tokens included.
- Revocation is immediate (`server.store.revocations`): a token is checked
  against its `jti`, family, subject and client revocations, and the
  process remembers the answer (and the signature check) only until the
  credential epoch moves, which any revocation, by any process, makes it do
  (`server.store.credential_changes`). In the steady state an
  authenticated call reads nothing for its credentials.
- API keys (`server.store.api_keys`): what a key proves is remembered the
  same way.
- Token lifetimes follow the wall clock, not the sandbox clock, so moving
  sandbox time never logs anyone out.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import jwt

from server.config import Settings
from server.crypto import jws
from server.domain import clients as client_rules
from server.domain import errors
from server.domain.ids import new_id
from server.domain.principal import Principal
from server.keys import key_file
from server.store import api_keys, credential_changes, revocations, tx
from server.store.api_keys import client_role, new_api_key, touch_client
from server.store.models import (
    OAuthClient,
    RefreshToken,
    User,
)
from server.store.revocations import revoke_client, revoke_family, revoke_subject, wall_now
from server.store.signing_keys import ALGORITHM, SigningKeys

AUDIENCE = "backoffice"
ACCESS_TOKEN_TTL = timedelta(hours=1)
REFRESH_TOKEN_TTL = timedelta(days=30)
CLOCK_SKEW_SECONDS = 30
VERIFIED_TOKENS_MAX = 10_000
API_KEYS_REMEMBERED_MAX = 10_000
SCOPES = ("banking.read", "banking.write", "backoffice.admin")


class OAuthError(errors.BankError):
    """An RFC 6749 error: `error` is the RFC word, the answer is RFC JSON."""

    reason, grpc_status, http_status = "UNAUTHORIZED", "UNAUTHENTICATED", 400

    def __init__(self, error: str, description: str, http_status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.http_status = http_status


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Grant:
    """What a token response carries."""

    access_token: str
    refresh_token: str  # empty when none is issued (client credentials)
    expires_in: int
    scope: str

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        return body


class TokenAuthority:
    """Issues and checks credentials. One per process (see `authority`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.issuer = settings.public_url
        self._keys = SigningKeys(key_file(settings.data_dir / "keys" / "jwt-signing.key"))
        # token -> (kid, claims) of access tokens whose signature has been
        # checked; expiry and revocation are checked again on a use that
        # `_principals` cannot answer.
        self._verified: dict[str, tuple[str, dict[str, Any]]] = {}
        # What a token, or an API key's hash, proved in the current epoch.
        self._principals: credential_changes.EpochCache[str, Principal] = (
            credential_changes.EpochCache(VERIFIED_TOKENS_MAX)
        )
        self._api_keys: credential_changes.EpochCache[str, api_keys.KeyUse] = (
            credential_changes.EpochCache(API_KEYS_REMEMBERED_MAX)
        )

    # --- signing keys (server.store.signing_keys) ---------------------------

    def rotate_signing_key(self) -> str:
        """A new key signs from now on; the old one keeps verifying."""
        return self._keys.rotate()

    def jwks(self) -> dict[str, Any]:
        """Public keys that may have signed a token still valid."""
        return self._keys.jwks(ACCESS_TOKEN_TTL)

    # --- clients (authentication: server.store.client_auth) -----------------

    def granted_scopes(self, client: OAuthClient, asked: str) -> str:
        allowed = client.scopes.split()
        wanted = asked.split() if asked.strip() else allowed
        unknown = [scope for scope in wanted if scope not in allowed]
        if unknown:
            raise OAuthError("invalid_scope", f"Scope not allowed for this client: {unknown[0]}")
        return " ".join(scope for scope in SCOPES if scope in wanted)

    # --- tokens -------------------------------------------------------------

    def issue(
        self,
        client: OAuthClient,
        scope: str,
        user: User | None = None,
        family_id: str | None = None,
        *,
        with_refresh: bool = True,
    ) -> Grant:
        """An access token and a new refresh token of `family_id` (a new family if None).

        No refresh token without `with_refresh` (client credentials, RFC 6749
        section 4.4.3) or when the client may not use the refresh_token grant.
        """
        now = wall_now()
        family = family_id or new_id("key")
        access = self._access_token(client, scope, user, family, now)
        refresh = ""
        if with_refresh and client_rules.REFRESH_TOKEN in json.loads(client.grant_types or "[]"):
            refresh = secrets.token_urlsafe(32)
            RefreshToken.create(
                id=new_id("key"),
                token_hash=_sha256(refresh),
                family_id=family,
                client_id=client.id,
                user_id=user.id if user else None,
                scopes=scope,
                status="ACTIVE",
                created_at=now,
                expires_at=now + REFRESH_TOKEN_TTL,
            )
        touch_client(client, now)
        return Grant(access, refresh, int(ACCESS_TOKEN_TTL.total_seconds()), scope)

    def issue_for_client(self, client: OAuthClient, scope: str) -> Grant:
        """Client credentials: an access token alone (RFC 6749 section 4.4.3)."""
        return tx.write(lambda: self.issue(client, scope, with_refresh=False))

    def _access_token(
        self, client: OAuthClient, scope: str, user: User | None, family: str, now: datetime
    ) -> str:
        kid, private = self._keys.signer()
        instant = now.replace(tzinfo=UTC).timestamp()
        issued = int(instant)
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": user.id if user else client.id,
            "client_id": client.id,
            "scope": scope,
            "role": user.role if user else client_role(scope),
            # A NumericDate may have a fraction (RFC 7519 section 2): see the
            # module comment on subject revocations.
            "iat": round(instant, 3),
            "nbf": issued,
            "exp": issued + int(ACCESS_TOKEN_TTL.total_seconds()),
            "jti": secrets.token_urlsafe(16),
            "fam": family,
        }
        # Only the low-S twin of a signature is accepted (server.crypto.jws).
        return jws.low_s(jwt.encode(claims, private, algorithm=ALGORITHM, headers={"kid": kid}))

    def refresh(self, client: OAuthClient, token: str, scope: str) -> Grant:
        """Rotates a refresh token; reuse of a rotated one revokes its family."""
        now = wall_now()

        # Refusals are returned, not raised, so that a family revocation
        # (refresh token reuse) commits before the error is answered.
        def work() -> Grant | str:  # noqa: PLR0911
            row = RefreshToken.get_or_none(RefreshToken.token_hash == _sha256(token))
            if row is None or row.client_id != client.id or row.expires_at <= now:
                return "invalid"
            if row.status != "ACTIVE":
                if row.status == "ROTATED":
                    revoke_family(row.family_id, now)
                    return "reused"
                return "invalid"
            narrowed = scope or row.scopes
            if any(part not in row.scopes.split() for part in narrowed.split()):
                return "scope"
            changed = (
                RefreshToken.update(status="ROTATED", used_at=now)
                .where((RefreshToken.id == row.id) & (RefreshToken.status == "ACTIVE"))
                .execute()
            )
            if not changed:  # a concurrent refresh with the same token won
                revoke_family(row.family_id, now)
                return "reused"
            user = User.get_or_none(User.id == row.user_id) if row.user_id else None
            if row.user_id and (user is None or user.status != "ACTIVE"):
                return "invalid"
            return self.issue(client, narrowed, user, row.family_id)

        outcome = tx.write(work)
        if outcome == "scope":
            raise OAuthError("invalid_scope", "A refresh may only narrow the granted scope")
        if isinstance(outcome, str):
            raise OAuthError("invalid_grant", "The refresh token is invalid, expired or revoked")
        return outcome

    def revoke(self, client: OAuthClient, token: str) -> None:
        """RFC 7009: revokes a refresh token (and its grant) or an access token."""
        now = wall_now()

        def work() -> None:
            row = RefreshToken.get_or_none(RefreshToken.token_hash == _sha256(token))
            if row is not None and row.client_id == client.id:
                revoke_family(row.family_id, now)
                return
            claims = self._decode(token, verify_expiry=False)
            if claims is not None and claims.get("client_id") == client.id:
                expires = datetime.fromtimestamp(int(claims["exp"]), UTC).replace(tzinfo=None)
                revocations.revoke(f"jti:{claims['jti']}", now, max(expires, now))

        tx.write(work)

    def revoke_subject(self, subject: str) -> None:
        """Every token of `subject` issued until now stops working (deactivation, reset)."""
        revoke_subject(subject)

    # --- checking credentials -------------------------------------------------

    def _decode(self, token: str, verify_expiry: bool = True) -> dict[str, Any] | None:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str) or not jws.is_low_s(token):
            return None
        public = self._keys.public(kid)
        if public is None:
            return None
        try:
            return jwt.decode(
                token,
                public,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={
                    "require": ["exp", "iat", "jti", "sub", "client_id"],
                    "verify_exp": verify_expiry,
                },
            )
        except jwt.PyJWTError:
            return None

    def _checked_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid access token; the signature is checked once per token."""
        known = self._verified.get(token)
        if known is not None:
            kid, known_claims = known
            if self._keys.knows(kid) and time.time() < known_claims["exp"] + CLOCK_SKEW_SECONDS:
                return known_claims
            self._verified.pop(token, None)
            return None
        claims = self._decode(token)
        if claims is not None:
            if len(self._verified) >= VERIFIED_TOKENS_MAX:
                self._verified.clear()
            self._verified[token] = (str(jwt.get_unverified_header(token)["kid"]), claims)
        return claims

    def principal_from_token(self, token: str) -> Principal:
        """The caller a valid, unrevoked access token names; Unauthenticated otherwise."""
        at = credential_changes.epoch()  # before the reads: see EpochCache.put
        now = time.time()
        known = self._principals.get(token, at, now)
        if known is not None:
            return known
        claims = self._checked_claims(token)
        if claims is None:
            raise errors.Unauthenticated("The access token is invalid or expired")
        revocations.check(claims)
        user_id = None if claims["sub"] == claims["client_id"] else str(claims["sub"])
        principal = Principal(
            client_id=str(claims["client_id"]),
            role=str(claims.get("role", "")),
            user_id=user_id,
            scopes=frozenset(str(claims.get("scope", "")).split()),
        )
        self._principals.put(token, at, principal, float(claims["exp"]) + CLOCK_SKEW_SECONDS)
        return principal

    def principal_from_api_key(self, key: str) -> Principal:
        at = credential_changes.epoch()  # before the reads: see EpochCache.put
        key_hash = api_keys.sha256(key)
        known = self._api_keys.get(key_hash, at)
        if known is None:
            known = api_keys.key_use(key, key_hash, sandbox=self.settings.sandbox)
            self._api_keys.put(key_hash, at, known)
        api_keys.touch(known)
        return known.principal


@cache
def authority(settings: Settings) -> TokenAuthority:
    """The process's token authority for these settings."""
    return TokenAuthority(settings)


__all__ = [
    "Grant",
    "OAuthError",
    "TokenAuthority",
    "authority",
    "client_role",
    "new_api_key",
    "revoke_client",
    "revoke_family",
    "revoke_subject",
    "wall_now",
]
