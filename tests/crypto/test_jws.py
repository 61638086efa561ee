"""server.crypto.jws: the low-S form of ES256 signatures."""

from __future__ import annotations

import base64

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from server.crypto import jws


def _with_s(token: str, s: int) -> str:
    signing_input, encoded = token.rsplit(".", 1)
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    raw = raw[:32] + s.to_bytes(32, "big")
    return f"{signing_input}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}"


def _s(token: str) -> int:
    encoded = token.rsplit(".", 1)[1]
    return int.from_bytes(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))[32:], "big")


def test_low_s_keeps_the_signature_valid_and_is_idempotent() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    for i in range(16):
        token = jwt.encode({"i": i}, key, algorithm="ES256")
        low = jws.low_s(token)
        assert jws.is_low_s(low) and jws.low_s(low) == low
        assert jwt.decode(low, key.public_key(), algorithms=["ES256"]) == {"i": i}
        high = _with_s(low, jws.P256_ORDER - _s(low))
        # pyjwt alone takes both twins: the rule is ours.
        assert jwt.decode(high, key.public_key(), algorithms=["ES256"]) == {"i": i}
        assert not jws.is_low_s(high) and jws.low_s(high) == low


def test_what_is_not_an_es256_signature_is_not_low_s() -> None:
    assert not jws.is_low_s("no-dots")
    assert not jws.is_low_s("a.b.!!!")
    assert not jws.is_low_s("a.b." + base64.urlsafe_b64encode(b"x" * 10).decode())
    assert not jws.is_low_s(_with_s("a.b." + "A" * 86, 0))
    assert jws.low_s("no-dots") == "no-dots"
