"""Shared rate-limit counters and nonces: the database (both backends), Redis, leases."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import peewee
import pytest
import redis

from server.domain import errors, ratelimits
from server.store import ratelimit
from server.store.db import database as proxy
from server.store.models import RateLimitCounter, UsedNonce
from tests.common.redis_server import redis_url

LATER = 4_000_000_000  # far in the future (unix seconds)


def _key() -> str:
    return f"cli_{uuid.uuid4().hex[:12]}:write:0"


@pytest.fixture(scope="module")
def redis_server() -> Iterator[str]:
    with redis_url() as url:
        yield url


@pytest.fixture(scope="module")
def redis_counters(redis_server: str) -> ratelimit.RedisCounters:
    return ratelimit.RedisCounters(redis_server)


@pytest.fixture(params=["database", "redis"])
def counters(
    request: pytest.FixtureRequest, database: peewee.Database
) -> Iterator[ratelimit.SharedCounters]:
    """Each shared store, on each database backend (Redis beside it)."""
    del database
    if request.param == "redis":
        yield request.getfixturevalue("redis_counters")
    else:
        yield ratelimit.DatabaseCounters()


def test_take_grants_up_to_the_limit(counters: ratelimit.SharedCounters) -> None:
    key = _key()
    assert counters.take(key, 3, 10, LATER) == (3, 3)
    assert counters.take(key, 3, 10, LATER) == (3, 6)
    assert counters.take(key, 5, 10, LATER) == (4, 10)  # only what is left
    assert counters.take(key, 1, 10, LATER) == (0, 10)
    assert counters.take(key, 1, 10, LATER) == (0, 10)  # refusals spend nothing
    assert counters.take(key, 2, 12, LATER) == (2, 12)  # a raised limit grants again
    assert counters.take(_key(), 20, 10, LATER) == (10, 10)


def test_concurrent_takes_never_over_grant(counters: ratelimit.SharedCounters) -> None:
    key = _key()
    granted: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(15):
            got, _total = counters.take(key, 1, 50, LATER)
            with lock:
                granted.append(got)
        proxy.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 50
    assert len(granted) == 90
    assert counters.take(key, 1, 50, LATER) == (0, 50)


def test_a_nonce_is_claimed_once_per_client(counters: ratelimit.SharedCounters) -> None:
    client, nonce = f"cli_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    assert counters.claim_nonce(client, nonce, LATER) is True
    assert counters.claim_nonce(client, nonce, LATER) is False
    assert counters.claim_nonce(client, nonce, LATER + 999) is False
    assert counters.claim_nonce(f"{client}x", nonce, LATER) is True


def test_peek_reads_counts_without_spending(counters: ratelimit.SharedCounters) -> None:
    """Failed sign-ins are read before a password is checked (server.store.sign_in_throttle)."""
    counted, unknown = _key(), _key()
    counters.take(counted, 3, ratelimits.LIMIT_MAX, LATER)
    assert counters.peek([counted, unknown]) == [3, 0]
    assert counters.peek([counted]) == [3]  # reading spends nothing
    past = _key()
    counters.take(past, 2, 10, int(time.time()) - 10)
    assert counters.peek([past]) == [0]  # an expired window counts nothing


def test_the_database_prunes_what_expired(database: peewee.Database) -> None:
    del database
    counters = ratelimit.DatabaseCounters()
    past = int(time.time()) - 10
    old_key, old_client = _key(), f"cli_{uuid.uuid4().hex[:8]}"
    counters.take(old_key, 1, 5, past)
    counters.claim_nonce(old_client, "old-nonce-0123456789", past)
    fresh = _key()
    counters._next_prune = 0.0  # due now
    counters.take(fresh, 1, 5, LATER)
    assert RateLimitCounter.get_or_none(RateLimitCounter.key == old_key) is None
    assert UsedNonce.get_or_none(UsedNonce.client_id == old_client) is None
    row = RateLimitCounter.get(RateLimitCounter.key == fresh)
    assert row.count == 1
    assert row.expires_at == datetime.fromtimestamp(LATER, UTC).replace(tzinfo=None)


def test_redis_keys_expire_with_their_window(
    redis_server: str, redis_counters: ratelimit.RedisCounters
) -> None:
    key, expires = _key(), int(time.time()) + 3600
    redis_counters.take(key, 1, 5, expires)
    client = redis.Redis.from_url(redis_server)
    assert 3500 < client.ttl(f"bank:rl:{key}") <= 3600
    nonce = uuid.uuid4().hex
    redis_counters.claim_nonce("cli_x", nonce, expires)
    assert 3500 < client.ttl(f"bank:nonce:cli_x:{nonce}") <= 3600


def test_an_unreachable_redis_fails_closed() -> None:
    counters = ratelimit.RedisCounters("redis://127.0.0.1:1/0")
    with pytest.raises(errors.Unavailable):
        counters.take(_key(), 1, 5, LATER)
    with pytest.raises(errors.Unavailable):
        counters.claim_nonce("cli_x", "n" * 20, LATER)


# --- leases (no database: a counting fake) ----------------------------------------------------


class FakeCounters:
    """One shared counter store for several Limiters (several processes)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.takes = 0

    def take(self, key: str, want: int, limit: int, expires_at: int) -> tuple[int, int]:
        del expires_at
        self.takes += 1
        count = self.counts.get(key, 0)
        grant = min(want, max(limit - count, 0))
        self.counts[key] = count + grant
        return grant, count + grant

    def claim_nonce(self, client_id: str, nonce: str, expires_at: int) -> bool:
        raise AssertionError("not used")


NOW = 1_800_000_000.0


def test_small_limits_are_counted_call_by_call() -> None:
    shared = FakeCounters()
    limiter = ratelimit.Limiter(shared)
    usages = [limiter.spend("c", ratelimits.ACCOUNT_CREATE, 10, NOW) for _ in range(11)]
    assert [usage.remaining for usage in usages[:10]] == list(range(9, -1, -1))
    assert [usage.allowed for usage in usages] == [True] * 10 + [False]
    assert usages[0].reset_at == 1_800_000_000 // 60 * 60 + 60
    assert shared.takes == 11
    # Once refused, this process answers without the store until the window ends.
    assert not limiter.spend("c", ratelimits.ACCOUNT_CREATE, 10, NOW).allowed
    assert shared.takes == 11
    assert limiter.spend("c", ratelimits.ACCOUNT_CREATE, 10, NOW + 60).allowed


def test_large_limits_lease_slices() -> None:
    shared = FakeCounters()
    limiter = ratelimit.Limiter(shared)
    usages = [limiter.spend("c", ratelimits.READ, 1000, NOW) for _ in range(25)]
    assert [usage.remaining for usage in usages] == list(range(999, 974, -1))
    assert shared.takes == 3  # slices of 10


def test_processes_together_never_exceed_the_limit() -> None:
    shared = FakeCounters()
    first, second = ratelimit.Limiter(shared), ratelimit.Limiter(shared)
    allowed = 0
    for _ in range(400):
        for limiter in (first, second):
            allowed += limiter.spend("c", ratelimits.WRITE, 500, NOW).allowed
    assert allowed == 500
    # Every unit was leased and spent: nothing was lost.
    assert sum(shared.counts.values()) == 500


def test_a_unit_given_back_is_spent_again() -> None:
    limiter = ratelimit.Limiter(FakeCounters())
    first = limiter.spend("c", ratelimits.PASSWORD_RESET, 1, NOW)
    assert first.allowed
    assert not limiter.spend("c", ratelimits.PASSWORD_RESET, 1, NOW).allowed
    limiter.give_back("c", first)
    assert limiter.spend("c", ratelimits.PASSWORD_RESET, 1, NOW).allowed


def test_a_changed_limit_applies_at_once() -> None:
    limiter = ratelimit.Limiter(FakeCounters())
    assert limiter.spend("c", ratelimits.WRITE, 1, NOW).allowed
    assert not limiter.spend("c", ratelimits.WRITE, 1, NOW).allowed
    raised = limiter.spend("c", ratelimits.WRITE, 3, NOW)
    assert raised.allowed and raised.remaining == 1 and raised.limit == 3


def test_clients_and_classes_have_separate_budgets() -> None:
    limiter = ratelimit.Limiter(FakeCounters())
    assert limiter.spend("a", ratelimits.WRITE, 1, NOW).allowed
    assert limiter.spend("b", ratelimits.WRITE, 1, NOW).allowed
    assert limiter.spend("a", ratelimits.READ, 1, NOW).allowed
    assert not limiter.spend("a", ratelimits.WRITE, 1, NOW).allowed
