"""Shared rate-limit counters and used signature nonces: the database or Redis.

Every server process of a deployment must see the same counters, so they
live in a shared store behind one interface (`SharedCounters`):
- `DatabaseCounters` (the default): one upsert per counter increment
  (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, atomic on both
  databases; SQLite takes the write lock up front). On PostgreSQL the table
  is UNLOGGED and the commit does not wait for the WAL flush.
- `RedisCounters` (REDIS_URL set): one Lua script call per increment
  (atomic in Redis), keys expiring with their window; nonces are `SET NX`
  with an absolute expiry.

`Limiter` spends budget for calls. It takes units from the shared counter
in leases (`ratelimits.lease_size`: 1% of the limit, 1 to 1000 units) and
spends them locally, so that a generous limit costs one store write per
lease, not per call, while small limits (under 200) stay exact. A lease
never grants more than the shared counter has left, so all processes
together never serve more than the limit; units a process leased and did
not spend before the window ended are lost, which can refuse a call early
by at most one lease per other process (and makes X-RateLimit-Remaining as
much lower).

A store that cannot be reached answers UNAVAILABLE (503): the limits and the
nonces fail closed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

import redis

from server.config import Settings
from server.domain import errors, ratelimits
from server.domain.ratelimits import LimitClass, Usage
from server.store import tx
from server.store.db import database, is_postgres

log = logging.getLogger(__name__)

# Counters outlive their window a little, for servers whose clocks disagree.
EXPIRY_SLACK_SECONDS = 60
PRUNE_INTERVAL_SECONDS = 300.0
REDIS_TIMEOUT_SECONDS = 1.0
REDIS_PREFIX = "bank:"
LEASES_MAX = 100_000


class SharedCounters(Protocol):
    """What every server process shares: counters per key, used nonces."""

    def take(self, key: str, want: int, limit: int, expires_at: int) -> tuple[int, int]:
        """Grants up to `want` more units of `key`, never past `limit`.

        Returns (units granted, units granted in total). The key is forgotten
        after `expires_at` (unix seconds).
        """
        ...

    def claim_nonce(self, client_id: str, nonce: str, expires_at: int) -> bool:
        """True the first time `nonce` is claimed for the client (remembered until expires_at)."""
        ...

    def peek(self, keys: list[str]) -> list[int]:
        """The units granted so far of each key (0 for an unknown or expired key)."""
        ...


def _utc(unix_seconds: float) -> datetime:
    return datetime.fromtimestamp(unix_seconds, UTC).replace(tzinfo=None)


class DatabaseCounters:
    """Counters in `rate_limit_counters`, nonces in `used_nonces`."""

    def __init__(self) -> None:
        self._prune_lock = threading.Lock()
        self._next_prune = 0.0

    def take(self, key: str, want: int, limit: int, expires_at: int) -> tuple[int, int]:
        assert want > 0 and limit > 0
        postgres = is_postgres()
        p = "%s" if postgres else "?"
        least, greatest = ("LEAST", "GREATEST") if postgres else ("MIN", "MAX")
        # The grant is computed from the row's value before the update, in the
        # statement itself, so concurrent increments never over-grant.
        grant = f"{least}({p}, {greatest}({p} - rate_limit_counters.count, 0))"
        statement = (
            "INSERT INTO rate_limit_counters (key, count, granted, expires_at)"
            f" VALUES ({p}, {p}, {p}, {p})"
            f" ON CONFLICT (key) DO UPDATE SET granted = {grant},"
            f" count = rate_limit_counters.count + {grant}"
            " RETURNING granted, count"
        )
        first = min(want, limit)
        params = (key, first, first, _utc(expires_at), want, limit, want, limit)

        def work() -> tuple[int, int]:
            if postgres:
                # Counters need no durability: losing the last increments in
                # a crash only gives some budget back.
                database.execute_sql("SET LOCAL synchronous_commit TO OFF")
            row = database.execute_sql(statement, params).fetchone()
            return int(row[0]), int(row[1])

        result = tx.write(work)
        self._maybe_prune()
        return result

    def peek(self, keys: list[str]) -> list[int]:
        p = "%s" if is_postgres() else "?"
        statement = (
            "SELECT key, count FROM rate_limit_counters"
            f" WHERE key IN ({', '.join([p] * len(keys))}) AND expires_at >= {p}"
        )
        rows = database.execute_sql(statement, (*keys, _utc(time.time()))).fetchall()
        found = {str(key): int(count) for key, count in rows}
        return [found.get(key, 0) for key in keys]

    def claim_nonce(self, client_id: str, nonce: str, expires_at: int) -> bool:
        p = "%s" if is_postgres() else "?"
        statement = (
            "INSERT INTO used_nonces (client_id, nonce, expires_at)"
            f" VALUES ({p}, {p}, {p}) ON CONFLICT (client_id, nonce) DO NOTHING"
        )

        def work() -> bool:
            cursor = database.execute_sql(statement, (client_id, nonce, _utc(expires_at)))
            return bool(cursor.rowcount == 1)

        claimed = tx.write(work)
        self._maybe_prune()
        return claimed

    def _maybe_prune(self) -> None:
        """Deletes expired counters and nonces, at most every PRUNE_INTERVAL_SECONDS."""
        with self._prune_lock:
            if time.monotonic() < self._next_prune:
                return
            self._next_prune = time.monotonic() + PRUNE_INTERVAL_SECONDS
        p = "%s" if is_postgres() else "?"
        cutoff = _utc(time.time())

        def work() -> None:
            database.execute_sql(
                f"DELETE FROM rate_limit_counters WHERE expires_at < {p}", (cutoff,)
            )
            database.execute_sql(f"DELETE FROM used_nonces WHERE expires_at < {p}", (cutoff,))

        tx.write(work)


# KEYS[1] counter; ARGV want, limit, expiry (unix seconds). Returns {granted, total}.
_TAKE_SCRIPT = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = math.min(tonumber(ARGV[1]), math.max(tonumber(ARGV[2]) - count, 0))
if grant > 0 then
  count = redis.call('INCRBY', KEYS[1], grant)
end
redis.call('EXPIREAT', KEYS[1], ARGV[3])
return {grant, count}
"""


class RedisCounters:
    """Counters and nonces in Redis (keys prefixed `bank:`)."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            health_check_interval=30,
        )
        self._take = self._redis.register_script(_TAKE_SCRIPT)

    def take(self, key: str, want: int, limit: int, expires_at: int) -> tuple[int, int]:
        assert want > 0 and limit > 0
        reply: Any = self._call(
            lambda: self._take(keys=[f"{REDIS_PREFIX}rl:{key}"], args=[want, limit, expires_at])
        )
        return int(reply[0]), int(reply[1])

    def peek(self, keys: list[str]) -> list[int]:
        names = [f"{REDIS_PREFIX}rl:{key}" for key in keys]
        values: Any = self._call(lambda: self._redis.mget(names))
        return [int(value) if value is not None else 0 for value in values]

    def claim_nonce(self, client_id: str, nonce: str, expires_at: int) -> bool:
        name = f"{REDIS_PREFIX}nonce:{client_id}:{nonce}"
        return bool(self._call(lambda: self._redis.set(name, 1, nx=True, exat=expires_at)))

    @staticmethod
    def _call(work: Any) -> Any:
        try:
            return work()
        except redis.RedisError as exc:
            log.error("redis unavailable", extra={"error": type(exc).__name__})
            raise errors.Unavailable("The rate-limit store is unavailable; retry shortly") from exc


@dataclass
class _Lease:
    """This process's share of one counter (one client, class and window)."""

    limit: int
    reset_at: int  # the end of the window (unix seconds)
    count: int = 0  # units granted by the shared counter to all processes, as last seen
    unused: int = 0  # units leased here and not spent yet
    exhausted: bool = False  # the shared counter had nothing left for this limit


class Limiter:
    """Spends clients' budgets, leasing units from the shared counters."""

    def __init__(self, counters: SharedCounters) -> None:
        self.counters = counters
        self._lock = threading.Lock()
        self._leases: dict[str, _Lease] = {}

    @staticmethod
    def _key(client_id: str, limit_class: LimitClass, window_start: int) -> str:
        return f"{client_id}:{limit_class.name}:{window_start}"

    def spend(self, client_id: str, limit_class: LimitClass, limit: int, now: float) -> Usage:
        """One unit for a call; `Usage.allowed` is False when the budget is spent."""
        start, end = ratelimits.window(now, limit_class.window_seconds)
        key = self._key(client_id, limit_class, start)
        with self._lock:
            lease = self._leases.get(key)
            if lease is not None and lease.limit == limit:
                usage = _spend_leased(lease, limit_class, end)
                if usage is not None:
                    return usage
        # No lock held while the shared store is written.
        granted, count = self.counters.take(
            key, ratelimits.lease_size(limit), limit, end + EXPIRY_SLACK_SECONDS
        )
        with self._lock:
            lease = self._leases.get(key)
            if lease is None:
                self._make_room(now)
                lease = self._leases[key] = _Lease(limit, end)
            lease.limit = limit
            lease.count = max(lease.count, count)
            lease.unused += granted
            lease.exhausted = lease.unused == 0
            usage = _spend_leased(lease, limit_class, end)
            assert usage is not None
            return usage

    def give_back(self, client_id: str, usage: Usage) -> None:
        """Returns the unit of an allowed `usage` (its call was refused by another budget)."""
        assert usage.allowed
        start = usage.reset_at - usage.limit_class.window_seconds
        with self._lock:
            lease = self._leases.get(self._key(client_id, usage.limit_class, start))
            if lease is not None:
                lease.unused += 1
                lease.exhausted = False

    def _make_room(self, now: float) -> None:
        if len(self._leases) < LEASES_MAX:
            return
        # Leases of windows that ended are worthless; if that is not enough,
        # unspent units are dropped (budget lost, never budget invented).
        live = {key: lease for key, lease in self._leases.items() if lease.reset_at > now}
        self._leases = live if len(live) < LEASES_MAX else {}


def _spend_leased(lease: _Lease, limit_class: LimitClass, reset_at: int) -> Usage | None:
    """Spends a leased unit; a refusal when the counter is exhausted; None: lease more."""
    if lease.unused > 0:
        lease.unused -= 1
        remaining = lease.limit - lease.count + lease.unused
        return Usage(limit_class, lease.limit, remaining, reset_at, allowed=True)
    if lease.exhausted:
        return Usage(limit_class, lease.limit, 0, reset_at, allowed=False)
    return None


@cache
def counters(redis_url: str) -> SharedCounters:
    """The process's shared store: Redis when configured, else the database."""
    return RedisCounters(redis_url) if redis_url else DatabaseCounters()


@cache
def limiter(settings: Settings) -> Limiter:
    return Limiter(counters(settings.redis_url))
