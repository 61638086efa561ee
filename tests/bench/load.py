"""Load: closed loops (N callers, each sending its next request when the last
is answered) and paced, open loops (requests sent at a given rate whatever
the answers do).

A closed loop finds the throughput; its latency is mostly queueing once the
callers outnumber the cores (N callers / throughput). A paced loop measures
latency at a given load: each request's latency counts from the moment it
was due, so a server that falls behind is charged for the wait too (no
coordinated omission). Every loop is bounded twice: by a deadline and by a
shared request budget.
Each caller records the latency of each answered request; failures are
counted by kind (and never enter the latency figures).
"""

from __future__ import annotations

import http.client
import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from backoffice.v1 import sandbox_service_pb2 as sandbox_pb
from backoffice.v1 import sandbox_service_pb2_grpc as sandbox_grpc
from backoffice.v1 import transaction_service_pb2 as txn_pb
from backoffice.v1 import transaction_service_pb2_grpc as txn_grpc

# One request; returns None when it succeeded, else a short failure label.
# Raising Exhausted ends the caller (it has nothing left to send).
Operation = Callable[[], str | None]


class Exhausted(Exception):
    """The operation has no request left to send."""


@dataclass
class Outcome:
    """The answered requests of one window."""

    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    failures: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    by_label: dict[str, list[float]] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def merge(self, other: Outcome) -> None:
        self.latencies.extend(other.latencies)
        self.failures.update(other.failures)
        for label, values in other.by_label.items():
            self.by_label.setdefault(label, []).extend(values)


def seeded(seed: float) -> random.Random:
    """A reproducible generator of request parameters."""
    return random.Random(seed)  # noqa: S311 (load generation, not cryptography)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 when there is nothing)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def closed_loop(
    operations: list[Operation],
    seconds: float,
    max_ops: int,
    labels: list[Callable[[], str]] | None = None,
) -> Outcome:
    """Runs each operation in its own thread until the deadline or the budget.

    `labels[i]()`, when given, names the kind of the request operation i just
    made (history reads record typical and deep pages apart).
    """
    budget = itertools.count()
    deadline = time.monotonic() + seconds
    results = [Outcome() for _ in operations]

    def caller(index: int) -> None:
        operation, result = operations[index], results[index]
        while time.monotonic() < deadline and next(budget) < max_ops:
            started = time.perf_counter()
            try:
                failure = operation()
            except Exhausted:
                return
            except Exception as exc:  # a failed request is data, not a crash of the bench
                failure = type(exc).__name__
            latency = time.perf_counter() - started
            if failure is None:
                result.latencies.append(latency)
                if labels is not None:
                    result.by_label.setdefault(labels[index](), []).append(latency)
            else:
                result.failures[failure[:120]] += 1

    threads = [
        threading.Thread(target=caller, args=(i,), name=f"caller-{i}", daemon=True)
        for i in range(len(operations))
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Outcome(elapsed=time.perf_counter() - started)
    for result in results:
        total.merge(result)
    return total


def paced_loop(  # noqa: PLR0917 (mirrors closed_loop, plus the rates and seed)
    operations: list[Operation],
    rates: list[float],
    seconds: float,
    max_ops: int,
    seed: int,
    labels: list[Callable[[], str]] | None = None,
) -> Outcome:
    """Operation i is sent at rates[i] per second, Poisson arrivals (seeded).

    Each operation has its own thread and schedule; a request due while the
    previous one is still out is sent when that one is answered, and its
    latency still counts from when it was due.
    """
    budget = itertools.count()
    results = [Outcome() for _ in operations]
    start = time.perf_counter() + 0.05
    end = start + seconds

    def caller(index: int) -> None:
        operation, result, rate = operations[index], results[index], rates[index]
        arrivals = seeded(seed * 7_919 + index)
        due = start + arrivals.expovariate(rate)
        while due < end and next(budget) < max_ops:
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            try:
                failure = operation()
            except Exhausted:
                return
            except Exception as exc:  # a failed request is data, not a crash of the bench
                failure = type(exc).__name__
            latency = time.perf_counter() - due
            if failure is None:
                result.latencies.append(latency)
                if labels is not None:
                    result.by_label.setdefault(labels[index](), []).append(latency)
            else:
                result.failures[failure[:120]] += 1
            due += arrivals.expovariate(rate)

    threads = [
        threading.Thread(target=caller, args=(i,), name=f"paced-{i}", daemon=True)
        for i in range(len(operations))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Outcome(elapsed=max(time.perf_counter(), end) - start)
    for result in results:
        total.merge(result)
    return total


# --- gRPC ----------------------------------------------------------------------


# Each channel its own subchannel, so its own connection (see ChannelPool).
CHANNEL_OPTIONS = (("grpc.use_local_subchannel_pool", 1),)


class ChannelPool:
    """A gRPC channel (its own TCP connection) per caller, handed out in turn.

    The kernel spreads connections, not calls, over the server's processes
    (SO_REUSEPORT), so callers sharing one channel would all reach one process.
    """

    def __init__(self, open_channel: Callable[[], grpc.Channel], size: int) -> None:
        self._channels = [open_channel() for _ in range(size)]
        self._turn = itertools.cycle(self._channels)

    def __call__(self) -> grpc.Channel:
        return next(self._turn)

    def close(self) -> None:
        for channel in self._channels:
            channel.close()


def _grpc_failure(exc: grpc.RpcError) -> str:
    code = exc.code()
    return f"grpc {code.name if code else '?'}: {exc.details()}"


def health_check(channel: grpc.Channel, timeout: float) -> Operation:
    stub = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service="")

    def operation() -> str | None:
        try:
            stub.Check(request, timeout=timeout)
        except grpc.RpcError as exc:
            return _grpc_failure(exc)
        return None

    return operation


def get_clock(channel: grpc.Channel, token: str, timeout: float) -> Operation:
    """The cheapest authenticated call: the whole interceptor chain plus one read."""
    stub = sandbox_grpc.SandboxServiceStub(channel)
    metadata = (("authorization", f"Bearer {token}"),)

    def operation() -> str | None:
        try:
            stub.GetClock(sandbox_pb.GetClockRequest(), metadata=metadata, timeout=timeout)
        except grpc.RpcError as exc:
            return _grpc_failure(exc)
        return None

    return operation


@dataclass
class Pairs:
    """Which accounts a caller's transfers move money between."""

    account_ids: list[str]
    rng: random.Random
    source: str | None = None  # fixed debited account (hot account), else uniform

    def next(self) -> tuple[str, str]:
        if self.source is None:
            a, b = self.rng.sample(self.account_ids, 2)
            return a, b
        while True:
            b = self.rng.choice(self.account_ids)
            if b != self.source:
                return self.source, b

    def amount(self) -> float:
        # 0.01 to 0.99: no transfer can fail for funds or limits in a run.
        return self.rng.randint(1, 99) / 100


def grpc_transfer(
    channel: grpc.Channel,
    token: str,
    pairs: Pairs,
    timeout: float,
    keyed: list[tuple[str, Any]] | None = None,
) -> Operation:
    """CreateTransfer; with `keyed`, each request carries a fresh Idempotency-Key
    and is appended there (key, request) for a later replay."""
    stub = txn_grpc.TransactionServiceStub(channel)
    auth = ("authorization", f"Bearer {token}")
    prefix = f"bench-{pairs.rng.getrandbits(64):016x}"
    counter = itertools.count()

    def operation() -> str | None:
        source, destination = pairs.next()
        request = txn_pb.CreateTransferRequest(
            from_account_id=source,
            to_account_id=destination,
            amount=pairs.amount(),
            description="Benchmark transfer",
        )
        metadata: tuple[tuple[str, str], ...] = (auth,)
        key = ""
        if keyed is not None:
            key = f"{prefix}-{next(counter)}"
            metadata = (auth, ("idempotency-key", key))
        try:
            stub.CreateTransfer(request, metadata=metadata, timeout=timeout)
        except grpc.RpcError as exc:
            return _grpc_failure(exc)
        if keyed is not None:
            keyed.append((key, request))
        return None

    return operation


def grpc_replay(
    channel: grpc.Channel, token: str, keyed: list[tuple[str, Any]], timeout: float
) -> Operation:
    """Sends each (key, request) of `keyed` again, once; each must be a replay."""
    stub = txn_grpc.TransactionServiceStub(channel)
    auth = ("authorization", f"Bearer {token}")
    pending = iter(list(keyed))

    def operation() -> str | None:
        item = next(pending, None)
        if item is None:
            raise Exhausted
        key, request = item
        try:
            _reply, call = stub.CreateTransfer.with_call(
                request, metadata=(auth, ("idempotency-key", key)), timeout=timeout
            )
        except grpc.RpcError as exc:
            return _grpc_failure(exc)
        headers = dict(call.initial_metadata() or ())
        if headers.get("idempotent-replayed") != "true":
            return "answered without idempotent-replayed: executed twice?"
        return None

    return operation


# --- REST through Envoy --------------------------------------------------------


class Http:
    """One keep-alive HTTP/1.1 connection to Envoy (one per caller thread)."""

    def __init__(self, host: str, port: int, token: str, timeout: float) -> None:
        self._address = (host, port, timeout)
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        host, port, timeout = self._address
        for attempt in range(2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(host, port, timeout=timeout)
            try:
                self._connection.request(method, path, body=body, headers=self._headers)
                response = self._connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                # Envoy may close an idle keep-alive connection: reconnect once.
                self._connection.close()
                self._connection = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")


def _rest_failure(status: int, body: bytes) -> str:
    try:
        error = json.loads(body).get("error", {})
        return f"http {status}: {error.get('code')} {error.get('message')}"
    except (ValueError, AttributeError):
        return f"http {status}: {body[:80]!r}"


def rest_transfer(http: Http, pairs: Pairs) -> Operation:
    def operation() -> str | None:
        source, destination = pairs.next()
        body = json.dumps(
            {
                "fromAccountId": source,
                "toAccountId": destination,
                "amount": pairs.amount(),
                "description": "Benchmark transfer",
            }
        ).encode()
        status, answer = http.request("POST", "/api/transactions/transfer", body)
        if status not in (200, 201) or b'"success":true' not in answer.replace(b" ", b""):
            return _rest_failure(status, answer)
        return None

    return operation


@dataclass
class HistoryReader:
    """GET /api/transactions, two kinds of request:

    - deep keyset pages (share `deep_share`) of the deep account, 100 rows a
      page: a reader starts at one of `deep_starts` (a page token for a row
      somewhere in its 100,000-row history, made by the server's own token
      encoder) and follows `nextPageToken` for up to WALK_PAGES pages;
    - first or early pages of typical accounts with filters (type and sort,
      date range, amount range, keyword, offset pages).
    """

    WALK_PAGES = 10

    http: Http
    typical_ids: list[str]
    deep_id: str
    deep_starts: list[tuple[int, str]]  # (row number, page token after that row)
    days: list[str]  # YYYY-MM-DD days inside the loaded history
    words: list[str]
    rng: random.Random
    deep_share: float = 0.5
    token: str = ""
    row: int = 0  # rows of the deep history above the next page
    pages_left: int = 0
    deepest_row: int = 0
    label: str = ""

    def operation(self) -> str | None:
        if self.deep_starts and self.rng.random() < self.deep_share:
            return self._deep()
        self.label = "typical"
        status, body = self.http.request("GET", self._typical_path())
        return None if status == 200 else _rest_failure(status, body)

    def _deep(self) -> str | None:
        self.label = "deep"
        if not self.token or not self.pages_left:
            self.row, self.token = self.rng.choice(self.deep_starts)
            self.pages_left = self.WALK_PAGES
        path = f"/api/transactions?accountId={self.deep_id}&limit=100&pageToken={self.token}"
        status, body = self.http.request("GET", path)
        if status != 200:
            self.token = ""
            return _rest_failure(status, body)
        self.deepest_row = max(self.deepest_row, self.row + 100)
        self.token = json.loads(body)["data"].get("nextPageToken", "")
        self.row += 100
        self.pages_left -= 1
        return None

    def _typical_path(self) -> str:
        path = f"/api/transactions?accountId={self.rng.choice(self.typical_ids)}"
        variant = self.rng.randrange(6)
        if variant == 1:
            path += "&type=TRANSFER&sortBy=amount&sortOrder=desc"
        elif variant == 2:
            start = self.rng.randrange(len(self.days) - 90)
            path += f"&startDate={self.days[start]}&endDate={self.days[start + 90]}"
        elif variant == 3:
            path += "&minAmount=100&maxAmount=300&limit=50"
        elif variant == 4:
            path += f"&search={self.rng.choice(self.words)}"
        elif variant == 5:
            path += f"&page={self.rng.randint(2, 4)}&limit=20"
        return path
