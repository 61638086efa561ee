"""When to try a request again, and how long to wait first.

429 and 503 are retried for every method: the server did not run the call
(rate limits refuse before executing; a full hashing queue sheds at once).
A failed connection or a timeout is retried only when running the call twice
is harmless: a GET, PUT, DELETE or HEAD, or a request that carries an
`Idempotency-Key` (the same key on every attempt, so the server answers a
call it already ran with its first answer). Waits grow exponentially with
full jitter; a `Retry-After` (or `X-RateLimit-Retry-After`) is honoured: the
wait is never shorter, and a wait beyond `max_retry_after` is not waited for
(the error is raised instead).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 503})
SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 3  # attempts after the first
    backoff: float = 0.5  # seconds; the first retry waits up to this
    max_backoff: float = 20.0
    max_retry_after: float = 60.0  # a longer Retry-After is raised, not waited for

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (0-based)."""
        ceiling = min(self.max_backoff, self.backoff * (2**retry))
        jittered = random.uniform(0, ceiling)  # noqa: S311 (jitter, not a secret)
        if retry_after is None:
            return jittered
        # At least what the server asked, spread a little so that callers
        # told the same second do not all come back in the same instant.
        return retry_after + random.uniform(0, min(ceiling, 1.0))  # noqa: S311

    def may_wait(self, retry_after: float | None) -> bool:
        return retry_after is None or retry_after <= self.max_retry_after


NO_RETRIES = RetryPolicy(max_retries=0)


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """`Retry-After` (seconds or an HTTP date), else `X-RateLimit-Retry-After`; None if absent."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in ("retry-after", "x-ratelimit-retry-after"):
        value = (lowered.get(name) or "").strip()
        if not value:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    return None


def retryable_after_failure(method: str, idempotency_key: str | None) -> bool:
    """May a request whose answer never came be sent again?"""
    return method.upper() in SAFE_METHODS or bool(idempotency_key)
