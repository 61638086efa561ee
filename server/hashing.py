"""Argon2 checks on a small bounded pool of their own, which sheds load instead of queueing.

An Argon2id check costs tens of milliseconds of CPU and 64 MiB of memory.
Run on the gRPC worker threads, a flood of wrong secrets at /oauth/token or
the sign-in page would take every worker thread and both cores, and an
authenticated read would wait behind it for seconds. So every Argon2 hash
and check runs here instead (sign-ins, client secrets, new users' and reset
passwords, card PINs): `BANK_HASH_THREADS` threads
(default 2) and at most `BANK_HASH_QUEUE` checks waiting (default 8). A check
that finds the pool full is refused at once with `HashingBusy` (503
UNAVAILABLE, Retry-After 1) rather than queued; the worker thread is free
again immediately. argon2-cffi releases the GIL while it hashes, so the API's
threads keep running Python meanwhile.

Fast hashes (`sha256:`, server-made client secrets) are checked inline: they
cost microseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import TypeVar

from server.config import Settings
from server.domain import errors, passwords

T = TypeVar("T")
# A queued check never waits longer than the queue ahead of it; this only
# bounds a broken pool.
WAIT_SECONDS_MAX = 30.0
RETRY_AFTER_SECONDS = 1


class HashingBusy(errors.Unavailable):
    """Every hashing thread is busy and the queue is full: retry shortly (503)."""

    default_message = "Too many sign-ins are being checked right now; retry in a second"

    def __init__(self) -> None:
        super().__init__(metadata={"retry_after_seconds": str(RETRY_AFTER_SECONDS)})


class HashPool:
    """`threads` threads and at most `queue` waiting tasks; beyond that, HashingBusy."""

    def __init__(self, threads: int, queue: int) -> None:
        assert threads >= 1 and queue >= 0
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hash")
        self._slots = threading.BoundedSemaphore(threads + queue)

    def run(self, work: Callable[[], T]) -> T:
        if not self._slots.acquire(blocking=False):
            raise HashingBusy()
        try:
            future: Future[T] = self._executor.submit(work)
        except BaseException:
            self._slots.release()
            raise
        # The slot is freed when the work ends, even if this caller stopped waiting.
        future.add_done_callback(lambda _: self._slots.release())
        return future.result(timeout=WAIT_SECONDS_MAX)


@cache
def pool(threads: int, queue: int) -> HashPool:
    return HashPool(threads, queue)


def _pool(settings: Settings) -> HashPool:
    return pool(settings.hash_threads, settings.hash_queue)


def verify(settings: Settings, secret_hash: str, secret: str) -> bool:
    """`passwords.verify_secret`, on the pool when the hash is a slow one."""
    if passwords.is_fast(secret_hash):
        return passwords.verify_secret(secret_hash, secret)
    return _pool(settings).run(lambda: passwords.verify_secret(secret_hash, secret))


def hash_secret(settings: Settings, secret: str) -> str:
    """`passwords.hash_secret` (Argon2id), on the pool."""
    return _pool(settings).run(lambda: passwords.hash_secret(secret))
