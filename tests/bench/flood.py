"""Scenario `auth_read_flood`: authenticated reads while wrong client secrets flood /oauth/token.

Issue 13, item 2: wrong-secret token requests used to run Argon2 on the
threads that serve the API, so a flood of them (48 at once) took an
authenticated read from ~30 ms to many seconds. Here a quarter of
`BENCH_CLIENTS` callers read (gRPC GetClock) while three times
`BENCH_CLIENTS` callers send `POST /oauth/token` with `sandbox-client` (an
Argon2-hashed secret) and a wrong secret, through Envoy from 127.0.0.1. The
flood's expected answers (401 checked and refused, 429 over the address's
or client's limit, 503 hashing pool full) are successes of the scenario;
the rows say how many of each, and the read row's latency is the figure to
watch (the target: under 2 s).
"""

from __future__ import annotations

import base64
import http.client
from typing import Any

from tests.bench import load
from tests.bench.report import Row
from tests.common.auth import SANDBOX_CLIENT

FLOOD_ANSWERS = (401, 429, 503)
_CREDENTIALS = base64.b64encode(f"{SANDBOX_CLIENT[0]}:not-the-secret".encode()).decode()
_HEADERS = {
    "Authorization": f"Basic {_CREDENTIALS}",
    "Content-Type": "application/x-www-form-urlencoded",
}


class WrongSecret:
    """One caller of the flood, on one keep-alive connection; remembers its last status."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._address = (host, port, timeout)
        self._connection: http.client.HTTPConnection | None = None
        self.status = 0

    def operation(self) -> str | None:
        host, port, timeout = self._address
        if self._connection is None:
            self._connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            self._connection.request(
                "POST", "/oauth/token", body=b"grant_type=client_credentials", headers=_HEADERS
            )
            response = self._connection.getresponse()
            response.read()
        except (http.client.HTTPException, ConnectionError):
            self._connection.close()
            self._connection = None
            raise
        self.status = response.status
        return None if response.status in FLOOD_ANSWERS else f"http {response.status}"


def run(bench: Any, stack: Any, database: str, channels: load.ChannelPool, token: str) -> None:
    """Measures the reads and the flood's answers; adds their rows to `bench`."""
    config, timeout = bench.config, bench.config.timeout_seconds
    readers = max(1, config.clients // 4)
    flooders = config.clients * 3
    callers: list[WrongSecret] = []

    def operations() -> list[load.Operation]:
        callers[:] = [
            WrongSecret(stack.settings.host, stack.settings.http_port, timeout)
            for _ in range(flooders)
        ]
        reads = [load.get_clock(channels(), token, timeout) for _ in range(readers)]
        return reads + [caller.operation for caller in callers]

    def label_of(index: int) -> Any:
        if index < readers:
            return lambda: "read"
        return lambda: str(callers[index - readers].status)

    labels = [label_of(i) for i in range(readers + flooders)]
    outcome, usage = bench.measure(stack, database, operations, labels=labels)
    reads = outcome.by_label.get("read", [])
    row = Row.of(
        "auth_read_flood",
        "authenticated read during a wrong-secret flood",
        transport="gRPC",
        clients=readers,
        outcome=outcome,
        usage=usage,
        latencies=reads,
        per_op_count=outcome.ok,
    )
    row.notes = {"cpu_per_op_counts": "reads and flood requests of the window"}
    bench.add(row)
    for status in FLOOD_ANSWERS:
        answered = outcome.by_label.get(str(status), [])
        part = load.Outcome(latencies=answered, elapsed=outcome.elapsed)
        bench.add(
            Row.of(
                f"auth_read_flood.{status}",
                f"  beside: {flooders} callers of /oauth/token, {status}",
                transport="REST",
                clients=0,
                outcome=part,
                usage=None,
            )
        )
