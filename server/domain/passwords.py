"""Password and secret hashing: Argon2id for what people choose, SHA-256 for what the server makes.

- Human secrets (passwords, card PINs, the sandbox's published secrets) are
  hashed with Argon2id (argon2-cffi's defaults, RFC 9106): memory-hard, so
  that a stolen table costs an attacker a lot per guess. That cost is paid by
  the server on every check too, which is why checks run on a small pool of
  their own (`server.hashing`) and public endpoints are rate-limited before
  they hash (`server.domain.public_limits`).
- Client secrets made by the server (`secrets.token_urlsafe(32)`: 43
  URL-safe characters, 256 random bits) are stored as `sha256:<hex>`, as
  API keys are. A slow hash protects low-entropy secrets against guessing
  from a stolen hash; a 256-bit random secret cannot be guessed either way
  (2^255 tries on average), and it is never reused elsewhere, so SHA-256 is
  as safe as Argon2 for it while costing microseconds instead of tens of
  milliseconds of CPU and 64 MiB of memory per check. No salt is needed:
  salts defeat precomputed tables, and there is no table of 256-bit random
  strings.
- Argon2 hashes of client secrets stored before (clients created earlier)
  keep verifying; after a successful check of a server-made secret the store
  replaces the hash with the fast one (`rehash_to_fast`).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

FAST_PREFIX = "sha256:"
# secrets.token_urlsafe(32): 32 random bytes in unpadded base64url.
_MACHINE_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")

_hasher = PasswordHasher()


def hash_secret(secret: str) -> str:
    """Argon2id, for secrets a person chose."""
    return _hasher.hash(secret)


def fast_hash(secret: str) -> str:
    """`sha256:<hex>`, for a server-made secret of 256 random bits (never for a password)."""
    assert is_machine_secret(secret), "a fast hash is only for server-made secrets"
    return FAST_PREFIX + hashlib.sha256(secret.encode()).hexdigest()


def is_machine_secret(secret: str) -> bool:
    """True when `secret` has the shape of the server's client secrets (256 random bits)."""
    return _MACHINE_SECRET_RE.match(secret) is not None


def is_fast(secret_hash: str) -> bool:
    """True for a stored hash that costs nothing to check."""
    return secret_hash.startswith(FAST_PREFIX)


def verify_secret(secret_hash: str, secret: str) -> bool:
    """Whether `secret` matches `secret_hash` (either format); constant time."""
    if is_fast(secret_hash):
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return hmac.compare_digest(secret_hash[len(FAST_PREFIX) :], digest)
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def rehash_to_fast(secret_hash: str, secret: str) -> bool:
    """After a successful check: whether the stored Argon2 hash should become a fast one."""
    return not is_fast(secret_hash) and is_machine_secret(secret)
