"""The micro-batcher: who runs a batch, what it holds, what each caller gets back."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.services.batcher import Knobs, MicroBatcher


class Recorder:
    """A batch runner that keeps the batches it ran and can be held at a gate."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, items: Sequence[int]) -> list[int]:
        with self.lock:
            self.batches.append(list(items))
        self.entered.set()
        assert self.gate.wait(10)
        return [item * 10 for item in items]


def test_a_lone_caller_runs_at_once_in_a_batch_of_its_own() -> None:
    runner = Recorder()
    batcher = MicroBatcher(runner, Knobs(wait_seconds=5.0, max_items=64, concurrency=1))
    started = time.monotonic()
    assert batcher.submit(7) == 70
    assert time.monotonic() - started < 1.0  # never waits for batch-mates nobody sends
    assert runner.batches == [[7]]


def test_callers_arriving_while_a_batch_runs_share_the_next_one() -> None:
    runner = Recorder()
    runner.gate.clear()
    batcher = MicroBatcher(runner, Knobs(wait_seconds=5.0, max_items=64, concurrency=1))
    with ThreadPoolExecutor(max_workers=12) as pool:
        first = pool.submit(batcher.submit, 0)
        assert runner.entered.wait(5)
        rest = [pool.submit(batcher.submit, item) for item in range(1, 11)]
        time.sleep(0.2)  # all ten queued behind the running batch
        runner.gate.set()
        assert first.result(5) == 0
        # Each caller gets its own item's result.
        assert [future.result(5) for future in rest] == [item * 10 for item in range(1, 11)]
    assert runner.batches[0] == [0]
    assert sorted(runner.batches[1]) == list(range(1, 11))
    assert batcher.stats.batches == 2 and batcher.stats.largest == 10


def test_no_batch_holds_more_than_max_items() -> None:
    runner = Recorder()
    runner.gate.clear()
    batcher = MicroBatcher(runner, Knobs(wait_seconds=5.0, max_items=4, concurrency=1))
    with ThreadPoolExecutor(max_workers=12) as pool:
        first = pool.submit(batcher.submit, 0)
        assert runner.entered.wait(5)
        rest = [pool.submit(batcher.submit, item) for item in range(1, 11)]
        time.sleep(0.2)
        runner.gate.set()
        assert sorted([first.result(5)] + [f.result(5) for f in rest]) == [
            i * 10 for i in range(11)
        ]
    assert max(len(batch) for batch in runner.batches) <= 4
    assert sorted(item for batch in runner.batches for item in batch) == list(range(11))


def test_a_waiting_item_starts_its_own_batch_after_wait_seconds() -> None:
    runner = Recorder()
    runner.gate.clear()
    blocked = MicroBatcher(runner, Knobs(wait_seconds=0.05, max_items=64, concurrency=1))
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(blocked.submit, 1)
        assert runner.entered.wait(5)
        runner.entered.clear()
        second = pool.submit(blocked.submit, 2)
        # The first batch still runs; the second item does not wait for it.
        assert runner.entered.wait(2)
        assert runner.batches == [[1], [2]]
        runner.gate.set()
        assert (first.result(5), second.result(5)) == (10, 20)


def test_a_failed_batch_fails_its_callers_only() -> None:
    failing = {3}

    def run(items: Sequence[int]) -> list[int]:
        if failing & set(items):
            raise RuntimeError("the commit failed")
        return list(items)

    batcher = MicroBatcher(run, Knobs(wait_seconds=0.0, max_items=1, concurrency=4))
    with pytest.raises(RuntimeError, match="the commit failed"):
        batcher.submit(3)
    assert batcher.submit(4) == 4


def test_a_runner_answering_the_wrong_number_of_results_fails_the_batch() -> None:
    batcher = MicroBatcher(lambda items: [1, 2], Knobs(wait_seconds=0.0))
    with pytest.raises(AssertionError, match="2 results for 1 items"):
        batcher.submit(1)


def test_many_callers_all_get_their_own_result() -> None:
    batcher = MicroBatcher(
        lambda items: [item + 1 for item in items],
        Knobs(wait_seconds=0.001, max_items=8, concurrency=2),
    )
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(batcher.submit, range(2_000)))
    assert results == [item + 1 for item in range(2_000)]
    assert batcher.stats.items == 2_000
