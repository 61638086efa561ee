"""The hashing pool sheds load instead of queueing it (server.hashing)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import replace

import pytest

from server import hashing
from server.config import Settings
from server.domain import passwords


def test_a_full_pool_refuses_at_once_and_recovers() -> None:
    pool = hashing.HashPool(threads=1, queue=1)
    release = threading.Event()
    running = threading.Event()

    def blocker() -> int:
        running.set()
        release.wait(10)
        return 1

    results: list[int] = []
    first = threading.Thread(target=lambda: results.append(pool.run(blocker)))
    first.start()
    assert running.wait(10)
    second = threading.Thread(target=lambda: results.append(pool.run(lambda: 2)))
    second.start()
    time.sleep(0.05)  # the second waits in the queue
    started = time.monotonic()
    with pytest.raises(hashing.HashingBusy) as refused:
        pool.run(lambda: 3)
    assert time.monotonic() - started < 0.5
    assert refused.value.http_status == 503
    assert refused.value.metadata["retry_after_seconds"] == "1"
    release.set()
    first.join(10)
    second.join(10)
    assert sorted(results) == [1, 2]
    assert pool.run(lambda: 4) == 4


def test_fast_hashes_never_wait_for_the_pool() -> None:
    settings = replace(Settings.from_env({}), hash_threads=1, hash_queue=0)
    secret = secrets.token_urlsafe(32)
    release = threading.Event()
    pool = hashing.pool(1, 0)
    busy = threading.Thread(target=lambda: pool.run(lambda: release.wait(10)))
    busy.start()
    time.sleep(0.05)
    try:
        with pytest.raises(hashing.HashingBusy):
            hashing.verify(settings, passwords.hash_secret("a person's secret"), "x")
        assert hashing.verify(settings, passwords.fast_hash(secret), secret)
    finally:
        release.set()
        busy.join(10)
