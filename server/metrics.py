"""Prometheus metrics: calls, errors and latency per RPC, transactions posted,
outbox and webhook lag, database pool use.

Every process of one deployment records into one directory (prometheus-client's
multiprocess mode; `BANK_METRICS_DIR`, default `<data dir>/metrics`): the
server process (or the supervisor's N server processes) and the webhook
worker. The process `serve` starts first (the one server, or the supervisor)
serves their sum at `http://BANK_METRICS_HOST:BANK_METRICS_PORT/metrics`
(127.0.0.1:9464 by default; `BANK_METRICS_PORT=0` switches metrics off in
every process). Envoy's own statistics stay on its admin port.

What is recorded (names and labels are the published surface; the Grafana
dashboard in docs/grafana/ reads them):

- `bank_rpc_calls_total{method, outcome}`: finished calls of every API method
  (`TransactionService/CreateTransfer`); outcome `OK` or the error code the
  caller received (`NOT_FOUND`, `TXN001`, ...; a bounded set).
- `bank_rpc_duration_seconds{method}`: their latency in the server.
- `bank_transactions_posted_total{type}`: ledger transactions committed
  (every kind and path: the Python path and PostgreSQL's stored functions).
- `bank_outbox_lag_seconds`: how old the oldest event was when the webhook
  worker last published events (0 when it found none waiting).
- `bank_webhook_attempts_total{outcome}` (`delivered`, `failed`) and
  `bank_webhook_delivery_lag_seconds`: from an event's creation to a
  receiver's 2xx.
- `bank_db_connections{state}` (`in_use`, `idle`) and
  `bank_db_connections_max`: the PostgreSQL connection pools of the live
  server processes, sampled every second (SQLite has no pool).

Recording is a no-op until `setup` ran (tools and tests that import the
server without a metrics directory pay nothing).
"""

from __future__ import annotations

import contextlib
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

ENV = "PROMETHEUS_MULTIPROC_DIR"
SAMPLE_SECONDS = 1.0
_LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
_LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)


class _Metrics:
    """The metric objects, made once per process by `setup`."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram  # noqa: PLC0415 (after ENV is set)

        self.calls = Counter(
            "bank_rpc_calls", "Finished API calls by method and outcome", ["method", "outcome"]
        )
        self.duration = Histogram(
            "bank_rpc_duration_seconds",
            "API call latency in the server",
            ["method"],
            buckets=_LATENCY_BUCKETS,
        )
        self.posted = Counter(
            "bank_transactions_posted", "Ledger transactions committed, by type", ["type"]
        )
        self.outbox_lag = Gauge(
            "bank_outbox_lag_seconds",
            "Age of the oldest event the webhook worker published last (0: none waiting)",
            multiprocess_mode="livemax",
        )
        self.attempts = Counter(
            "bank_webhook_attempts", "Webhook delivery attempts by outcome", ["outcome"]
        )
        self.webhook_lag = Histogram(
            "bank_webhook_delivery_lag_seconds",
            "From an event's creation to its receiver's 2xx",
            buckets=_LAG_BUCKETS,
        )
        self.connections = Gauge(
            "bank_db_connections",
            "Database connections of the live processes",
            ["state"],
            multiprocess_mode="livesum",
        )
        self.connections_max = Gauge(
            "bank_db_connections_max",
            "Connections the live processes' pools may open",
            multiprocess_mode="livesum",
        )
        self.call_children: dict[tuple[str, str], Any] = {}
        self.duration_children: dict[str, Any] = {}


_metrics: _Metrics | None = None
_lock = threading.Lock()


def setup(path: Path) -> None:
    """Records this process's metrics into `path` (call before any recording;
    child processes inherit the directory through the environment)."""
    global _metrics  # noqa: PLW0603 (one registry per process)
    with _lock:
        if _metrics is not None:
            return
        path.mkdir(parents=True, exist_ok=True)
        os.environ[ENV] = str(path)
        _metrics = _Metrics()


def forget_dead(path: Path) -> None:
    """Deletes what processes no longer running left in `path`, when `serve`
    starts: the figures of a bank restarted begin again (Prometheus reads a
    counter that went down as a reset), and the directory never grows with
    restarts. Files of live processes (a webhook worker still running) stay."""
    for file in path.glob("*.db"):
        tail = file.stem.rsplit("_", 1)[-1]
        if tail.isdigit() and not _alive(int(tail)):
            file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_gone(pid: int) -> None:
    """A process that recorded here has ended (the supervisor's worker)."""
    path = os.environ.get(ENV)
    if _metrics is not None and path:
        from prometheus_client import multiprocess  # noqa: PLC0415

        multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]


def serve(host: str, port: int) -> None:
    """Serves the directory's sum at http://host:port/metrics (a daemon thread)."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server  # noqa: PLC0415

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(port, addr=host, registry=registry)


# -- Recording (each a no-op before `setup`) -------------------------------------------
def call_finished(method: str, outcome: str, seconds: float) -> None:
    m = _metrics
    if m is None:
        return
    name = method.rsplit(".", 1)[-1]  # "/backoffice.v1.TransactionService/CreateTransfer"
    child = m.call_children.get((name, outcome))
    if child is None:
        child = m.call_children.setdefault((name, outcome), m.calls.labels(name, outcome))
    child.inc()
    timer = m.duration_children.get(name)
    if timer is None:
        timer = m.duration_children.setdefault(name, m.duration.labels(name))
    timer.observe(seconds)


def posted(kinds: list[str]) -> None:
    """Ledger transactions of these types have committed."""
    m = _metrics
    if m is None:
        return
    for kind in kinds:
        m.posted.labels(kind).inc()


def outbox_lag(seconds: float) -> None:
    if _metrics is not None:
        _metrics.outbox_lag.set(max(0.0, seconds))


def webhook_attempt(delivered: bool, event_created: datetime | None, now: datetime) -> None:
    m = _metrics
    if m is None:
        return
    m.attempts.labels("delivered" if delivered else "failed").inc()
    if delivered and event_created is not None:
        m.webhook_lag.observe(max(0.0, (now - event_created).total_seconds()))


def sample_pool(database: Any, stop: threading.Event) -> threading.Thread | None:
    """Samples `database`'s pool every SAMPLE_SECONDS until `stop` (a daemon thread)."""
    m = _metrics
    if m is None:
        return None

    def work() -> None:
        while not stop.wait(SAMPLE_SECONDS):
            with contextlib.suppress(Exception):  # a pool being closed: next time
                use = pool_use(database)
                if use is None:
                    return
                m.connections.labels("in_use").set(use[0])
                m.connections.labels("idle").set(use[1])
                m.connections_max.set(use[2])

    thread = threading.Thread(target=work, name="metrics-pool", daemon=True)
    thread.start()
    return thread


def pool_use(database: Any) -> tuple[int, int, int] | None:
    """(in use, idle, most) of PostgreSQL's connection pool; None for SQLite
    (a connection per thread, no pool)."""
    inner = getattr(database, "obj", database)  # a peewee.DatabaseProxy
    in_use = getattr(inner, "_in_use", None)
    if in_use is None:
        return None
    return len(in_use), len(getattr(inner, "_connections", ())), int(inner._max_connections or 0)
