"""Step-up verification rules: thresholds, who is challenged, codes, TOTP steps."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pyotp
import pytest

from server.domain import challenges as rules
from server.domain import errors
from server.domain.principal import CUSTOMER, OPERATIONS, Principal

PERSON = Principal(client_id="app", role=CUSTOMER, user_id="usr_alice")
STAFF_PERSON = Principal(client_id="app", role=OPERATIONS, user_id="usr_olga")
SERVICE = Principal(client_id="ops-tool", role=OPERATIONS)


def test_thresholds_default_to_5000_in_each_currency() -> None:
    thresholds = rules.parse_thresholds("")
    assert thresholds.minor("CHECKING", "USD") == 500_000
    assert thresholds.minor("BUSINESS", "JPY") == 5_000


def test_thresholds_per_account_type() -> None:
    thresholds = rules.parse_thresholds(" checking=2500.50 , BUSINESS=20000")
    assert thresholds.by_type == {"CHECKING": Decimal("2500.50"), "BUSINESS": Decimal("20000")}
    assert thresholds.minor("CHECKING", "USD") == 250_050
    assert thresholds.minor("SAVINGS", "USD") == 500_000


@pytest.mark.parametrize(
    "text", ["CHECKING", "LOANS=10", "CHECKING=abc", "CHECKING=0", "CHECKING=-1", "CHECKING=1.001"]
)
def test_bad_thresholds_are_refused(text: str) -> None:
    with pytest.raises(rules.ConfigError):
        rules.parse_thresholds(text)


def test_only_people_at_or_above_the_threshold_are_challenged() -> None:
    thresholds = rules.parse_thresholds("")
    assert rules.needs_step_up(PERSON, "CHECKING", 500_000, "USD", thresholds)
    assert rules.needs_step_up(STAFF_PERSON, "CHECKING", 500_000, "USD", thresholds)
    assert not rules.needs_step_up(PERSON, "CHECKING", 499_999, "USD", thresholds)
    assert not rules.needs_step_up(SERVICE, "CHECKING", 10**9, "USD", thresholds)


def test_methods_offered() -> None:
    assert rules.methods_for(False, False) == ("EMAIL",)
    assert rules.methods_for(True, True) == ("TOTP", "EMAIL", "SMS")


def test_codes_are_six_digits_kept_as_keyed_hashes() -> None:
    code = rules.new_code()
    assert len(code) == 6 and code.isdigit()
    stored = rules.code_hash(b"k" * 32, "chl_a", code)
    assert code not in stored
    assert rules.code_matches(b"k" * 32, "chl_a", code, stored)
    assert not rules.code_matches(b"k" * 32, "chl_b", code, stored)
    assert not rules.code_matches(b"x" * 32, "chl_a", code, stored)
    assert not rules.code_matches(b"k" * 32, "chl_a", code, None)


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "12a456", "\uff11\uff12\uff13\uff14\uff15\uff16", "123456\n"]
)
def test_malformed_codes_are_validation_errors(code: str) -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        rules.check_code(code)
    assert caught.value.reason == "VALIDATION_ERROR" and caught.value.field == "code"


def test_a_wrong_code_says_how_many_tries_are_left() -> None:
    error = rules.wrong_code(2)
    assert (error.reason, error.http_status) == ("VERIFICATION_CODE_INVALID", 422)
    assert error.metadata["attempts_remaining"] == "3"
    assert rules.wrong_code(5).metadata["attempts_remaining"] == "0"


def test_closed_challenges_are_conflicts() -> None:
    assert rules.closed(rules.EXPIRED, "chl_a").reason == "CHALLENGE_EXPIRED"
    assert rules.closed(rules.FAILED, "chl_a").reason == "CHALLENGE_FAILED"
    assert rules.closed(rules.FAILED, "chl_a").http_status == 409


def test_totp_accepts_one_step_of_drift_either_way() -> None:
    secret = rules.new_totp_secret()
    now = datetime(2026, 12, 5, 12, 0, 10)
    step = rules.totp_step(now)
    app = pyotp.TOTP(secret)
    for drift in (-1, 0, 1):
        assert rules.totp_matching_step(secret, app.generate_otp(step + drift), now) == step + drift
    assert rules.totp_matching_step(secret, app.generate_otp(step + 2), now) is None
    uri = rules.otpauth_uri(secret, "alice@example.com")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
