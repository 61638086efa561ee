"""The webhook delivery worker: its own process (`python -m server webhooks`),
started beside the server by the stack.

- The main thread, every BANK_WEBHOOK_POLL_MS (at once while there is
  more, or as soon as a receiver at its share has room again), fans new
  outbox events out to deliveries and claims due deliveries, as many as
  there are free sending slots (BANK_WEBHOOK_CONCURRENCY).
- Each claimed delivery is sent by one of that many sending threads
  (server.workers.webhook_sender), outside any transaction.
- A recorder thread writes the attempts that finished, all those waiting in
  one transaction, so the database sees a few transactions per second, not
  one per attempt. A sending slot (and the receiver's share) is free again
  once its attempt has its answer, while the recorder writes it: the next
  claim overlaps the writing of the last attempts. Attempts claimed and not
  yet recorded are at most RECORD_BACKLOG_PER_SLOT per slot.
- About once a day (the first an hour after start) events past their 30
  days are pruned with their finished deliveries.

Delivery is at least once: a claimed delivery is leased for 60 s. Killed at
any point, the worker loses only leases; their deliveries are sent again,
with the same `webhook-id`, once the leases pass. On SIGTERM (or SIGINT) it
claims nothing more, lets the attempts in flight finish (10 s at most) and
records them, then exits.
"""

from __future__ import annotations

import functools
import logging
import queue
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from types import FrameType
from typing import TypeVar

from server import metrics
from server.config import Settings
from server.crypto.fields import FieldSealer, LiveKeyring
from server.domain import webhook_delivery as rules
from server.domain import webhooks
from server.services import webhook_delivery as deliveries
from server.services.webhook_delivery import Job
from server.store import db as store_db
from server.store.db import per_use_connection
from server.workers.webhook_sender import HostCheck, Sender

log = logging.getLogger(__name__)
T = TypeVar("T")

PRUNE_FIRST_SECONDS = 3600.0
PRUNE_EVERY_SECONDS = 24 * 3600.0
ERROR_BACKOFF_SECONDS_MAX = 5.0
# Database connections of the worker process: the main and recorder threads, and spare.
WORKER_CONNECTIONS = 2
# How long a wait lasts at most before the worker looks at its stop again.
STOP_CHECK_SECONDS = 0.1
ORPHAN_SWEEP_SECONDS = 10.0
RECORD_BACKLOG_PER_SLOT = 4


@dataclass(frozen=True)
class Knobs:
    """How one worker runs (BANK_WEBHOOK_* settings; the rest for tests)."""

    concurrency: int = 64
    poll_seconds: float = 0.1
    sandbox: bool = True
    lease: timedelta = deliveries.LEASE
    schedule: Sequence[timedelta] = rules.SCHEDULE
    check: HostCheck = webhooks.check_host
    # Sending slots one receiver (host and port) may hold at once, half of
    # them: a receiver that is slow, down or does not resolve delays its own
    # events, not the others' (deliveries.claim). 0: no cap.
    per_endpoint: int = 32
    prune_first_seconds: float = PRUNE_FIRST_SECONDS
    prune_every_seconds: float = PRUNE_EVERY_SECONDS

    @property
    def claim_at_least(self) -> int:
        """Free slots worth a claim while attempts are in flight (fewer claims
        of one row each when the worker is busy)."""
        return max(1, self.concurrency // 4)


def _in_connection(work: Callable[..., T], *args: object) -> T:
    with per_use_connection():
        return work(*args)


class Worker:
    """One worker; `run` until `stop` is set."""

    def __init__(self, knobs: Knobs, sealer: FieldSealer, sender: Sender | None = None) -> None:
        self.knobs = knobs
        self.sealer = sealer
        self.sender = sender or Sender(knobs.sandbox, knobs.check)
        self._in_flight = 0  # claimed and not recorded yet
        self._sending = 0  # claimed and without an answer yet
        self._per_endpoint: Counter[str] = Counter()  # the same, by receiver
        self._room_made = 0  # times a receiver at its share got room (or all went quiet)
        self._next_orphan_sweep = 0.0
        self._recorded = 0  # batches of attempts recorded so far
        self._changed = threading.Condition()
        self._finished: queue.SimpleQueue[tuple[Job, rules.Answer] | None] = queue.SimpleQueue()
        self._senders = ThreadPoolExecutor(knobs.concurrency, thread_name_prefix="webhook-send")

    def run(self, stop: threading.Event) -> None:
        recorder = threading.Thread(target=self._recorder, name="webhook-records")
        recorder.start()
        next_prune = time.monotonic() + self.knobs.prune_first_seconds
        failures = 0
        try:
            while not stop.is_set():
                try:
                    busy, capped = self.cycle()
                    if time.monotonic() >= next_prune:
                        next_prune = time.monotonic() + self.knobs.prune_every_seconds
                        self._prune()
                    failures = 0
                except Exception:
                    failures += 1
                    log.exception("webhook worker cycle failed; trying again")
                    busy = capped = False
                wait = min(self.knobs.poll_seconds * 2**failures, ERROR_BACKOFF_SECONDS_MAX)
                self._pause(stop, 0 if busy else wait, until_room=capped)
        finally:
            self._senders.shutdown(wait=True)  # the attempts in flight finish
            self._finished.put(None)
            recorder.join()
            self.sender.close()

    def cycle(self) -> tuple[bool, bool]:
        """Fans out and claims once: whether more is waiting already, and
        whether a receiver at its share of the slots held the claim back (its
        next attempts can go as soon as some of its attempts end)."""
        fanned = _in_connection(deliveries.fan_out, deliveries.FAN_OUT_BATCH)
        if self.knobs.per_endpoint and time.monotonic() >= self._next_orphan_sweep:
            # Fair claims read active subscriptions only: the others' due
            # deliveries are given up here instead.
            self._next_orphan_sweep = time.monotonic() + ORPHAN_SWEEP_SECONDS
            _in_connection(deliveries.give_up_orphans)
        with self._changed:
            free = self._free()
            busy = dict(self._per_endpoint)
        jobs: list[Job] = []
        if free > 0:
            jobs = _in_connection(
                functools.partial(
                    deliveries.claim,
                    per_endpoint=self.knobs.per_endpoint,
                    in_flight=busy,
                ),
                free,
                self.sealer,
                self.knobs.lease,
            )
        with self._changed:
            self._in_flight += len(jobs)
            self._sending += len(jobs)
            self._per_endpoint.update(rules.endpoint(job.url) for job in jobs)
            share = self.knobs.per_endpoint
            capped = bool(share) and any(n >= share for n in self._per_endpoint.values())
        for job in jobs:
            self._senders.submit(self._deliver, job)
        more = fanned == deliveries.FAN_OUT_BATCH or (free > 0 and len(jobs) == free)
        return more, capped

    def _free(self) -> int:
        """Sending slots a claim may fill now (call holding `_changed`)."""
        backlog = self.knobs.concurrency * RECORD_BACKLOG_PER_SLOT - self._in_flight
        return min(self.knobs.concurrency - self._sending, backlog)

    def _pause(self, stop: threading.Event, seconds: float, until_room: bool = False) -> None:
        """Until `seconds` have passed and enough slots are free for a claim
        (any, when nothing is in flight), or until `stop`; `until_room`: or
        until a receiver at its share has room again."""
        deadline = time.monotonic() + seconds
        with self._changed:
            room_made = self._room_made
            while not stop.is_set():
                if until_room and self._room_made != room_made:
                    return
                left = deadline - time.monotonic()
                if left <= 0 and (not self._in_flight or self._free() >= self.knobs.claim_at_least):
                    return
                # Past the deadline, an answer or a recorded batch (notify_all)
                # or the next stop check wakes it.
                self._changed.wait(
                    min(left, STOP_CHECK_SECONDS) if left > 0 else STOP_CHECK_SECONDS
                )

    def _deliver(self, job: Job) -> None:
        try:
            answer = self.sender.send(job, deliveries.now)
        except Exception:
            log.exception("sending a webhook failed", extra={"delivery_id": job.delivery.id})
            answer = rules.Answer(error="internal error")
        self._finished.put((job, answer))
        where = rules.endpoint(job.url)
        with self._changed:
            self._sending -= 1
            left = self._per_endpoint[where] - 1
            if left:
                self._per_endpoint[where] = left
            else:
                del self._per_endpoint[where]
            # Woken once per receiver coming down to half its share, or when
            # the slots claim_at_least needs are free, not on every answer.
            share = self.knobs.per_endpoint
            if (
                (share and left == share // 2)
                or self.knobs.concurrency - self._sending == self.knobs.claim_at_least
                or not self._sending
            ):
                self._room_made += 1
                self._changed.notify_all()

    def _recorder(self) -> None:
        """Records finished attempts, those waiting together, until told to stop."""
        while True:
            batch = [self._finished.get()]
            while not self._finished.empty():
                batch.append(self._finished.get())
            results = [item for item in batch if item is not None]
            if results:
                self._record(results)
            if None in batch:
                return

    def _record(self, results: list[tuple[Job, rules.Answer]]) -> None:
        at = deliveries.now()
        for job, answer in results:
            metrics.webhook_attempt(answer.succeeded, job.event_created_at, at)
        try:
            _in_connection(deliveries.record, results, self.knobs.schedule)
        except Exception:
            log.exception("recording webhook attempts failed", extra={"attempts": len(results)})
            # One by one, so that an attempt the database refuses holds back
            # no other; one that still fails comes back with its lease and is
            # sent again.
            for result in results if len(results) > 1 else ():
                try:
                    _in_connection(deliveries.record, [result], self.knobs.schedule)
                except Exception:
                    log.exception(
                        "recording a webhook attempt failed",
                        extra={"delivery_id": result[0].delivery.id},
                    )
        with self._changed:
            self._recorded += 1
            self._in_flight -= len(results)
            self._changed.notify_all()

    def _prune(self) -> None:
        removed, events = _in_connection(deliveries.prune, deliveries.RETENTION)
        if removed or events:
            log.info("webhook events pruned", extra={"deliveries": removed, "events": events})


def serve(knobs: Knobs, sealer: FieldSealer) -> None:
    """Runs a worker until SIGTERM or SIGINT."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("webhook worker stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("webhook worker running", extra={"concurrency": knobs.concurrency})
    Worker(knobs, sealer).run(stop)
    log.info("webhook worker stopped")


def main(settings: Settings) -> int:
    """`python -m server webhooks`: the worker process of `settings`."""
    if not settings.webhook_worker:
        log.info("webhook worker off (BANK_WEBHOOK_WORKER)")
        return 0
    # httpx logs every request at INFO: the delivery log (webhook_attempts)
    # already holds each attempt, and a line per attempt costs more CPU than
    # the attempt's own bookkeeping.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, log.getEffectiveLevel()))
    if settings.metrics_path is not None:  # recorded beside the server's (server.metrics)
        metrics.setup(settings.metrics_path)
    store_db.bind(
        store_db.open_database(
            settings.database_url, settings.sqlite_path, pool_size=WORKER_CONNECTIONS
        )
    )
    knobs = Knobs(
        concurrency=settings.webhook_concurrency,
        poll_seconds=settings.webhook_poll_ms / 1000,
        sandbox=settings.sandbox,
        lease=timedelta(seconds=settings.webhook_lease_seconds),
        schedule=tuple(delay * settings.webhook_retry_scale for delay in rules.SCHEDULE),
        check=functools.partial(webhooks.check_host, own_ports=settings.own_ports),
        per_endpoint=max(1, settings.webhook_concurrency // 2),
    )
    serve(knobs, LiveKeyring(settings.data_dir / "keys"))
    return 0
