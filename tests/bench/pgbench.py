"""The database's own limit: pgbench's TPC-B-like transaction on the same PostgreSQL.

Also a transfer's own statements (transfer.pgbench) run by pgbench on the
bench's database: what the database alone does per transfer.

`pgbench -i -s <scale>` fills a database of its own; `pgbench -c <clients>
-j 2 -T <seconds>` then runs the default script (a bank debit/credit: three
UPDATEs, a SELECT and an INSERT in one transaction) with the server's
settings as they are (fsync, synchronous_commit). Latencies come from
pgbench's per-transaction log (`-l`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from tests.bench.dataset import BenchFailure

_TPS_RE = re.compile(r"^tps = ([0-9.]+) \((?:without initial connection time|excluding)", re.M)
_LATENCY_RE = re.compile(r"^latency average = ([0-9.]+) ms", re.M)
_COUNT_RE = re.compile(r"^number of transactions actually processed: (\d+)", re.M)
_FAILED_RE = re.compile(r"^number of failed transactions: (\d+)", re.M)


@dataclass
class PgbenchResult:
    tps: float
    transactions: int
    failed: int
    latency_average_ms: float
    latencies_s: list[float]
    output: str


def _connection_args(url: str) -> list[str]:
    parsed = urlparse(url)
    return [
        "-h",
        parsed.hostname or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        parsed.path.lstrip("/"),
    ]


def _binary() -> str:
    found = shutil.which("pgbench")
    if not found:
        raise BenchFailure("pgbench is not installed (Debian: apt-get install postgresql-client)")
    return found


def initialize(url: str, scale: int) -> float:
    """Fills the pgbench tables; returns the seconds it took."""
    result = subprocess.run(
        [_binary(), "-i", "-q", "-s", str(scale), *_connection_args(url)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise BenchFailure(f"pgbench -i failed:\n{result.stderr}")
    match = re.search(r"done in ([0-9.]+) s", result.stderr)
    return float(match.group(1)) if match else 0.0


SCRIPT_DIR = Path(__file__).resolve().parent


def run(
    url: str,
    clients: int,
    seconds: float,
    script: str | None = None,
    variables: dict[str, int] | None = None,
) -> PgbenchResult:
    """The default TPC-B-like script, or `script` (a file of this directory,
    with prepared statements and `variables` as `-D name=value`)."""
    custom: list[str] = []
    if script is not None:
        # -n: no VACUUM of pgbench's own tables (a custom script has none)
        custom = ["-n", "-M", "prepared", "-f", str(SCRIPT_DIR / script)]
        custom += [f"-D{name}={value}" for name, value in (variables or {}).items()]
    with tempfile.TemporaryDirectory(prefix="pgbench-") as tmp:
        prefix = Path(tmp) / "log"
        result = subprocess.run(
            [
                _binary(),
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(max(1, round(seconds))),
                *custom,
                "-l",
                f"--log-prefix={prefix}",
                *_connection_args(url),
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
            check=False,
        )
        if result.returncode != 0:
            raise BenchFailure(f"pgbench failed:\n{result.stdout}\n{result.stderr}")
        latencies: list[float] = []
        for log in Path(tmp).glob("log.*"):
            for line in log.read_text().splitlines():
                # client_id transaction_no time(us) script_no time_epoch time_us
                parts = line.split()
                if len(parts) >= 3 and parts[2].isdigit():
                    latencies.append(int(parts[2]) / 1e6)
    out = result.stdout
    tps, latency = _TPS_RE.search(out), _LATENCY_RE.search(out)
    count, failed = _COUNT_RE.search(out), _FAILED_RE.search(out)
    if not (tps and latency and count):
        raise BenchFailure(f"cannot read pgbench's output:\n{out}")
    return PgbenchResult(
        tps=float(tps.group(1)),
        transactions=int(count.group(1)),
        failed=int(failed.group(1)) if failed else 0,
        latency_average_ms=float(latency.group(1)),
        latencies_s=latencies,
        output=out,
    )
