"""An access token's ECDSA signature is accepted in one form only (low S).

(r, n - s) verifies wherever (r, s) does; the server refuses the high-S
twin, so a token cannot be re-encoded into a second valid string, and it
signs every token in the low-S form.
"""

from __future__ import annotations

import base64

import grpc
import pytest

from backoffice.v1 import sandbox_service_pb2 as pb
from backoffice.v1 import sandbox_service_pb2_grpc as pb_grpc
from server.crypto.jws import P256_ORDER
from server.run import Stack
from tests.common import envelope
from tests.common.auth import authenticated, token_over_rest
from tests.conftest import Rest


def _s(token: str) -> int:
    encoded = token.rsplit(".", 1)[1]
    return int.from_bytes(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))[32:], "big")


def _twin(token: str) -> str:
    """The same token with its signature's S replaced by n - S."""
    signing_input, encoded = token.rsplit(".", 1)
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    s = int.from_bytes(raw[32:], "big")
    flipped = raw[:32] + (P256_ORDER - s).to_bytes(32, "big")
    return f"{signing_input}.{base64.urlsafe_b64encode(flipped).rstrip(b'=').decode()}"


@pytest.fixture(scope="module")
def fresh_tokens(stack: Stack) -> list[str]:
    # Signatures are random: 12 tokens all low-S by chance is 1 in 4096.
    return [str(token_over_rest(stack.http_url)["access_token"]) for _ in range(12)]


def test_tokens_are_signed_low_s(fresh_tokens: list[str]) -> None:
    assert all(_s(token) <= P256_ORDER // 2 for token in fresh_tokens)


def test_the_high_s_twin_of_a_valid_token_is_refused(
    fresh_tokens: list[str], anonymous: Rest, raw_channel: grpc.Channel
) -> None:
    token = fresh_tokens[0]
    twin = _twin(token)
    assert twin != token and _s(twin) > P256_ORDER // 2
    headers = {"Authorization": f"Bearer {token}"}
    envelope.success(anonymous.get("/v1/sandbox/clock", headers=headers))
    headers = {"Authorization": f"Bearer {twin}"}
    envelope.error(anonymous.get("/v1/sandbox/clock", headers=headers), 401, "UNAUTHORIZED")
    stub = pb_grpc.SandboxServiceStub(authenticated(raw_channel, twin))
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetClock(pb.GetClockRequest(), timeout=10)
    envelope.grpc_error(caught.value, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHORIZED")
    # The original still works after its twin was refused.
    stub = pb_grpc.SandboxServiceStub(authenticated(raw_channel, token))
    assert stub.GetClock(pb.GetClockRequest(), timeout=10).clock.now.seconds > 0
