"""The webhook delivery worker: its own process (`python -m server webhooks`),
started beside the server by the stack.

One asyncio loop does everything:
- every BANK_WEBHOOK_POLL_MS (at once while there is more) it fans new
  outbox events out to deliveries and claims due deliveries, as many as
  there are free sending slots (BANK_WEBHOOK_CONCURRENCY);
- each claimed delivery is sent by a task of its own through one shared
  HTTP client (server.workers.webhook_sender), outside any transaction;
- a recorder task writes the attempts that finished, all those waiting in
  one transaction, so the database sees a few transactions per second, not
  one per attempt;
- about once a day (the first an hour after start) events past their 30
  days are pruned with their finished deliveries.
The database work runs on two threads of its own (claims, and records), so
the loop only waits for it.

Delivery is at least once: a claimed delivery is leased for 60 s. Killed at
any point, the worker loses only leases; their deliveries are sent again,
with the same `webhook-id`, once the leases pass. On SIGTERM (or SIGINT) it
claims nothing more, lets the attempts in flight finish (10 s at most) and
records them, then exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

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
# Database connections of the worker process: its two database threads, and spare.
WORKER_CONNECTIONS = 2


@dataclass(frozen=True)
class Knobs:
    """How one worker runs (BANK_WEBHOOK_* settings; the rest for tests)."""

    concurrency: int = 32
    poll_seconds: float = 0.1
    sandbox: bool = True
    lease: timedelta = deliveries.LEASE
    schedule: Sequence[timedelta] = rules.SCHEDULE
    check: HostCheck = webhooks.check_host
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


@dataclass
class _Finished:
    job: Job
    answer: rules.Answer
    recorded: asyncio.Future[None]


class Worker:
    """One worker's loop; `run` until `stop` is set."""

    def __init__(self, knobs: Knobs, sealer: FieldSealer, sender: Sender | None = None) -> None:
        self.knobs = knobs
        self.sealer = sealer
        self.sender = sender or Sender(knobs.sandbox, knobs.concurrency, knobs.check)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._finished: list[_Finished] = []
        self._wake: asyncio.Event | None = None
        self._claims = ThreadPoolExecutor(1, thread_name_prefix="webhook-claims")
        self._records = ThreadPoolExecutor(1, thread_name_prefix="webhook-records")

    async def _db(self, executor: ThreadPoolExecutor, work: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, _in_connection, work, *args)

    async def run(self, stop: asyncio.Event) -> None:
        self._wake = asyncio.Event()
        recorder = asyncio.create_task(self._recorder(self._wake))
        next_prune = time.monotonic() + self.knobs.prune_first_seconds
        failures = 0
        try:
            while not stop.is_set():
                try:
                    busy = await self.cycle()
                    if time.monotonic() >= next_prune:
                        next_prune = time.monotonic() + self.knobs.prune_every_seconds
                        await self._prune()
                    failures = 0
                except Exception:
                    failures += 1
                    log.exception("webhook worker cycle failed; trying again")
                    busy = False
                wait = min(self.knobs.poll_seconds * 2**failures, ERROR_BACKOFF_SECONDS_MAX)
                await self._pause(stop, 0 if busy else wait)
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)
        finally:
            recorder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recorder
            await self._record()  # what finished while the recorder stopped
            await self.sender.aclose()
            self._claims.shutdown(wait=True)
            self._records.shutdown(wait=True)

    async def cycle(self) -> bool:
        """Fans out and claims once; True when more is waiting already."""
        fanned = await self._db(self._claims, deliveries.fan_out, deliveries.FAN_OUT_BATCH)
        free = self.knobs.concurrency - len(self._in_flight)
        jobs: list[Job] = []
        if free > 0:
            jobs = await self._db(
                self._claims, deliveries.claim, free, self.sealer, self.knobs.lease
            )
        for job in jobs:
            task = asyncio.create_task(self._deliver(job))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return fanned == deliveries.FAN_OUT_BATCH or (free > 0 and len(jobs) == free)

    async def _pause(self, stop: asyncio.Event, seconds: float) -> None:
        """Until `seconds` have passed and enough slots are free for a claim
        (any, when nothing is in flight), or until `stop`."""
        deadline = time.monotonic() + seconds
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                free = self.knobs.concurrency - len(self._in_flight)
                left = deadline - time.monotonic()
                if left > 0:
                    await asyncio.wait({stopping}, timeout=left)
                elif not self._in_flight or free >= self.knobs.claim_at_least:
                    return
                else:
                    await asyncio.wait(
                        {stopping, *self._in_flight}, return_when=asyncio.FIRST_COMPLETED
                    )
        finally:
            stopping.cancel()

    async def _deliver(self, job: Job) -> None:
        assert self._wake is not None
        answer = await self.sender.send(job, deliveries.now)
        finished = _Finished(job, answer, asyncio.get_running_loop().create_future())
        self._finished.append(finished)
        self._wake.set()
        await finished.recorded

    async def _recorder(self, wake: asyncio.Event) -> None:
        while True:
            await wake.wait()
            wake.clear()
            await self._record()

    async def _record(self) -> None:
        batch, self._finished = self._finished, []
        if not batch:
            return
        try:
            await self._db(
                self._records,
                deliveries.record,
                [(item.job, item.answer) for item in batch],
                self.knobs.schedule,
            )
        except Exception:
            # The leases bring these deliveries back: they are sent again.
            log.exception("recording webhook attempts failed", extra={"attempts": len(batch)})
        for item in batch:
            if not item.recorded.done():
                item.recorded.set_result(None)

    async def _prune(self) -> None:
        removed, events = await self._db(self._claims, deliveries.prune, deliveries.RETENTION)
        if removed or events:
            log.info("webhook events pruned", extra={"deliveries": removed, "events": events})


async def serve(knobs: Knobs, sealer: FieldSealer) -> None:
    """Runs a worker until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("webhook worker running", extra={"concurrency": knobs.concurrency})
    await Worker(knobs, sealer).run(stop)
    log.info("webhook worker stopped")


def main(settings: Settings) -> int:
    """`python -m server webhooks`: the worker process of `settings`."""
    if not settings.webhook_worker:
        log.info("webhook worker off (BANK_WEBHOOK_WORKER)")
        return 0
    store_db.bind(
        store_db.open_database(
            settings.database_url, settings.sqlite_path, pool_size=WORKER_CONNECTIONS
        )
    )
    knobs = Knobs(
        concurrency=settings.webhook_concurrency,
        poll_seconds=settings.webhook_poll_ms / 1000,
        sandbox=settings.sandbox,
    )
    asyncio.run(serve(knobs, LiveKeyring(settings.data_dir / "keys")))
    return 0
