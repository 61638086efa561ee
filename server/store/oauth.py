"""The OAuth 2.0 token authority: clients, JWT access tokens, refresh tokens, API keys.

- Access tokens are JWTs (ES256) signed with a key named by `kid`, valid one
  hour, published at /.well-known/jwks.json. Keys rotate: a new key signs,
  retired keys keep verifying until what they signed has expired.
- Refresh tokens are opaque, valid 30 days, stored as SHA-256, and rotate on
  every use; using a rotated one again revokes its whole family (the grant),
  access tokens included.
- Revocation is immediate: every authenticated call checks the token's
  `jti`, its family, its subject and its client against `revocations` (one
  indexed read). Subject and client revocations kill what was issued before
  them, so `iat` carries milliseconds: a token issued right after a password
  reset must not die with the ones before it.
- API keys are `bko_` + 40 letters and digits, stored as SHA-256 (the key
  carries 238 random bits, so a fast hash is as safe as a slow one and the
  lookup is one indexed equality). A key's `last_used_at` (and its client's)
  is written at most once a minute, so API-key traffic costs no write per
  call.
- Token lifetimes follow the wall clock, not the sandbox clock, so moving
  sandbox time never logs anyone out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.config import Settings
from server.crypto import jws
from server.domain import clients as client_rules
from server.domain import errors
from server.domain.ids import new_id
from server.domain.principal import ADMIN, OPERATIONS, Principal
from server.keys import key_file
from server.store import clock, sql, tx
from server.store.models import (
    ApiKeyRecord,
    OAuthClient,
    RefreshToken,
    Revocation,
    SigningKey,
    User,
)

ALGORITHM = "ES256"
AUDIENCE = "backoffice"
ACCESS_TOKEN_TTL = timedelta(hours=1)
REFRESH_TOKEN_TTL = timedelta(days=30)
KEY_CACHE_SECONDS = 60.0
CLOCK_SKEW_SECONDS = 30
VERIFIED_TOKENS_MAX = 10_000
SCOPES = ("banking.read", "banking.write", "backoffice.admin")
API_KEY_PREFIX = "bko_"
API_KEY_RANDOM_LENGTH = 40
API_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# last_used_at is a hint for administrators: refreshed at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class OAuthError(errors.BankError):
    """An RFC 6749 error: `error` is the RFC word, the answer is RFC JSON."""

    reason, grpc_status, http_status = "UNAUTHORIZED", "UNAUTHENTICATED", 400

    def __init__(self, error: str, description: str, http_status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.http_status = http_status


def wall_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _b64(number: int) -> str:
    raw = number.to_bytes(32, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


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
        self._password = key_file(settings.data_dir / "keys" / "jwt-signing.key")
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._active: tuple[str, Any] | None = None
        self._public: dict[str, Any] = {}
        self._loaded_at = 0.0
        # token -> (kid, claims) of access tokens whose signature has been
        # checked; expiry and revocation are still checked on every use.
        self._verified: dict[str, tuple[str, dict[str, Any]]] = {}

    # --- signing keys -------------------------------------------------------

    def _load_keys(self, force: bool = False) -> None:
        with self._lock:
            if (
                not force
                and time.monotonic() - self._loaded_at < KEY_CACHE_SECONDS
                and self._active
            ):
                return
            rows = list(SigningKey.select().order_by(SigningKey.created_at))
            if not rows:
                rows = [self._create_key("ACTIVE")]
            keys: dict[str, Any] = {}
            active = None
            for row in rows:
                private = serialization.load_pem_private_key(
                    row.private_key.encode(), password=self._password
                )
                keys[row.kid] = private
                if row.status == "ACTIVE":
                    active = (row.kid, private)
            assert active is not None, "no ACTIVE signing key"
            self._keys, self._active, self._loaded_at = keys, active, time.monotonic()
            self._public = {kid: private.public_key() for kid, private in keys.items()}

    def _create_key(self, status: str) -> SigningKey:
        private = ec.generate_private_key(ec.SECP256R1())
        numbers = private.public_key().public_numbers()
        kid = f"k{wall_now():%Y%m%d%H%M%S}{secrets.token_hex(2)}"
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64(numbers.x),
            "y": _b64(numbers.y),
            "kid": kid,
            "use": "sig",
            "alg": ALGORITHM,
        }
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._password),
        ).decode()

        def write() -> SigningKey:
            if status == "ACTIVE":
                SigningKey.update(status="RETIRED", retired_at=wall_now()).where(
                    SigningKey.status == "ACTIVE"
                ).execute()
            return SigningKey.create(
                kid=kid,
                algorithm=ALGORITHM,
                private_key=pem,
                public_jwk=json.dumps(jwk),
                status=status,
                created_at=wall_now(),
            )

        return tx.write(write)

    def rotate_signing_key(self) -> str:
        """A new key signs from now on; the old one keeps verifying."""
        row = self._create_key("ACTIVE")
        self._load_keys(force=True)
        return str(row.kid)

    def jwks(self) -> dict[str, Any]:
        """Public keys that may have signed a token still valid."""
        self._load_keys()
        horizon = wall_now() - ACCESS_TOKEN_TTL - timedelta(minutes=5)
        rows = (
            SigningKey.select()
            .where((SigningKey.status == "ACTIVE") | (SigningKey.retired_at > horizon))
            .order_by(SigningKey.created_at.desc())
        )
        return {"keys": [json.loads(row.public_jwk) for row in rows]}

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
        self._load_keys()
        assert self._active is not None
        # A rotation made by another process (the rotate-signing-key command,
        # another server) is seen by the next token issued: one indexed read
        # on a path that writes anyway.
        active_kid = SigningKey.select(SigningKey.kid).where(SigningKey.status == "ACTIVE").scalar()
        if active_kid is not None and active_kid != self._active[0]:
            self._load_keys(force=True)
        kid, private = self._active
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
                _revocation(f"jti:{claims['jti']}", now, max(expires, now))

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
        self._load_keys()
        if kid not in self._keys:
            self._load_keys(force=True)
        public = self._public.get(kid)
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
            self._load_keys()
            if kid in self._public and time.time() < known_claims["exp"] + CLOCK_SKEW_SECONDS:
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
        claims = self._checked_claims(token)
        if claims is None:
            raise errors.Unauthenticated("The access token is invalid or expired")
        keys = [f"jti:{claims['jti']}", f"sub:{claims['sub']}", f"cli:{claims['client_id']}"]
        if claims.get("fam"):
            keys.append(f"fam:{claims['fam']}")
        # The call's sandbox clock comes with the same round trip (the row
        # with no key), so an authenticated call pays one read for both.
        found = sql.execute(
            'SELECT "key", "revoked_at", NULL FROM "revocations"'
            f' WHERE "key" IN ({sql.marks(len(keys))})'
            f" UNION ALL {clock.OFFSET_ROW_SQL}",
            [*keys, clock.OFFSET_KEY],
        ).fetchall()
        revoked = [(key, revoked_at) for key, revoked_at, _ in found if key is not None]
        clock.prime(next((offset for key, _, offset in found if key is None), None))
        for key, revoked_at in revoked:
            # sub: and cli: revoke what was issued until then; the others all.
            if not key.startswith(("sub:", "cli:")) or _stored_time(revoked_at).replace(
                tzinfo=UTC
            ).timestamp() >= float(claims["iat"]):
                raise errors.Unauthenticated("The access token has been revoked")
        user_id = None if claims["sub"] == claims["client_id"] else str(claims["sub"])
        return Principal(
            client_id=str(claims["client_id"]),
            role=str(claims.get("role", "")),
            user_id=user_id,
            scopes=frozenset(str(claims.get("scope", "")).split()),
        )

    def principal_from_api_key(self, key: str) -> Principal:
        row = ApiKeyRecord.get_or_none(ApiKeyRecord.key_hash == _sha256(key))
        if (
            row is None
            or row.status != "ACTIVE"
            or not hmac.compare_digest(row.key_hash, _sha256(key))
        ):
            raise errors.Unauthenticated("The API key is invalid or revoked")
        client = OAuthClient.get_or_none(OAuthClient.id == row.client_id)
        if client is None or not client.active or (client.sandbox and not self.settings.sandbox):
            raise errors.Unauthenticated("The API key is invalid or revoked")
        _touch_api_key(row, client)
        return Principal(
            client_id=client.id,
            role=client_role(client.scopes),
            scopes=frozenset(client.scopes.split()),
        )


def _stored_time(value: Any) -> datetime:
    """A timestamp column as read by hand (SQLite gives text, PostgreSQL a datetime)."""
    read: datetime = Revocation.revoked_at.python_value(value)
    return read


def client_role(scope: str) -> str:
    """A client acting for itself (client credentials, API key).

    With `backoffice.admin` it administers the back office; otherwise it is a
    bank application acting as operations staff, still limited by its scopes.
    """
    return ADMIN if "backoffice.admin" in scope.split() else OPERATIONS


def _revocation(key: str, now: datetime, expires: datetime) -> None:
    if Revocation.get_or_none(Revocation.key == key) is None:
        Revocation.create(key=key, revoked_at=now, expires_at=expires)


def _revoke_before(key: str, now: datetime) -> None:
    """Revokes what was issued under `key` until `now` (the latest cut wins)."""
    Revocation.delete().where(Revocation.key == key).execute()
    _revocation(key, now, now + REFRESH_TOKEN_TTL)


def revoke_family(family_id: str, now: datetime | None = None) -> None:
    """One grant ends: its refresh tokens and the access tokens issued from them."""
    moment = now or wall_now()
    RefreshToken.update(status="REVOKED").where(
        (RefreshToken.family_id == family_id) & (RefreshToken.status != "REVOKED")
    ).execute()
    _revocation(f"fam:{family_id}", moment, moment + REFRESH_TOKEN_TTL)


def revoke_subject(subject: str) -> None:
    """Every token of user `subject` issued until now stops working.

    Called on deactivation, lock and password reset, inside their write
    transaction when there is one.
    """

    def work() -> None:
        now = wall_now()
        RefreshToken.update(status="REVOKED").where(
            (RefreshToken.user_id == subject) & (RefreshToken.status == "ACTIVE")
        ).execute()
        _revoke_before(f"sub:{subject}", now)

    tx.write(work)


def revoke_client(client_id: str) -> None:
    """Every token the client holds stops working (disabled, or scopes taken away)."""

    def work() -> None:
        now = wall_now()
        RefreshToken.update(status="REVOKED").where(
            (RefreshToken.client_id == client_id) & (RefreshToken.status == "ACTIVE")
        ).execute()
        _revoke_before(f"cli:{client_id}", now)

    tx.write(work)


def touch_client(client: OAuthClient, now: datetime) -> None:
    """Notes the client's use, at most once per LAST_USED_RESOLUTION."""
    if client.last_used_at is None or now - client.last_used_at >= LAST_USED_RESOLUTION:
        OAuthClient.update(last_used_at=now).where(OAuthClient.id == client.id).execute()
        client.last_used_at = now


def _touch_api_key(row: ApiKeyRecord, client: OAuthClient) -> None:
    now = wall_now()
    if row.last_used_at is not None and now - row.last_used_at < LAST_USED_RESOLUTION:
        return

    def work() -> None:
        ApiKeyRecord.update(last_used_at=now).where(ApiKeyRecord.id == row.id).execute()
        touch_client(client, now)

    tx.write(work)


@cache
def authority(settings: Settings) -> TokenAuthority:
    """The process's token authority for these settings."""
    return TokenAuthority(settings)


def new_api_key() -> tuple[str, str, str]:
    """(key shown once, its SHA-256, its prefix: the first 8 characters)."""
    random_part = "".join(secrets.choice(API_KEY_ALPHABET) for _ in range(API_KEY_RANDOM_LENGTH))
    key = f"{API_KEY_PREFIX}{random_part}"
    return key, _sha256(key), key[:8]


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
]
