"""Rules of sending one webhook delivery: its headers and signatures, when a
failed one is tried again, what an answer means, and when a failing
subscription is switched off. Plain functions, no I/O.

Signatures (API_CONTRACT.md "Webhooks"):
- `webhook-signature: v1,<base64>` is Standard Webhooks' HMAC-SHA256 of
  `<id>.<timestamp>.<body>`, made by the official `standardwebhooks`
  package. A `whsec_` secret is the base64 of the key (the package strips
  the prefix and decodes it); any other secret is used as its UTF-8 bytes.
  While a rotated-out secret is still valid the header carries two
  signatures separated by a space, the current secret's first.
- `X-Webhook-Signature: sha256=<hex>` is the HMAC-SHA256 of the raw body,
  keyed with the current secret's UTF-8 bytes (the seeds' scheme).

Retries: a failed attempt is tried again after 5 s, 30 s, 2 min, 10 min,
30 min, 1 h, 2 h, 4 h, 8 h and then every 12 h four times (about three days
in all), each delay moved by up to 20% either way so that a receiver that
comes back is not hit by every retry at once. The 14th failed attempt is
the last (DEAD). A 410 Gone says the receiver will never take the event:
DEAD at once.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import random
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

USER_AGENT = "BankingBackOffice-Webhooks/1"
WHSEC_PREFIX = "whsec_"
EXCERPT_BYTES_MAX = 1024
# Delays before the 2nd, 3rd, ... 14th attempt.
SCHEDULE: tuple[timedelta, ...] = tuple(
    timedelta(seconds=s)
    for s in (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 43200, 43200, 43200)
)
JITTER = 0.2
# A subscription whose deliveries have failed for this long, with no success
# between, is made inactive at its next failure.
FAILING_DISABLE_AFTER = timedelta(days=3)
ERROR_CHARS_MAX = 500

PENDING, SUCCEEDED, FAILED, DEAD = "PENDING", "SUCCEEDED", "FAILED", "DEAD"
DUE_STATUSES = (PENDING, FAILED)


@dataclass(frozen=True, slots=True)
class Secrets:
    """A subscription's signing secrets at the time of an attempt."""

    current: str
    previous: str | None = None
    previous_expires_at: datetime | None = None  # naive UTC

    def previous_valid(self, now: datetime) -> bool:
        return bool(
            self.previous
            and self.previous_expires_at is not None
            and self.previous_expires_at > now
        )


def _signer(secret: str) -> Webhook:
    if secret.startswith(WHSEC_PREFIX):
        return Webhook(secret)
    return Webhook(secret.encode())


def standard_signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` entry of `webhook-signature`."""
    at = datetime.fromtimestamp(timestamp, tz=UTC)
    return _signer(secret).sign(event_id, at, body.decode())


def body_signature(secret: str, body: bytes) -> str:
    """`X-Webhook-Signature`: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(event_id: str, body: bytes, secrets: Secrets, now: datetime) -> dict[str, str]:
    """Every header of one attempt sent at `now` (naive UTC)."""
    timestamp = int(now.replace(tzinfo=UTC).timestamp())
    signatures = [standard_signature(secrets.current, event_id, timestamp, body)]
    if secrets.previous and secrets.previous_valid(now):
        signatures.append(standard_signature(secrets.previous, event_id, timestamp, body))
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
        "x-webhook-signature": body_signature(secrets.current, body),
    }


def retry_delay(
    failed_attempts: int,
    schedule: Sequence[timedelta] = SCHEDULE,
    uniform: Callable[[float, float], float] = random.uniform,
) -> timedelta | None:
    """How long after its `failed_attempts`-th failure a delivery is tried
    again (with jitter from `uniform`); None when that was the last attempt."""
    assert failed_attempts >= 1
    if failed_attempts > len(schedule):
        return None
    base = schedule[failed_attempts - 1]
    return base * uniform(1 - JITTER, 1 + JITTER)


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt came to: an HTTP status, or an error before one."""

    response_code: int = 0  # 0: no HTTP answer
    error: str | None = None
    excerpt: str | None = None
    duration_ms: int = 0

    @property
    def succeeded(self) -> bool:
        return self.error is None and 200 <= self.response_code < 300


@dataclass(frozen=True, slots=True)
class Verdict:
    """The delivery's state after an attempt."""

    status: str
    next_attempt_at: datetime | None
    error: str | None


def verdict(
    answer: Answer,
    attempt: int,
    now: datetime,
    schedule: Sequence[timedelta] = SCHEDULE,
    uniform: Callable[[float, float], float] = random.uniform,
) -> Verdict:
    """The delivery's state after its `attempt`-th attempt (1-based) got `answer`.

    Only a 2xx is a success. Redirects are not followed, so a 3xx fails like
    any other answer; a 410 Gone is final.
    """
    if answer.succeeded:
        return Verdict(SUCCEEDED, None, None)
    error = answer.error or f"HTTP {answer.response_code}"
    if answer.error is None and answer.response_code == 410:
        return Verdict(DEAD, None, error)
    delay = retry_delay(attempt, schedule, uniform)
    if delay is None:
        return Verdict(DEAD, None, error)
    return Verdict(FAILED, now + delay, error)


def excerpt(raw: bytes) -> str:
    """The first EXCERPT_BYTES_MAX bytes of a response body, as text (NUL, which
    a PostgreSQL text column refuses, shown as U+FFFD like undecodable bytes)."""
    return _storable(raw[:EXCERPT_BYTES_MAX].decode("utf-8", errors="replace"))


def short_error(text: str) -> str:
    """An error message cut to what a delivery row keeps."""
    text = _storable(text)
    return text if len(text) <= ERROR_CHARS_MAX else text[: ERROR_CHARS_MAX - 1] + "…"


def _storable(text: str) -> str:
    return text.replace("\x00", "\ufffd")


def should_disable(failing_since: datetime | None, now: datetime) -> bool:
    """Whether a subscription failing since `failing_since` is switched off now."""
    return failing_since is not None and now - failing_since > FAILING_DISABLE_AFTER


def disabled_reason(failing_since: datetime, last_error: str) -> str:
    return short_error(f"failing since {failing_since.isoformat()}Z: {last_error}")


@functools.lru_cache(maxsize=4096)
def endpoint(url: str) -> str:
    """The host and port a delivery goes to (`your-app.com:443`): the unit of
    fairness between receivers (`Knobs.per_endpoint`)."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = 443 if parts.scheme.lower() == "https" else 80
    return f"{(parts.hostname or '').lower()}:{port or default}"
