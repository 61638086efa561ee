"""Step-up verification rules: who is challenged, the thresholds, the codes.

A movement made with a person's token (a principal acting for a user) whose
amount is at or above the threshold of the debited account's type waits for
a code (protos/backoffice/v1/challenge.proto). Service clients are never
challenged. Thresholds are exact decimals per account type
(`BANK_STEP_UP_THRESHOLDS="CHECKING=5000.00,BUSINESS=20000.00"`), 5,000.00
for a type not listed, compared in minor units of the movement's currency.

Codes are 6 digits. The EMAIL/SMS one-time code is drawn with `secrets` and
kept as a keyed hash; TOTP codes follow RFC 6238 (SHA-1, 30-second steps,
one step of drift either way), checked with pyotp against the real clock
(the authenticator app's), while a challenge's 5 minutes run on the sandbox
clock like every other deadline of the bank.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from calendar import timegm
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

import pyotp

from server.domain import errors
from server.domain.money import exponent
from server.domain.principal import Principal

TOTP = "TOTP"
EMAIL = "EMAIL"
SMS = "SMS"
METHODS = (TOTP, EMAIL, SMS)

PENDING = "PENDING"
VERIFIED = "VERIFIED"
FAILED = "FAILED"
EXPIRED = "EXPIRED"

ATTEMPTS_MAX = 5
LIFETIME = timedelta(minutes=5)
CODE_DIGITS = 6
TOTP_STEP_SECONDS = 30
TOTP_DRIFT_STEPS = 1
TOTP_ISSUER = "Bank Back Office"
THRESHOLD_DEFAULT = Decimal("5000.00")
ACCOUNT_TYPES = ("CHECKING", "SAVINGS", "BUSINESS")

# A person opens at most this many challenges in an hour, and none once
# their challenges of the hour took this many wrong codes: guessing (an
# app's code, or a one-time code) cannot go on across many challenges.
OPENED_PER_HOUR_MAX = 20
WRONG_CODES_PER_HOUR_MAX = 15
RECENT_WINDOW = timedelta(hours=1)

_CODE_RE = re.compile(r"[0-9]{6}")


class ConfigError(ValueError):
    """BANK_STEP_UP_THRESHOLDS does not read."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Step-up thresholds per account type, in major units (exact)."""

    by_type: dict[str, Decimal] = field(default_factory=dict)
    default: Decimal = THRESHOLD_DEFAULT

    def minor(self, account_type: str, currency: str) -> int:
        """The threshold of `account_type` in minor units of `currency`."""
        major = self.by_type.get(account_type, self.default)
        return int(major.scaleb(exponent(currency)).to_integral_value())


def parse_thresholds(text: str) -> Thresholds:
    """`CHECKING=5000.00,SAVINGS=2500` -> Thresholds; empty: 5,000.00 for every type."""
    found: dict[str, Decimal] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip().upper()
        if not sep or name not in ACCOUNT_TYPES:
            raise ConfigError(
                f"BANK_STEP_UP_THRESHOLDS: {part!r} is not TYPE=AMOUNT with TYPE one of"
                f" {', '.join(ACCOUNT_TYPES)}"
            )
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ConfigError(f"BANK_STEP_UP_THRESHOLDS: {value.strip()!r} is no amount") from None
        if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise ConfigError(
                f"BANK_STEP_UP_THRESHOLDS: {name} needs a positive amount with at most 2 decimals"
            )
        found[name] = amount
    return Thresholds(found)


def is_person(principal: Principal) -> bool:
    """A token acting for a user (authorization-code flow), not a service client."""
    return bool(principal.user_id)


def needs_step_up(
    principal: Principal,
    account_type: str,
    amount_minor: int,
    currency: str,
    thresholds: Thresholds,
) -> bool:
    return is_person(principal) and amount_minor >= thresholds.minor(account_type, currency)


def methods_for(has_totp: bool, has_phone: bool) -> tuple[str, ...]:
    """TOTP when an app is confirmed, EMAIL always, SMS when a phone is on file."""
    return tuple(m for m, on in ((TOTP, has_totp), (EMAIL, True), (SMS, has_phone)) if on)


def new_code() -> str:
    """A one-time code: 6 digits from `secrets`."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(key: bytes, challenge_id: str, code: str) -> str:
    """The keyed hash a one-time code is kept as (bound to its challenge)."""
    message = f"{challenge_id}\0{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def code_matches(key: bytes, challenge_id: str, code: str, stored: str | None) -> bool:
    return stored is not None and hmac.compare_digest(code_hash(key, challenge_id, code), stored)


def check_code(code: str) -> str:
    """The code as given, or VALIDATION_ERROR on `code` (no try is counted)."""
    if not code:
        raise errors.ValidationFailed("code is required", field="code")
    if not _CODE_RE.fullmatch(code):
        raise errors.ValidationFailed(
            f"code must be {CODE_DIGITS} digits", field="code", metadata={"digits": "6"}
        )
    return code


def check_method(method: str, offered: tuple[str, ...]) -> None:
    """`method` ("" for any) must be one the challenge offers."""
    if method and method not in offered:
        raise errors.ValidationFailed(
            f"method {method} is not offered by this challenge (offered: {', '.join(offered)})",
            field="method",
            metadata={"method": method, "offered": ",".join(offered)},
        )


def wrong_code(attempts_used: int) -> errors.BankError:
    remaining = max(ATTEMPTS_MAX - attempts_used, 0)
    return errors.VerificationCodeInvalid(
        "The code is not correct"
        + (f"; {remaining} tries left" if remaining else "; no tries left, the challenge failed"),
        field="code",
        metadata={"attempts_remaining": str(remaining)},
    )


def closed(status: str, challenge_id: str) -> errors.BankError:
    """The refusal for a challenge that can no longer be answered."""
    if status == EXPIRED:
        return errors.ChallengeExpired(
            "The challenge expired; make the request again",
            metadata={"challenge_id": challenge_id},
        )
    return errors.ChallengeFailed(
        f"The challenge failed after {ATTEMPTS_MAX} wrong codes; make the request again",
        metadata={"challenge_id": challenge_id, "attempts_max": str(ATTEMPTS_MAX)},
    )


def is_expired(expires_at: datetime, now: datetime) -> bool:
    return now >= expires_at


def totp_step(instant: datetime) -> int:
    """The 30-second step of a naive-UTC instant."""
    return timegm(instant.timetuple()) // TOTP_STEP_SECONDS


def totp_matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The step (within the drift) whose TOTP code is `code`, else None."""
    app = pyotp.TOTP(secret, digits=CODE_DIGITS, interval=TOTP_STEP_SECONDS)
    current = totp_step(now)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(app.generate_otp(step), code):
            return step
    return None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def otpauth_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret, digits=CODE_DIGITS, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=account_name, issuer_name=TOTP_ISSUER
    )


def check_opening(opened: int, wrong_codes: int, oldest: datetime | None, now: datetime) -> None:
    """RATE_LIMITED (429, Retry-After: when the oldest challenge of the hour
    leaves it) once the person's last hour holds OPENED_PER_HOUR_MAX
    challenges or WRONG_CODES_PER_HOUR_MAX wrong codes."""
    if opened < OPENED_PER_HOUR_MAX and wrong_codes < WRONG_CODES_PER_HOUR_MAX:
        return
    wait = RECENT_WINDOW if oldest is None else oldest + RECENT_WINDOW - now
    seconds = max(1, int(wait.total_seconds()) + 1)
    raise errors.RateLimited(
        "Too many verification challenges in the last hour: try again later",
        metadata={
            "retry_after_seconds": str(seconds),
            "challenges_per_hour_max": str(OPENED_PER_HOUR_MAX),
            "wrong_codes_per_hour_max": str(WRONG_CODES_PER_HOUR_MAX),
        },
    )
