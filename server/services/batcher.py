"""Micro-batching: concurrent callers share one database transaction.

A commit costs a WAL flush and a round trip whatever it carries, so a busy
server posts many movements in one transaction. `MicroBatcher.submit`
blocks its caller until its item is committed (or refused) and answers it
then; nothing is answered before the commit.

Who runs a batch: no thread of its own. A caller that arrives while fewer
than `concurrency` batches are running runs at once, taking with it every
item already waiting (up to `max_items`); a caller that arrives while they
run waits for batch-mates, and the first waiter whose item has waited
`wait_seconds`, or who finds `max_items` waiting, or who is woken by a batch
finishing while fewer than `concurrency` run, takes the queue and runs it.
So a lone caller never waits (its batch holds one item), and under load
batches grow by themselves to what arrives while one commit is in flight.

The batch runs on the leader's thread and database connection. `run` gets
the items in arrival order and returns one result per item, in that order;
a refusal of one item is a result (a `BankError`), not an exception. An
exception raised by `run` (the transaction failed as a whole: the database
went away, the commit failed) reaches every caller of the batch.
"""

from __future__ import annotations

import threading
import time
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
    concurrency: int = 2


@dataclass(eq=False)
class _Slot(Generic[I, R]):
    item: I
    arrived: float
    taken: bool = False
    done: bool = False
    result: R | None = None
    error: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event)


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
        self._lock = threading.Condition()
        self._queue: list[_Slot[I, R]] = []
        self._running = 0

    def submit(self, item: I) -> R:
        """Runs `item` in some batch; returns its result once that batch committed."""
        slot: _Slot[I, R] = _Slot(item, time.monotonic())
        with self._lock:
            self._queue.append(slot)
        while not slot.done:
            batch = self._lead(slot)
            if batch is None:
                break
            # Usually holds `slot`; when more than max_items waited ahead of
            # it, this thread runs the oldest ones and then queues on.
            self._execute(batch)
        slot.finished.wait()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _lead(self, slot: _Slot[I, R]) -> list[_Slot[I, R]] | None:
        """The batch this thread must run next, or None once another took `slot`."""
        knobs = self.knobs
        with self._lock:
            while not slot.taken:
                waited = time.monotonic() - slot.arrived
                if (
                    self._running < knobs.concurrency
                    or len(self._queue) >= knobs.max_items
                    or waited >= knobs.wait_seconds
                ):
                    batch = self._queue[: knobs.max_items]
                    del self._queue[: knobs.max_items]
                    for taken in batch:
                        taken.taken = True
                    self._running += 1
                    return batch
                self._lock.wait(max(knobs.wait_seconds - waited, 0.0001))
        return None

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
        finally:
            with self._lock:
                self._running -= 1
                self.stats.batches += 1
                self.stats.items += len(batch)
                self.stats.largest = max(self.stats.largest, len(batch))
                self._lock.notify_all()
            for slot in batch:
                slot.done = True
                slot.finished.set()
