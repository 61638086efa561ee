"""Scenario `webhooks`: the delivery worker's throughput, lag and recovery.

The stack's own worker is stopped; this scenario runs its own
`python -m server webhooks` on the bench database (the default 64 sending
slots, of which one receiver may hold 32, the default poll, the retry
schedule shrunk 100 times with the test-only BANK_WEBHOOK_RETRY_SCALE) and
sends to a receiver in the bench process (a threaded HTTP server on
127.0.0.1, Nagle's algorithm off as in a real web server; the bench does
nothing else meanwhile, so its CPU is the receiver's). One subscription to `*` is made through the
REST API. Events are outbox rows written with SQL, as the movements write
them (stored event payload, created_at in UTC).

1. throughput: WEBHOOK_EVENTS events written at once, then the worker
   started; deliveries/s from its first request to every delivery
   SUCCEEDED (and with the process start counted), and the worker's CPU
   milliseconds per delivery from its first request on (utime + stime of
   its process; its start apart). On a shared machine deliveries/s move
   with the other load; CPU per delivery much less.
2. lag: events written at WEBHOOK_RATE/s for BENCH_SECONDS, one per
   transaction; lag = the first 2xx arrival at the receiver minus the row's
   created_at (clock_timestamp() of its insert); p50 and p99; the worker's
   CPU per delivery over the phase (idle polling included).
3. outage: the receiver answers 503 for OUTAGE_SECONDS while events are
   written at the same rate for the first part of it; then it answers 200
   again: every event must end SUCCEEDED, none DEAD or lost.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import psycopg2

from server.config import REPO_ROOT
from server.run import Stack, settings_env
from tests.bench import probes
from tests.bench.load import Outcome
from tests.bench.report import Row
from tests.common.webhook_receiver import Received, receiving

WEBHOOK_EVENTS = 20_000
WEBHOOK_RATE = 200.0
OUTAGE_SECONDS = 20.0
OUTAGE_EMIT_SECONDS = 5.0
RETRY_SCALE = 0.01
SECRET = "bench-webhook-secret-0123456789"
DRAIN_TIMEOUT_SECONDS = 120.0

INSERT = """
INSERT INTO outbox_events (event_id, type, aggregate_id, payload, created_at)
SELECT e.id, 'user.created', 'usr_bench_' || e.n,
       json_build_object('id', e.id, 'event', 'user.created',
                         'timestamp', to_char(e.at, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                         'data', json_build_object('user_id', 'usr_bench_' || e.n))::text,
       e.at
FROM (SELECT n, 'evt_bench' || %(tag)s || '_' || n AS id,
             clock_timestamp() AT TIME ZONE 'UTC' AS at
      FROM generate_series(%(first)s, %(last)s) AS n) AS e
"""


@dataclass
class BenchReceiver:
    """First 2xx arrival (time.time()) of each event; 503 while `down`."""

    down: bool = False
    first_ok: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Received) -> tuple[int, bytes]:
        at = time.time()
        event_id = request.headers.get("webhook-id", "")
        with self.lock:
            self.requests += 1
            if self.down:
                self.refused += 1
                return 503, b"down"
            self.first_ok.setdefault(event_id, at)
        return 200, b"ok"


def _rows(url: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Runs `query` in a transaction of its own, committed (`with db`)."""
    with contextlib.closing(psycopg2.connect(url)) as db, db, db.cursor() as cursor:
        cursor.execute(query, params)
        return list(cursor.fetchall()) if cursor.description else []


def _emit(url: str, tag: str, count: int) -> None:
    with contextlib.closing(psycopg2.connect(url)) as db, db, db.cursor() as cursor:
        cursor.execute(INSERT, {"tag": tag, "first": 1, "last": count})


def _emit_paced(url: str, tag: str, rate: float, seconds: float) -> int:
    """One event per transaction at `rate`/s for `seconds`; how many."""
    count = 0
    with contextlib.closing(psycopg2.connect(url)) as db:
        db.autocommit = True
        with db.cursor() as cursor:
            started = time.monotonic()
            while True:
                due = started + count / rate
                now = time.monotonic()
                if due - started >= seconds:
                    return count
                if due > now:
                    time.sleep(due - now)
                count += 1
                cursor.execute(INSERT, {"tag": tag, "first": count, "last": count})


def _statuses(url: str, tag: str) -> dict[str, int]:
    found = _rows(
        url,
        "SELECT status, count(*) FROM webhook_deliveries WHERE event_id LIKE %s GROUP BY status",
        (f"evt_bench{tag}_%",),
    )
    return {str(status): int(n) for status, n in found}


def _first_request(state: BenchReceiver, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with state.lock:
            if state.requests:
                return
        time.sleep(0.01)


def _drain(url: str, tag: str, expected: int, timeout: float) -> tuple[float, dict[str, int]]:
    """Until `expected` deliveries of `tag` are SUCCEEDED (or timeout); when, and the counts."""
    deadline = time.monotonic() + timeout
    while True:
        counts = _statuses(url, tag)
        if counts.get("SUCCEEDED", 0) >= expected or time.monotonic() > deadline:
            return time.time(), counts
        time.sleep(0.1)


class Worker:
    """The scenario's `python -m server webhooks`: `count` processes (BANK_WEBHOOK_WORKERS)."""

    def __init__(self, stack: Stack, log_dir: Path, count: int = 1) -> None:
        env = settings_env(stack.settings)
        env.update(BANK_WEBHOOK_WORKER="on", BANK_WEBHOOK_RETRY_SCALE=str(RETRY_SCALE))
        self.started = time.time()
        self.processes: list[subprocess.Popen[bytes]] = []
        for index in range(count):
            with (log_dir / f"webhooks-bench-{index}.log").open("ab") as log_file:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "server", "webhooks"],
                        cwd=REPO_ROOT,
                        env=env,
                        stdout=log_file,
                        stderr=subprocess.STDOUT,
                    )
                )

    def cpu_seconds(self) -> float:
        return sum(probes.cpu_seconds(process.pid) for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _stop_stack_worker(stack: Stack) -> None:
    for process in stack.processes:
        argv = process.args
        if isinstance(argv, list) and argv[-1:] == ["webhooks"] and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def _subscribe(stack: Stack, token: str, url: str) -> str:
    response = httpx.post(
        f"{stack.http_url}/v1/webhooks",
        headers={"authorization": f"Bearer {token}"},
        json={"url": url, "events": ["*"], "secret": SECRET, "description": "bench receiver"},
        timeout=30,
    )
    response.raise_for_status()
    document = response.json()
    return str(document.get("id") or document.get("webhook", {}).get("id"))


def _row(key: str, title: str, throughput: float, elapsed: float, **extra: Any) -> Row:
    latencies: list[float] = extra.pop("latencies", [])
    row = Row.of(
        key,
        title,
        transport="HTTP",
        clients=32,
        outcome=Outcome(latencies=latencies, elapsed=elapsed),
        usage=None,
    )
    row.throughput = throughput
    # The table's server CPU column: the worker's, per delivery.
    row.server_cpu_ms_per_op = extra.get("worker_cpu_ms_per_delivery")
    row.notes = extra
    return row


def run(bench: Any, stack: Stack, token: str) -> None:
    """The three parts, each a row of the table."""
    config = bench.config
    url = stack.settings.database_url
    _stop_stack_worker(stack)
    # Only this scenario's events are sent: older ones count as fanned out.
    _rows(
        url,
        "UPDATE outbox_events SET published_at = now() AT TIME ZONE 'UTC'"
        " WHERE published_at IS NULL",
    )
    with receiving() as receiver:
        state = BenchReceiver()
        receiver.answer = state.answer
        _subscribe(stack, token, f"{receiver.url}/bench")
        bench_log = stack.log_dir

        # 1. Throughput: pre-loaded events, then the worker.
        _emit(url, "a", WEBHOOK_EVENTS)
        worker = Worker(stack, bench_log, config.webhook_processes)
        try:
            _first_request(state)
            start_cpu = worker.cpu_seconds()
            # Where the machine's CPU goes while it delivers: the worker, the
            # receiver (this process: its threads answer), the rest (PostgreSQL).
            start_own, start_busy = probes.own_cpu_seconds(), probes.machine_busy_seconds()
            with state.lock:
                before = len(state.first_ok)
            done_at, counts = _drain(url, "a", WEBHOOK_EVENTS, DRAIN_TIMEOUT_SECONDS)
            cpu = worker.cpu_seconds() - start_cpu
            own = probes.own_cpu_seconds() - start_own
            busy = probes.machine_busy_seconds() - start_busy
            with state.lock:
                first = min(state.first_ok.values()) if state.first_ok else done_at
            succeeded = counts.get("SUCCEEDED", 0)
            if succeeded < WEBHOOK_EVENTS:
                bench.failed = True
            bench.add(
                _row(
                    "webhooks_throughput",
                    f"webhook deliveries, {WEBHOOK_EVENTS:,} queued",
                    succeeded / max(done_at - first, 1e-9),
                    done_at - first,
                    events=WEBHOOK_EVENTS,
                    worker_processes=config.webhook_processes,
                    statuses=counts,
                    with_start_per_s=round(succeeded / max(done_at - worker.started, 1e-9), 1),
                    worker_cpu_ms_per_delivery=round(cpu * 1000 / max(succeeded - before, 1), 3),
                    receiver_cpu_ms_per_delivery=round(own * 1000 / max(succeeded - before, 1), 3),
                    machine_cpu_ms_per_delivery=round(busy * 1000 / max(succeeded - before, 1), 3),
                    worker_start_cpu_s=round(start_cpu, 2),
                    requests=state.requests,
                )
            )

            # 2. Lag at a steady rate.
            paced_cpu = worker.cpu_seconds()
            emitted = _emit_paced(url, "b", WEBHOOK_RATE, config.seconds)
            _, counts = _drain(url, "b", emitted, 30.0)
            paced_cpu = worker.cpu_seconds() - paced_cpu
            created = dict(
                _rows(
                    url,
                    "SELECT event_id, created_at FROM outbox_events WHERE event_id LIKE %s",
                    ("evt_benchb_%",),
                )
            )
            with state.lock:
                arrivals = dict(state.first_ok)
            lags = [
                arrivals[event_id] - created_at.replace(tzinfo=UTC).timestamp()  # naive UTC
                for event_id, created_at in created.items()
                if event_id in arrivals
            ]
            if len(lags) < emitted:
                bench.failed = True
            bench.add(
                _row(
                    "webhooks_lag",
                    f"webhook lag at {WEBHOOK_RATE:g} events/s",
                    len(lags) / config.seconds,
                    config.seconds,
                    latencies=lags,
                    events=emitted,
                    delivered=len(lags),
                    statuses=counts,
                    lag_max_ms=round(max(lags, default=0.0) * 1000, 1),
                    worker_cpu_ms_per_delivery=round(paced_cpu * 1000 / max(len(lags), 1), 3),
                )
            )

            # 3. The receiver down for a while, then back.
            with state.lock:
                state.down = True
            went_down = time.monotonic()
            emitted = _emit_paced(url, "c", WEBHOOK_RATE, OUTAGE_EMIT_SECONDS)
            time.sleep(max(0.0, went_down + OUTAGE_SECONDS - time.monotonic()))
            with state.lock:
                state.down = False
                refused = state.refused
            back = time.time()
            done_at, counts = _drain(url, "c", emitted, DRAIN_TIMEOUT_SECONDS)
            with state.lock:
                delivered = sum(1 for key in state.first_ok if key.startswith("evt_benchc_"))
            lost = emitted - delivered
            if lost or counts.get("SUCCEEDED", 0) < emitted:
                bench.failed = True
            bench.add(
                _row(
                    "webhooks_outage",
                    f"webhooks after a {OUTAGE_SECONDS:g} s receiver outage",
                    delivered / max(done_at - back, 1e-9),
                    done_at - back,
                    events=emitted,
                    delivered=delivered,
                    lost=lost,
                    refused_while_down=refused,
                    statuses=counts,
                    all_delivered_after_back_s=round(done_at - back, 1),
                )
            )
        finally:
            worker.stop()
