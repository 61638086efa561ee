"""Micro-batching: concurrent callers share one database transaction.

A commit costs a WAL flush and a round trip whatever it carries, so a busy
server posts many movements in one transaction. `MicroBatcher.submit`
blocks its caller until its item is committed (or refused) and answers it
then; nothing is answered before the commit.

Who runs a batch: no thread of its own. A caller that arrives while fewer
than `concurrency` batches are running runs at once, taking with it every
item already waiting (up to `max_items`). A caller that arrives while they
run queues; the queue is taken as the next batch by whichever comes first:
a batch finishing (its thread hands the queue's oldest item the lead), the
queue reaching `max_items` (the caller that fills it leads), or the oldest
item having waited `wait_seconds` (it leads, beyond `concurrency`). So a
lone caller never waits (its batch holds one item), and under load batches
grow by themselves to what arrives while one commit is in flight.

Each caller sleeps on an event of its own: a finishing batch wakes its own
callers and at most one leader, never every waiting thread.

The batch runs on the leader's thread and database connection. `run` gets
the items in arrival order and returns one result per item, in that order;
a refusal of one item is a result (a `BankError`), not an exception. An
exception raised by `run` (the transaction failed as a whole: the database
went away, the commit failed) reaches every caller of the batch.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

I = TypeVar("I")  # noqa: E741 (an item, as in Generic[I, R])
R = TypeVar("R")


@dataclass(frozen=True)
class Knobs:
    """How long an item may wait for batch-mates, and how big a batch gets."""

    wait_seconds: float = 0.002
    max_items: int = 64
    # Batches running at once per process (each its own transaction).
    concurrency: int = 1


@dataclass(eq=False)
class _Slot(Generic[I, R]):
    item: I
    arrived: float
    batch: list[_Slot[I, R]] | None = None  # the batch holding it, once taken
    run: list[_Slot[I, R]] | None = None  # a batch this slot's thread must run
    done: bool = False  # its batch has ended: result or error is set
    result: R | None = None
    error: BaseException | None = None
    woken: threading.Event = field(default_factory=threading.Event)


@dataclass
class Stats:
    """Counters since start (for the bench and the logs)."""

    batches: int = 0
    items: int = 0
    largest: int = 0


class MicroBatcher(Generic[I, R]):
    def __init__(self, run: Callable[[Sequence[I]], Sequence[R]], knobs: Knobs) -> None:
        assert knobs.max_items >= 1 and knobs.concurrency >= 1 and knobs.wait_seconds >= 0
        self._run = run
        self.knobs = knobs
        self.stats = Stats()
        self._lock = threading.Lock()
        self._queue: deque[_Slot[I, R]] = deque()
        self._running = 0

    def submit(self, item: I) -> R:
        """Runs `item` in some batch; returns its result once that batch committed."""
        slot: _Slot[I, R] = _Slot(item, time.monotonic())
        with self._lock:
            self._queue.append(slot)
            if self._running < self.knobs.concurrency or len(self._queue) >= self.knobs.max_items:
                self._take(slot)
        while True:
            if slot.run is not None:
                batch, slot.run = slot.run, None
                self._execute(batch)
                continue  # usually its own batch; else older items ahead of it
            if slot.done:
                break
            if slot.batch is None:
                # Queued: wait for a leader, or lead once it has waited long enough.
                remaining = self.knobs.wait_seconds - (time.monotonic() - slot.arrived)
                if not slot.woken.wait(max(remaining, 0.0)):
                    with self._lock:
                        if slot.batch is None:
                            self._take(slot)
                continue
            slot.woken.wait()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _take(self, leader: _Slot[I, R]) -> None:
        """Under the lock: the queue's oldest items become `leader`'s batch to run."""
        count = min(len(self._queue), self.knobs.max_items)
        batch = [self._queue.popleft() for _ in range(count)]
        for taken in batch:
            taken.batch = batch
        leader.run = batch
        self._running += 1

    def _execute(self, batch: list[_Slot[I, R]]) -> None:
        try:
            results = self._run([slot.item for slot in batch])
            if len(results) != len(batch):
                raise AssertionError(f"{len(results)} results for {len(batch)} items")
            for slot, result in zip(batch, results, strict=True):
                slot.result = result
        except BaseException as exc:  # every caller of the batch learns it
            for slot in batch:
                slot.error = exc
        next_leader = None
        with self._lock:
            self._running -= 1
            self.stats.batches += 1
            self.stats.items += len(batch)
            self.stats.largest = max(self.stats.largest, len(batch))
            if self._queue and self._running < self.knobs.concurrency:
                next_leader = self._queue[0]
                self._take(next_leader)
        for slot in batch:
            slot.done = True
            slot.woken.set()
        if next_leader is not None:
            next_leader.woken.set()
