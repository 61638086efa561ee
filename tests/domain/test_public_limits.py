"""Sign-in throttling and the public endpoints' keys (server.domain.public_limits)."""

from __future__ import annotations

from server.domain import errors, public_limits
from server.domain.public_limits import SignInThrottle

# 10:00:30 UTC on a day: 30 s into its minute, 30 s into its quarter hour.
NOW = 1_764_000_030.0


def _throttle(address: str = "ip:203.0.113.7", email: str = "alice@example.com") -> SignInThrottle:
    return SignInThrottle(
        address=address, account=public_limits.account_key(email), failures_per_minute=5
    )


def test_no_failures_no_wait() -> None:
    assert _throttle().wait_seconds([0, 0, 0, 0, 0], NOW) == 0


def test_an_address_over_a_tier_waits_until_the_tier_window_ends() -> None:
    throttle = _throttle()
    # 5 failures this minute: wait for the minute to end (30 s from NOW).
    assert throttle.wait_seconds([5, 5, 5, 5, 5], NOW) == 30
    # 15 in the quarter hour: the quarter hour's end (14 min 30 s away).
    assert throttle.wait_seconds([0, 15, 15, 5, 0], NOW) == 870
    # 30 in the hour: the hour's end, the longest wait.
    assert throttle.wait_seconds([0, 0, 30, 0, 0], NOW) == 3570


def test_an_account_under_attack_stops_only_the_addresses_that_failed_on_it() -> None:
    throttle = _throttle()
    under_attack = public_limits.ACCOUNT_ALERT_FAILURES
    # An address that has not failed on the account (the owner) goes ahead.
    assert throttle.wait_seconds([0, 0, 0, under_attack, 0], NOW) == 0
    # One that has waits until the account's window ends.
    assert throttle.wait_seconds([1, 1, 1, under_attack, 1], NOW) == 870
    # Below the threshold an address's own failures on the account are not enough.
    assert throttle.wait_seconds([1, 1, 1, under_attack - 1, 1], NOW) == 0


def test_keys_name_each_window_and_hold_no_email() -> None:
    keys = _throttle().keys(NOW)
    assert len(keys) == 5
    assert all("alice" not in key for key, _ in keys)
    assert keys[0] == ("signin:ip:203.0.113.7:60:1764000000", 1_764_000_060)
    # Unknown and known emails are counted alike; case and spaces do not matter.
    assert public_limits.account_key(" Alice@Example.com ") == public_limits.account_key(
        "alice@example.com"
    )


def test_the_alert_is_due_once_per_window() -> None:
    throttle = _throttle()
    threshold = public_limits.ACCOUNT_ALERT_FAILURES
    assert not throttle.alert_due([1, 1, 1, threshold - 1, 1])
    assert throttle.alert_due([1, 1, 1, threshold, 1])
    assert not throttle.alert_due([1, 1, 1, threshold + 1, 1])


def test_retry_headers_come_from_the_refusal() -> None:
    refusal = public_limits.sign_in_refusal(42)
    assert isinstance(refusal, errors.RateLimited)
    assert public_limits.retry_headers(refusal) == {
        "Retry-After": "42",
        "X-RateLimit-Retry-After": "42",
    }
    assert public_limits.retry_headers(errors.Unavailable()) == {}


def test_address_keys() -> None:
    assert public_limits.address_key("2001:db8::1") == "ip:2001:db8::1"
    assert public_limits.address_key(None) == "ip:unknown"
