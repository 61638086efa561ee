"""ES256 signatures in one form only: low S (ECDSA malleability).

An ECDSA signature (r, s) has a twin (r, n - s) that verifies as well, so a
token could be re-encoded into another string that is just as valid: a
different cache key, a different token hash, a way around a list of
refused tokens. Like Bitcoin (BIP 62) and Ethereum (EIP-2), only the twin
with s <= n/2 is accepted; tokens the server signs are normalised to it.

A JWS ES256 signature is r || s, 32 bytes each, big-endian (RFC 7518 3.4),
base64url without padding, after the last dot of the compact form.
"""

from __future__ import annotations

import base64
import binascii

# Order of the P-256 base point (SEC 2, secp256r1).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_HALF_ORDER = P256_ORDER // 2
_COORDINATE_BYTES = 32


def _split(token: str) -> tuple[str, int, int] | None:
    """(signing input, r, s) of a compact ES256 JWS; None when it is not one."""
    signing_input, dot, encoded = token.rpartition(".")
    if not dot:
        return None
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 2 * _COORDINATE_BYTES:
        return None
    r = int.from_bytes(raw[:_COORDINATE_BYTES], "big")
    s = int.from_bytes(raw[_COORDINATE_BYTES:], "big")
    return signing_input, r, s


def is_low_s(token: str) -> bool:
    """False for a signature in its high-S form (or one that is not r || s at all)."""
    parts = _split(token)
    return parts is not None and 0 < parts[2] <= _HALF_ORDER


def low_s(token: str) -> str:
    """The same token with its signature in the low-S form (unchanged when it is)."""
    parts = _split(token)
    if parts is None or parts[2] <= _HALF_ORDER:
        return token
    signing_input, r, s = parts
    raw = r.to_bytes(_COORDINATE_BYTES, "big") + (P256_ORDER - s).to_bytes(_COORDINATE_BYTES, "big")
    return f"{signing_input}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}"
