"""Prefixed, unguessable identifiers (`acc_3f9k...`)."""

from __future__ import annotations

import base64
import hashlib
import secrets

PREFIXES = frozenset(
    {"usr", "acc", "txn", "payee", "rec", "ref", "whk", "evt", "rpt", "hold", "key", "aud"}
)


def _encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def new_id(prefix: str) -> str:
    """A fresh id with 100 random bits, e.g. `txn_5vq3...`."""
    assert prefix in PREFIXES, prefix
    return f"{prefix}_{_encode(secrets.token_bytes(13))[:20]}"


def stable_id(prefix: str, name: str) -> str:
    """A deterministic id for fixed data (sandbox fixtures, internal accounts)."""
    assert prefix in PREFIXES, prefix
    return f"{prefix}_{_encode(hashlib.sha256(name.encode()).digest())[:20]}"
