"""Rate-limit rules (server/domain/ratelimits.py); no network, no DB."""

from __future__ import annotations

import pytest

from server.domain import errors, ratelimits
from server.domain.ratelimits import ACCOUNT_CREATE, PASSWORD_RESET, READ, WRITE, Usage


def test_the_defaults_are_the_seeds_numbers() -> None:
    assert ratelimits.limits_from({}) == {
        "read": 1000,
        "write": 100,
        "account_create": 10,
        "password_reset": 5,
    }
    assert (READ.window_seconds, WRITE.window_seconds) == (3600, 3600)
    assert (ACCOUNT_CREATE.window_seconds, PASSWORD_RESET.window_seconds) == (60, 60)


def test_per_client_limits_override_the_defaults() -> None:
    limits = ratelimits.limits_from(
        {"read_per_hour": 5, "account_create_per_minute": 1_000_000_000, "unknown": 3}
    )
    assert limits == {
        "read": 5,
        "write": 100,
        "account_create": 1_000_000_000,
        "password_reset": 5,
    }


@pytest.mark.parametrize("value", [0, -1, "10", 1.5, True, None, [], 1 << 41])
def test_unusable_values_mean_the_default(value: object) -> None:
    assert ratelimits.limits_from({"write_per_hour": value})["write"] == 100


def test_fixed_windows_are_aligned_to_the_clock() -> None:
    assert ratelimits.window(7200.0, 3600) == (7200, 10800)
    assert ratelimits.window(10799.9, 3600) == (7200, 10800)
    assert ratelimits.window(125.5, 60) == (120, 180)


@pytest.mark.parametrize(
    ("limit", "lease"),
    [(1, 1), (10, 1), (100, 1), (199, 1), (200, 2), (1000, 10), (10**6, 1000), (10**9, 1000)],
)
def test_lease_sizes(limit: int, lease: int) -> None:
    assert ratelimits.lease_size(limit) == lease


def test_headers_describe_the_tightest_budget() -> None:
    write = Usage(WRITE, 100, 40, 3600, allowed=True)
    create = Usage(ACCOUNT_CREATE, 10, 9, 60, allowed=True)
    assert ratelimits.tightest([create, write]) is create
    assert ratelimits.tightest([Usage(WRITE, 100, 3, 3600, True), create]).remaining == 3
    assert ratelimits.headers(create, 30.0) == {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "9",
        "X-RateLimit-Reset": "60",
    }


def test_a_refusal_has_retry_after() -> None:
    refused = Usage(ACCOUNT_CREATE, 10, 0, 120, allowed=False)
    assert ratelimits.tightest([Usage(WRITE, 100, 1, 3600, True), refused]) is refused
    headers = ratelimits.headers(refused, 100.2)
    assert headers["Retry-After"] == headers["X-RateLimit-Retry-After"] == "20"
    assert headers["X-RateLimit-Remaining"] == "0"
    error = ratelimits.refusal(refused, 100.2)
    assert isinstance(error, errors.RateLimited)
    assert (error.http_status, error.reason, error.grpc_status) == (
        429,
        "RATE_LIMITED",
        "RESOURCE_EXHAUSTED",
    )
    assert error.metadata == {
        "limit_class": "account_create",
        "limit": "10",
        "window": "minute",
        "retry_after_seconds": "20",
    }
    assert "10 account creations per minute" in error.message


def test_retry_after_is_at_least_one_second() -> None:
    assert Usage(READ, 1, 0, 100, allowed=False).retry_after(99.99) == 1
    assert Usage(READ, 1, 0, 100, allowed=False).retry_after(100.5) == 1


def test_remaining_is_never_negative_in_headers() -> None:
    lowered = Usage(READ, 5, -20, 3600, allowed=True)
    assert ratelimits.headers(lowered, 0)["X-RateLimit-Remaining"] == "0"
