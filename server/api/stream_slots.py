"""How many file streams (server-streaming downloads) one process serves at once.

A stream holds a worker thread and a database connection for as long as the
file takes to send, minutes for a large export. Without a bound, one caller
starting a dozen exports would hold most of the threads and every other
call would wait behind them. So each process lets at most
`BANK_WORKER_THREADS // 4` streams (at least 1) run at once, and one caller
(a user, or an API client without a user) at most STREAMS_PER_CALLER_MAX; a
stream beyond either answers 429 RATE_LIMITED with Retry-After before any
work, and the caller tries again in a moment.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from server.domain import errors

STREAMS_PER_CALLER_MAX = 2
RETRY_AFTER_SECONDS = 5


class StreamSlots:
    def __init__(self, total: int, per_caller: int = STREAMS_PER_CALLER_MAX) -> None:
        self.total = max(1, total)
        self.per_caller = per_caller
        self._lock = threading.Lock()
        self._by_caller: Counter[str] = Counter()

    @contextmanager
    def held(self, caller: str) -> Iterator[None]:
        """A slot for `caller` while the block runs, or RateLimited at once."""
        with self._lock:
            running = sum(self._by_caller.values())
            if running >= self.total or self._by_caller[caller] >= self.per_caller:
                mine = self._by_caller[caller] >= self.per_caller
                raise errors.RateLimited(
                    (
                        f"At most {self.per_caller} downloads at once per caller"
                        if mine
                        else "Too many downloads are running"
                    )
                    + f"; retry in {RETRY_AFTER_SECONDS} seconds",
                    metadata={
                        "limit": str(self.per_caller if mine else self.total),
                        "retry_after_seconds": str(RETRY_AFTER_SECONDS),
                    },
                )
            self._by_caller[caller] += 1
        try:
            yield
        finally:
            with self._lock:
                self._by_caller[caller] -= 1
                if self._by_caller[caller] <= 0:
                    del self._by_caller[caller]
