"""Random stress of MicroBatcher: every caller answered with its own result, none stuck,
a leader's batch holds its own item, a failing run reaches exactly its batch."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence

import pytest

from server.services.batcher import Knobs, MicroBatcher


@pytest.mark.parametrize(
    "knobs",
    [
        Knobs(wait_seconds=0.0, max_items=1, concurrency=1),
        Knobs(wait_seconds=0.0, max_items=3, concurrency=1),
        Knobs(wait_seconds=0.001, max_items=4, concurrency=2),
        Knobs(wait_seconds=0.002, max_items=64, concurrency=1),
        Knobs(wait_seconds=0.05, max_items=5, concurrency=3),
    ],
)
def test_stress(knobs: Knobs) -> None:
    rng = random.Random(7)  # noqa: S311 (a schedule, not a secret)
    lock = threading.Lock()
    foreign: list[tuple[int, list[int]]] = []
    runner_of: dict[int, int] = {}

    def run(items: Sequence[tuple[int, int]]) -> list[int]:
        me = threading.get_ident()
        with lock:
            if not any(thread == me for _, thread in items):
                foreign.append((me, [n for n, _ in items]))
            for n, _ in items:
                runner_of[n] = me
            delay = rng.random() * 0.002
            fail = rng.random() < 0.1
        threading.Event().wait(delay)
        if fail:
            raise RuntimeError(f"batch {[n for n, _ in items]}")
        return [n * 2 for n, _ in items]

    batcher: MicroBatcher[tuple[int, int], int] = MicroBatcher(run, knobs)
    answers: dict[int, object] = {}

    def caller(start: int) -> None:
        for n in range(start, start + 40):
            try:
                answers[n] = batcher.submit((n, threading.get_ident()))
            except RuntimeError as exc:
                answers[n] = exc
                assert str(n) in str(exc)

    threads = [threading.Thread(target=caller, args=(i * 1000,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a caller is stuck"
    assert len(answers) == 24 * 40
    for n, answer in answers.items():
        assert answer == n * 2 or isinstance(answer, RuntimeError)
    assert foreign == []
    assert batcher._running == 0 and not batcher._queue
