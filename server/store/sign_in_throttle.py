"""Failed sign-ins, counted per address, account and pair in the shared rate-limit counters.

The counters are those of the API's rate limits (`server.store.ratelimit`:
the database or Redis), so every server process sees the same failures and
the waits hold across processes. `server.domain.public_limits.SignInThrottle`
decides; this module reads and adds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from server.config import Settings
from server.domain import public_limits, ratelimits
from server.domain.public_limits import SignInAlert, SignInThrottle
from server.store import outbox, tx
from server.store import ratelimit as shared
from server.store.oauth import wall_now


def throttle(settings: Settings, address: str | None, email: str) -> SignInThrottle:
    return SignInThrottle(
        address=public_limits.address_key(address),
        account=public_limits.account_key(email),
        failures_per_minute=settings.sign_in_failures_per_minute,
    )


def wait_seconds(settings: Settings, attempt: SignInThrottle, now: float) -> int:
    """Seconds `attempt` must wait before its password is even checked (0: none)."""
    counters = shared.counters(settings.redis_url)
    counts = counters.peek([key for key, _ in attempt.keys(now)])
    return attempt.wait_seconds(counts, now)


def record_failure(
    settings: Settings, attempt: SignInThrottle, user_id: str | None, now: float
) -> None:
    """Adds a failure everywhere it counts; alerts staff when the account comes under attack."""
    counters = shared.counters(settings.redis_url)
    counts = [
        counters.take(key, 1, ratelimits.LIMIT_MAX, reset_at + shared.EXPIRY_SLACK_SECONDS)[1]
        for key, reset_at in attempt.keys(now)
    ]
    if user_id is None or not attempt.alert_due(counts):
        return
    start, end = attempt.account_window(now)
    alert = SignInAlert(
        user_id=user_id,
        failures=counts[-2],
        window_start=_rfc3339(start),
        window_end=_rfc3339(end),
        last_address=attempt.address.removeprefix("ip:"),
    )
    tx.write(lambda: outbox.emit(alert.EVENT_TYPE, user_id, dict(alert.data()), wall_now()))


def _rfc3339(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
