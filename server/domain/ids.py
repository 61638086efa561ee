"""Prefixed, unguessable identifiers (`acc_3f9k...`)."""

from __future__ import annotations

import base64
import hashlib
import os

PREFIXES = frozenset(
    {
        "usr",
        "acc",
        "txn",
        "payee",
        "rec",
        "ref",
        "whk",
        "dlv",
        "evt",
        "rpt",
        "hold",
        "rsk",  # fraud-screening rules (risk.proto)
        "alr",  # fraud-screening alerts
        "key",
        "aud",
        "stm",
        "ntf",
        "dsp",
    }
)


_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def _encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


# Every pair of base32 digits (10 bits), for writing 100 random bits at once.
_PAIRS = tuple(a + b for a in _ALPHABET for b in _ALPHABET)
_SHIFTS = tuple(range(90, -1, -10))


def new_id(prefix: str) -> str:
    """A fresh id with 100 random bits, e.g. `txn_5vq3...`: the first 20
    digits of the random bytes in lower-case base32 (RFC 4648)."""
    assert prefix in PREFIXES, prefix
    bits = int.from_bytes(os.urandom(13), "big") >> 4  # os.urandom is what `secrets` uses
    return prefix + "_" + "".join([_PAIRS[(bits >> shift) & 1023] for shift in _SHIFTS])


def stable_id(prefix: str, name: str) -> str:
    """A deterministic id for fixed data (sandbox fixtures, internal accounts)."""
    assert prefix in PREFIXES, prefix
    return f"{prefix}_{_encode(hashlib.sha256(name.encode()).digest())[:20]}"
