"""Scenario `export`: a 100,000-row CSV export over REST, streamed.

A customer account of its own (opened through REST) gets EXPORT_ROWS
movements written with SQL (tests/bench/export_rows.py: balanced journal
rows, two postings each, their history rows; one second apart, ending an
hour ago), then `VACUUM (ANALYZE)` as the bench loader does. Then
`GET /v1/transactions/export?format=csv` through Envoy is read EXPORT_RUNS
times (after one warm-up read), each timed to its first byte and to its
last, while a thread samples the server's RSS every 50 ms. Every run's
file is checked: EXPORT_ROWS lines plus the header, and the last balance
the loaded rows imply. Targets: time to first byte under 1 s; the RSS
growth is reported (the server holds one chunk of rows at a time).
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import psycopg2

from server.run import Stack
from tests.bench import export_rows
from tests.bench.load import Outcome
from tests.bench.probes import tree_rss_mb
from tests.bench.report import Row
from tests.common.accounts import OPENING_EQUITY

EXPORT_ROWS = 100_000
EXPORT_RUNS = 3
TARGET_TTFB_SECONDS = 1.0


def _open_account(client: httpx.Client) -> str:
    body = {
        "email": f"export.bench.{time.time_ns()}@example.com",
        "name": "Export Bench",
        "password": "Vault-Lamp-Orbit-93",
        "role": "CUSTOMER",
    }
    response = client.post("/v1/users", json=body)
    response.raise_for_status()
    owner = response.json()["data"]["user"]["id"]
    response = client.post("/v1/accounts", json={"type": "CHECKING", "ownerId": owner})
    response.raise_for_status()
    return str(response.json()["data"]["account"]["id"])


def _load(url: str, account_id: str, start: datetime) -> float:
    started = time.monotonic()
    texts = export_rows.statements(
        True, "bench", account_id, OPENING_EQUITY, count=EXPORT_ROWS, start=start
    )
    with contextlib.closing(psycopg2.connect(url)) as connection:
        with connection, connection.cursor() as cursor:
            for text, params in texts:
                cursor.execute(text.replace("?", "%s"), params)
        connection.autocommit = True
        with connection.cursor() as cursor:
            for table in ("ledger_transactions", "postings", "account_entries"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    return time.monotonic() - started


class _RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid))
            self._stop.wait(0.05)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _read(client: httpx.Client, account_id: str) -> tuple[float, float, int, bytes]:
    """(time to first byte, total time, lines, the file's last 200 bytes)."""
    started = time.perf_counter()
    first = None
    lines = 0
    tail = b""
    with client.stream(
        "GET", "/v1/transactions/export", params={"accountId": account_id, "format": "csv"}
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            if first is None:
                first = time.perf_counter() - started
            lines += chunk.count(b"\n")
            tail = (tail + chunk)[-200:]
    return first or 0.0, time.perf_counter() - started, lines, tail


def run(bench: Any, stack: Stack, token: str, log: Any) -> None:
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=stack.http_url, headers=headers, timeout=300) as client:
        account_id = _open_account(client)
        start = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=EXPORT_ROWS + 3600)
        log(f"export: loading {EXPORT_ROWS:,} movements of {account_id}")
        load_s = _load(stack.settings.database_url, account_id, start)
        log(f"  loaded in {load_s:.1f} s")
        pid = stack.processes[0].pid
        _read(client, account_id)  # warm-up, not counted
        firsts: list[float] = []
        totals: list[float] = []
        before = tree_rss_mb(pid)
        correct = True
        with _RssSampler(pid) as sampler:
            for _ in range(EXPORT_RUNS):
                first, total, lines, tail = _read(client, account_id)
                firsts.append(first)
                totals.append(total)
                last = tail.decode().strip().rsplit("\r\n", 1)[-1].split(",")
                expected = Decimal(export_rows.closing(EXPORT_ROWS)) / 100
                if lines != EXPORT_ROWS + 1 or Decimal(last[8]) != expected:
                    correct = False
                log(f"  csv: first byte {first * 1000:.0f} ms, all {total:.2f} s, {lines} lines")
    if not correct:
        bench.failed = True
        log("  the exported file does not match the loaded rows")
    worst = max(firsts)
    verdict = "met" if worst < TARGET_TTFB_SECONDS else "MISSED"
    row = Row.of(
        "export_csv",
        f"csv export of {EXPORT_ROWS:,} rows (REST, total time)",
        transport="HTTP",
        clients=1,
        outcome=Outcome(latencies=totals, elapsed=sum(totals)),
        usage=None,
    )
    row.server_rss_max_mb = round(sampler.peak, 1)
    row.notes = {
        "rows": EXPORT_ROWS,
        "ttfb_ms": [round(value * 1000, 1) for value in firsts],
        "total_s": [round(value, 2) for value in totals],
        "target_ttfb_s": TARGET_TTFB_SECONDS,
        "target_met": worst < TARGET_TTFB_SECONDS,
        "server_rss_before_mb": round(before, 1),
        "server_rss_peak_mb": round(sampler.peak, 1),
        "file_correct": correct,
        "load_s": round(load_s, 1),
    }
    bench.add(row)
    log(
        f"  csv export of {EXPORT_ROWS:,} rows: first byte worst {worst * 1000:.0f} ms"
        f" (target < {TARGET_TTFB_SECONDS:g} s: {verdict}),"
        f" total p50 {row.p50_ms / 1000:.2f} s, server RSS {before:.0f} -> {sampler.peak:.0f} MB"
    )
