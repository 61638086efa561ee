"""Limits of the public endpoints: /oauth/token, /oauth/refresh, /oauth/revoke, sign-in.

These endpoints take no token, so the per-client budgets of
`server.domain.ratelimits` cannot guard them, and each call may run Argon2
(tens of milliseconds of CPU). Every limit here is checked before anything
is hashed, so a refused call costs a counter read, not a hash.

1. Per source address (the address Envoy saw, `call.CallInfo.client_address`):
   `BANK_OAUTH_REQUESTS_PER_MINUTE` (default 60) calls of the four endpoints
   together per fixed UTC minute, successes included.
2. Per client id: `BANK_OAUTH_CLIENT_CHECKS_PER_MINUTE` (default 300) checks
   of an Argon2-hashed client secret per minute, whoever sends them. Clients
   whose secret the server made are checked with SHA-256 (see
   `server.domain.passwords`) and never spend it, so a flood aimed at one
   client cannot refuse that client anything unless its secret is an old
   Argon2 one; a refused client keeps every token it holds.
3. Failed sign-ins, with waits that grow (`SignInThrottle`): per source address
   `n` failures per minute, `3n` per 15 minutes, `6n` per hour
   (`BANK_SIGN_IN_FAILURES_PER_MINUTE` = n, default 5); an address over a
   tier waits until that tier's window ends (at most 1 minute, 15 minutes,
   1 hour). Failures never lock the account: a stranger's failures cannot
   keep the owner out. Per account (every address together), from
   `ACCOUNT_ALERT_FAILURES` failures in 15 minutes the account is under
   attack: staff are alerted once per window (`security.sign_in_failures`)
   and each address that has already failed on the account this window
   waits until the window ends, while an address that has not (the owner,
   elsewhere) still signs in.

Refusals are 429 RATE_LIMITED with Retry-After (seconds until the window
ends). On /oauth/* the body is the RFC 6749 error `temporarily_unavailable`:
RFC 6749 names no error for rate limits at the token endpoint; this is the
registered word for "temporarily overloaded" (section 4.1.2.1), every OAuth
library knows it (oauthlib's TemporarilyUnavailableError, authlib's generic
OAuthError), and unlike `slow_down` (RFC 8628, device polling: "add 5 seconds
to your interval") it asks nothing a token client would misapply. The HTTP
status (429, or 503 when the hashing pool is full) and Retry-After say which.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from server.domain import errors, ratelimits
from server.domain.ratelimits import LimitClass

OAUTH_ERROR = "temporarily_unavailable"
OAUTH_ADDRESS = LimitClass(
    "oauth_address", "oauth_requests_per_minute", 60, 60, "OAuth requests from one address"
)
OAUTH_CLIENT = LimitClass(
    "oauth_client", "oauth_client_checks_per_minute", 60, 300, "secret checks of one client"
)
UNKNOWN_ADDRESS = "unknown"

# Sign-in failure tiers: (window seconds, multiple of the per-minute setting).
ADDRESS_TIERS = ((60, 1), (900, 3), (3600, 6))
ACCOUNT_WINDOW_SECONDS = 900
ACCOUNT_ALERT_FAILURES = 10
# Under attack, an address may fail this often per account and window.
PAIR_FAILURES_UNDER_ATTACK = 1


def address_key(address: str | None) -> str:
    """The budget key of a source address (also IPv6, whose text has colons)."""
    return f"ip:{address or UNKNOWN_ADDRESS}"


def client_key(client_id: str) -> str:
    return f"oauth-client:{client_id[:100]}"


def account_key(email: str) -> str:
    """A sign-in account by its normalized email, hashed: counters hold no email,
    and unknown emails are counted exactly like known ones (no enumeration)."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"acct:{digest}"


@dataclass(frozen=True, slots=True)
class Tier:
    """At most `failures_max` failures per fixed window of `window_seconds`."""

    window_seconds: int
    failures_max: int

    def key(self, subject: str, now: float) -> str:
        start, _ = ratelimits.window(now, self.window_seconds)
        return f"signin:{subject}:{self.window_seconds}:{start}"

    def reset_at(self, now: float) -> int:
        return ratelimits.window(now, self.window_seconds)[1]


@dataclass(frozen=True, slots=True)
class SignInThrottle:
    """Where one sign-in attempt stands: which counters it reads and adds to."""

    address: str  # address_key
    account: str  # account_key
    failures_per_minute: int

    def address_tiers(self) -> tuple[Tier, ...]:
        return tuple(Tier(seconds, self.failures_per_minute * n) for seconds, n in ADDRESS_TIERS)

    def account_tier(self) -> Tier:
        return Tier(ACCOUNT_WINDOW_SECONDS, ACCOUNT_ALERT_FAILURES)

    def pair_tier(self) -> Tier:
        return Tier(ACCOUNT_WINDOW_SECONDS, PAIR_FAILURES_UNDER_ATTACK)

    def _tiers(self) -> list[tuple[Tier, str]]:
        tiers = [(tier, self.address) for tier in self.address_tiers()]
        tiers.append((self.account_tier(), self.account))
        tiers.append((self.pair_tier(), f"{self.account}:{self.address}"))
        return tiers

    def keys(self, now: float) -> list[tuple[str, int]]:
        """Every counter a failure adds one to (address tiers, account, pair),
        each with the end of its window (unix seconds)."""
        return [(tier.key(subject, now), tier.reset_at(now)) for tier, subject in self._tiers()]

    def wait_seconds(self, counts: Sequence[int], now: float) -> int:
        """Seconds this attempt must wait (0: go ahead), from the counts of `keys`."""
        assert len(counts) == len(self._tiers())
        *by_address, account, pair = counts
        waits = [
            tier.reset_at(now) - now
            for tier, count in zip(self.address_tiers(), by_address, strict=True)
            if count >= tier.failures_max
        ]
        under_attack = account >= self.account_tier().failures_max
        if under_attack and pair >= self.pair_tier().failures_max:
            waits.append(self.pair_tier().reset_at(now) - now)
        return max(1, math.ceil(max(waits))) if waits else 0

    def alert_due(self, counts: Sequence[int]) -> bool:
        """True for the failure that puts the account under attack (once per window),
        from the counts of `keys` after it was added."""
        return counts[-2] == self.account_tier().failures_max

    def account_window(self, now: float) -> tuple[int, int]:
        return ratelimits.window(now, ACCOUNT_WINDOW_SECONDS)


def sign_in_refusal(wait_seconds: int) -> errors.RateLimited:
    return errors.RateLimited(
        f"Too many failed sign-ins from this network; retry in {wait_seconds} seconds",
        metadata={"limit_class": "sign_in_failures", "retry_after_seconds": str(wait_seconds)},
    )


def retry_headers(error: errors.BankError) -> dict[str, str]:
    """Retry-After (and X-RateLimit-Retry-After) of a refusal that names one."""
    seconds = error.metadata.get("retry_after_seconds")
    if not seconds:
        return {}
    return {"Retry-After": seconds, "X-RateLimit-Retry-After": seconds}


@dataclass(frozen=True, slots=True)
class SignInAlert:
    """`security.sign_in_failures` (outbox, for staff): an account is under attack.

    Written once per account and 15-minute window, when its failed sign-ins
    from every address together reach ACCOUNT_ALERT_FAILURES. Carries no
    password and no email (the user id when the email is a user's);
    `windowStart`/`windowEnd` are RFC 3339 UTC; `lastAddress` is the source
    address of the failure that crossed the threshold.
    """

    user_id: str
    failures: int
    window_start: str
    window_end: str
    last_address: str

    EVENT_TYPE = "security.sign_in_failures"

    def data(self) -> Mapping[str, object]:
        return {
            "userId": self.user_id,
            "failures": self.failures,
            "windowStart": self.window_start,
            "windowEnd": self.window_end,
            "lastAddress": self.last_address,
            "action": "THROTTLED",
        }
