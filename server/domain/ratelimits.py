"""Rate limits of API clients: classes of calls, fixed windows, the headers.

Seed 000's standard limits are the defaults; each client may have its own
(`oauth_clients.rate_limits`, a JSON object with the keys below). Windows
are fixed and aligned to the wall clock (the hour or the minute in
progress, UTC), as `auth.proto`'s RateLimits promises: simple to explain
(`X-RateLimit-Reset` is the next full hour or minute) and one counter per
window. The price is the usual one of fixed windows: a client may spend one
window's budget at its very end and the next one's at once after.

A call spends one unit of each class it belongs to: every call is a read or
a write; account creations and password resets are writes with a
per-minute budget of their own. Headers describe the class with the least
budget left.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from server.domain import errors

LIMIT_MAX = 1 << 40
# Each server process takes budget from the shared counter in leases of
# 1/LEASE_FRACTION of the limit (at least 1, at most LEASE_MAX), so that a
# call usually spends a unit already leased instead of writing the counter.
# Limits under 2 * LEASE_FRACTION lease one unit at a time: exact.
LEASE_FRACTION = 100
LEASE_MAX = 1000


@dataclass(frozen=True, slots=True)
class LimitClass:
    """A budget: `setting` units per `window_seconds`, per client."""

    name: str
    setting: str  # the key in oauth_clients.rate_limits
    window_seconds: int
    default: int
    noun: str  # for messages: "10 account creations per minute"

    @property
    def window_name(self) -> str:
        return "hour" if self.window_seconds == 3600 else "minute"


READ = LimitClass("read", "read_per_hour", 3600, 1000, "read requests")
WRITE = LimitClass("write", "write_per_hour", 3600, 100, "write requests")
ACCOUNT_CREATE = LimitClass(
    "account_create", "account_create_per_minute", 60, 10, "account creations"
)
PASSWORD_RESET = LimitClass("password_reset", "password_reset_per_minute", 60, 5, "password resets")
CLASSES = (READ, WRITE, ACCOUNT_CREATE, PASSWORD_RESET)


def limits_from(config: Mapping[str, object]) -> dict[str, int]:
    """Limit per class name; a missing or unusable value means the default."""
    limits: dict[str, int] = {}
    for limit_class in CLASSES:
        value = config.get(limit_class.setting)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= LIMIT_MAX:
            limits[limit_class.name] = value
        else:
            limits[limit_class.name] = limit_class.default
    return limits


def window(now: float, seconds: int) -> tuple[int, int]:
    """(start, end) in unix seconds of the fixed window holding `now`."""
    start = int(now) // seconds * seconds
    return start, start + seconds


def lease_size(limit: int) -> int:
    return max(1, min(limit // LEASE_FRACTION, LEASE_MAX))


@dataclass(frozen=True, slots=True)
class Usage:
    """Where one client stands in one class after a call."""

    limit_class: LimitClass
    limit: int
    remaining: int
    reset_at: int  # unix seconds: the end of the window
    allowed: bool

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.reset_at - now))


def tightest(usages: Iterable[Usage]) -> Usage:
    """The usage the headers describe: a refused one, else the least budget left."""
    ordered = list(usages)
    assert ordered
    refused = [usage for usage in ordered if not usage.allowed]
    if refused:
        return refused[0]
    return min(ordered, key=lambda usage: usage.remaining)


def headers(usage: Usage, now: float) -> dict[str, str]:
    """The X-RateLimit-* headers (and Retry-After when refused)."""
    values = {
        "X-RateLimit-Limit": str(usage.limit),
        "X-RateLimit-Remaining": str(max(0, usage.remaining)),
        "X-RateLimit-Reset": str(usage.reset_at),
    }
    if not usage.allowed:
        retry = str(usage.retry_after(now))
        values["Retry-After"] = retry
        values["X-RateLimit-Retry-After"] = retry
    return values


def refusal(usage: Usage, now: float) -> errors.RateLimited:
    limit_class = usage.limit_class
    retry = usage.retry_after(now)
    return errors.RateLimited(
        f"Rate limit exceeded: {usage.limit} {limit_class.noun} per "
        f"{limit_class.window_name}; retry in {retry} seconds",
        metadata={
            "limit_class": limit_class.name,
            "limit": str(usage.limit),
            "window": limit_class.window_name,
            "retry_after_seconds": str(retry),
        },
    )
