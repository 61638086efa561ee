"""A Redis for the tests: TEST_REDIS_URL when reachable, else a private redis-server.

With CI=true a Redis must be had (the Redis backend of the rate limits is
tested for real): its absence fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

from tests.common.databases import IN_CI
from tests.common.stack import free_ports

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
START_SECONDS = 10.0


def reachable(url: str) -> bool:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError:
        return False
    return True


@contextmanager
def redis_url() -> Iterator[str]:
    """The URL of a Redis the tests may write to (keys are unique per test)."""
    if reachable(TEST_REDIS_URL):
        yield TEST_REDIS_URL
        return
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail(f"Redis is required in CI: none at {TEST_REDIS_URL}, no redis-server")
        pytest.skip(f"Redis not reachable at {TEST_REDIS_URL} and no redis-server to start")
    (port,) = free_ports(1)
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", directory],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        try:
            deadline = time.monotonic() + START_SECONDS
            while not reachable(url):
                assert process.poll() is None, "redis-server exited"
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)
