"""Request signing (seed 000): HMAC-SHA256 over a canonical request.

A signed request carries three headers (gRPC: the same metadata keys):

    X-Signature: v1=<lowercase hex HMAC-SHA256(signing secret, canonical request)>
    X-Signature-Timestamp: <unix seconds>
    X-Signature-Nonce: <16 to 64 characters of A-Z a-z 0-9 . _ ~ ->

The canonical request is six lines joined by "\\n" (no trailing newline):

    METHOD              GET, POST, ... as sent (gRPC: POST)
    PATH                the path as sent, percent-encoding kept, no query
                        (gRPC: the method path, /backoffice.v1.UserService/GetUser)
    CANONICAL_QUERY     every name=value pair, each side percent-decoded ('+'
                        is a space) then encoded per RFC 3986 (all but
                        A-Z a-z 0-9 - _ . ~), sorted, joined by '&'; empty when
                        there is no query (always for gRPC)
    TIMESTAMP           the X-Signature-Timestamp value
    NONCE               the X-Signature-Nonce value
    BODY_SHA256         lowercase hex SHA-256 of the body bytes as sent (of
                        nothing for a bodiless request; gRPC: of the request
                        message's deterministic serialization)

The timestamp must be within TIMESTAMP_TOLERANCE_SECONDS of the server's
clock either way, and a nonce is accepted once per client.

Pure functions: the client side (`signature_headers`) is used by tests and
is what the README's snippet does.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote_plus

from server.domain import errors

SIGNATURE_HEADER = "x-signature"
TIMESTAMP_HEADER = "x-signature-timestamp"
NONCE_HEADER = "x-signature-nonce"
HEADERS = (SIGNATURE_HEADER, TIMESTAMP_HEADER, NONCE_HEADER)
SCHEME = "v1"
TIMESTAMP_TOLERANCE_SECONDS = 300
GRPC_METHOD = "POST"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()

_SIGNATURE_RE = re.compile(r"^v1=([0-9a-fA-F]{64})$")
_TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9._~\-]{16,64}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_UNRESERVED = "-_.~"
_QUERY_LENGTH_MAX = 8192
_PATH_LENGTH_MAX = 8192


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    """The signature headers of one request, well-formed."""

    signature: str  # lowercase hex
    timestamp: int
    timestamp_text: str
    nonce: str


def _refused(message: str, problem: str, **extra: str) -> errors.Unauthenticated:
    return errors.Unauthenticated(message, metadata={"signature_problem": problem, **extra})


def parse_headers(metadata: Mapping[str, str]) -> SignedHeaders | None:
    """The signature headers, None when none is present; malformed ones are refused."""
    present = {name: metadata.get(name) for name in HEADERS}
    if all(value is None for value in present.values()):
        return None
    missing = [name for name, value in present.items() if not value]
    if missing:
        raise _refused(
            f"Signed requests need {', '.join(HEADERS)}; missing {missing[0]}",
            "missing_header",
            header=missing[0],
        )
    signature = _SIGNATURE_RE.match(present[SIGNATURE_HEADER] or "")
    if signature is None:
        raise _refused("X-Signature must be 'v1=' and 64 hex digits", "malformed_signature")
    timestamp = present[TIMESTAMP_HEADER] or ""
    if not _TIMESTAMP_RE.match(timestamp):
        raise _refused("X-Signature-Timestamp must be unix seconds", "malformed_timestamp")
    nonce = present[NONCE_HEADER] or ""
    if not _NONCE_RE.match(nonce):
        raise _refused(
            "X-Signature-Nonce must be 16 to 64 characters of A-Z a-z 0-9 . _ ~ -",
            "malformed_nonce",
        )
    return SignedHeaders(signature.group(1).lower(), int(timestamp), timestamp, nonce)


def check_timestamp(timestamp: int, now: float) -> None:
    """Refuses a timestamp more than the tolerance away from `now`, either way."""
    if abs(now - timestamp) > TIMESTAMP_TOLERANCE_SECONDS:
        raise _refused(
            f"The request timestamp is more than {TIMESTAMP_TOLERANCE_SECONDS} seconds "
            "away from the server's clock",
            "stale_timestamp",
            server_time=str(int(now)),
        )


def nonce_expiry(timestamp: int) -> int:
    """Until when (unix seconds) a nonce must be remembered: after it, its
    timestamp is refused anyway (plus a minute for servers' clock skew)."""
    return timestamp + TIMESTAMP_TOLERANCE_SECONDS + 60


def _encode(text: str) -> str:
    return quote(text, safe=_UNRESERVED)


def canonical_query(query: str) -> str:
    """The query string in canonical form (see the module docstring)."""
    if len(query) > _QUERY_LENGTH_MAX:
        raise _refused("The query string is too long to sign", "query_too_long")
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_encode(unquote_plus(name)), _encode(unquote_plus(value))))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_request(
    method: str, target: str, timestamp: str, nonce: str, body_sha256: str
) -> str:
    """The string that is signed; `target` is the path with its query, if any."""
    assert _SHA256_RE.match(body_sha256), "body_sha256 must be lowercase hex"
    path, _, query = target.partition("?")
    if len(path) > _PATH_LENGTH_MAX:
        raise _refused("The path is too long to sign", "path_too_long")
    return "\n".join((method.upper(), path, canonical_query(query), timestamp, nonce, body_sha256))


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def signature(secret: str, canonical: str) -> str:
    """Lowercase hex HMAC-SHA256 of the canonical request under `secret` (UTF-8)."""
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def verify(secret: str, canonical: str, presented: str) -> None:
    """Refuses a signature that is not the canonical request's (constant time)."""
    if not hmac.compare_digest(signature(secret, canonical), presented):
        raise _refused("The request signature does not match the request", "bad_signature")


def signature_headers(
    secret: str, *, method: str, target: str, body: bytes, timestamp: int, nonce: str
) -> dict[str, str]:
    """The client side: the three headers that sign a request."""
    canonical = canonical_request(method, target, str(timestamp), nonce, body_sha256(body))
    return {
        "X-Signature": f"{SCHEME}={signature(secret, canonical)}",
        "X-Signature-Timestamp": str(timestamp),
        "X-Signature-Nonce": nonce,
    }
