"""The keys that sign access tokens (ES256), kept sealed in `signing_keys`.

A new key signs; retired keys keep verifying until what they signed has
expired, and are published (JWKS) until then. Private keys are stored
encrypted with the key file's password. Each process keeps the keys in
memory and reads them again every KEY_CACHE_SECONDS, at once when a token
names a key it does not know, and when another process has rotated them
(checked before each token is signed).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.store import tx
from server.store.models import SigningKey
from server.store.revocations import wall_now

ALGORITHM = "ES256"
KEY_CACHE_SECONDS = 60.0
ACTIVE = "ACTIVE"
RETIRED = "RETIRED"


def _b64(number: int) -> str:
    raw = number.to_bytes(32, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class SigningKeys:
    """The process's view of the signing keys."""

    def __init__(self, password: bytes) -> None:
        self._password = password
        self._lock = threading.Lock()
        self._active: tuple[str, Any] | None = None
        self._public: dict[str, Any] = {}
        self._loaded_at = 0.0

    def _load(self, force: bool = False) -> None:
        with self._lock:
            fresh = time.monotonic() - self._loaded_at < KEY_CACHE_SECONDS
            if not force and fresh and self._active:
                return
            rows = list(SigningKey.select().order_by(SigningKey.created_at))
            if not rows:
                rows = [self._create(ACTIVE)]
            public: dict[str, Any] = {}
            active = None
            for row in rows:
                private = serialization.load_pem_private_key(
                    row.private_key.encode(), password=self._password
                )
                public[row.kid] = private.public_key()
                if row.status == ACTIVE:
                    active = (row.kid, private)
            assert active is not None, "no ACTIVE signing key"
            self._active, self._public, self._loaded_at = active, public, time.monotonic()

    def _create(self, status: str) -> SigningKey:
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
            if status == ACTIVE:
                SigningKey.update(status=RETIRED, retired_at=wall_now()).where(
                    SigningKey.status == ACTIVE
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

    def rotate(self) -> str:
        """A new key signs from now on; the old one keeps verifying."""
        row = self._create(ACTIVE)
        self._load(force=True)
        return str(row.kid)

    def signer(self) -> tuple[str, Any]:
        """(kid, private key) of the key that signs now."""
        self._load()
        assert self._active is not None
        # A rotation made by another process (the rotate-signing-key command,
        # another server) is seen by the next token issued: one indexed read
        # on a path that writes anyway.
        active_kid = SigningKey.select(SigningKey.kid).where(SigningKey.status == ACTIVE).scalar()
        if active_kid is not None and active_kid != self._active[0]:
            self._load(force=True)
        assert self._active is not None
        return self._active

    def public(self, kid: str) -> Any | None:
        """The public key named `kid` (read again when unknown); None when there is none."""
        self._load()
        if kid not in self._public:
            self._load(force=True)
        return self._public.get(kid)

    def knows(self, kid: str) -> bool:
        """Whether `kid` still verifies (from memory, read at most every KEY_CACHE_SECONDS)."""
        self._load()
        return kid in self._public

    def jwks(self, token_ttl: timedelta) -> dict[str, Any]:
        """Public keys that may have signed a token still valid."""
        self._load()
        horizon = wall_now() - token_ttl - timedelta(minutes=5)
        rows = (
            SigningKey.select()
            .where((SigningKey.status == ACTIVE) | (SigningKey.retired_at > horizon))
            .order_by(SigningKey.created_at.desc())
        )
        return {"keys": [json.loads(row.public_jwk) for row in rows]}
