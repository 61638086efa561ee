"""Verifying webhook deliveries (Standard Webhooks, as the bank signs them).

A delivery carries `webhook-id`, `webhook-timestamp` (unix seconds) and
`webhook-signature`: space-separated `v1,<base64 HMAC-SHA256>` entries of
`"{id}.{timestamp}.{body}"` (two during a secret's rotation; either is
enough). The key is the subscription's secret: a `whsec_` secret is the
base64 of the key bytes, any other secret is its UTF-8 bytes. A timestamp
more than `tolerance` seconds from now, either way, is refused (replays).
`X-Webhook-Signature: sha256=<hex HMAC of the body>` is checked by
`verify_body_signature` for receivers that want only that.

Verify the body exactly as received, before parsing it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from backoffice_sdk import _json

DEFAULT_TOLERANCE = 300  # seconds, either way
WHSEC_PREFIX = "whsec_"


class WebhookVerificationError(Exception):
    """Not the bank's delivery: headers missing, stale, or no signature matching."""


def _key(secret: str) -> bytes:
    if secret.startswith(WHSEC_PREFIX):
        try:
            return base64.b64decode(secret[len(WHSEC_PREFIX) :], validate=True)
        except binascii.Error as bad:
            raise ValueError("a whsec_ secret must be base64") from bad
    return secret.encode()


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in headers.items()}


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` entry (what the bank sends; for tests of a receiver)."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return (
        "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()
    )


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | list[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict[str, Any]:
    """The delivery's JSON (money as Decimal) once its signature and timestamp check out.

    `secret` may be a list (during your own rotation); any one matching is enough.
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    lowered = _lower(headers)
    webhook_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not (webhook_id and stamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as bad:
        raise WebhookVerificationError("webhook-timestamp is not unix seconds") from bad
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp is more than {tolerance} seconds from now"
        )
    presented = [entry.partition(",")[2] for entry in signatures.split() if entry.startswith("v1,")]
    for one in [secret] if isinstance(secret, str) else secret:
        expected = sign(one, webhook_id, timestamp, raw).partition(",")[2]
        if any(hmac.compare_digest(expected, given) for given in presented):
            document: dict[str, Any] = _json.loads(raw)
            return document
    raise WebhookVerificationError("no webhook-signature matches the body")


def verify_body_signature(body: bytes, header: str, secret: str) -> None:
    """Checks `X-Webhook-Signature: sha256=<hex>` (keyed with the secret's UTF-8 bytes)."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, header.strip()):
        raise WebhookVerificationError("X-Webhook-Signature does not match the body")
