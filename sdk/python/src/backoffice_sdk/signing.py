"""Request signing: HMAC-SHA256 of the canonical request (README "Request signing").

Six lines joined by "\\n": the method; the path as sent (percent-encoding
kept, no query); the query with each name and value percent-decoded (`+` is
a space) and encoded again per RFC 3986, pairs sorted and joined by `&`; the
timestamp; the nonce; the hex SHA-256 of the body bytes as sent. Every
attempt of a request is signed again with a new nonce.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from urllib.parse import quote, unquote_plus

_UNRESERVED = "-_.~"


def canonical_query(query: str) -> str:
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append(
            (
                quote(unquote_plus(name), safe=_UNRESERVED),
                quote(unquote_plus(value), safe=_UNRESERVED),
            )
        )
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_request(method: str, target: str, timestamp: str, nonce: str, body: bytes) -> str:
    """`target` is the path with its query, as sent (`/v1/accounts?limit=5`)."""
    path, _, query = target.partition("?")
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, canonical_query(query), timestamp, nonce, body_hash))


def signature_headers(
    secret: str,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """`X-Signature`, `X-Signature-Timestamp` and `X-Signature-Nonce` for one request."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    once = nonce or secrets.token_urlsafe(24)
    canonical = canonical_request(method, target, stamp, once, body)
    digest = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return {
        "X-Signature": f"v1={digest}",
        "X-Signature-Timestamp": stamp,
        "X-Signature-Nonce": once,
    }
