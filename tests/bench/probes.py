"""What a scenario cost: CPU seconds and memory of the processes, from /proc.

- server and Envoy: utime + stime of their process before and after, and the
  largest VmRSS seen by a sampler thread (every 0.2 s) during the window;
- PostgreSQL: the backends connected to the bench database (found through
  pg_stat_activity by the same sampler), CPU summed per backend pid; apart,
  the cluster's shared processes (the postmaster, which forks each
  connection, the WAL writer, checkpointer, background writer and
  launchers): they serve every database of the cluster, so other users of
  the same PostgreSQL show there too;
- the bench client itself (this process: it shares the two cores).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_SECONDS = 0.2


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), or 0.0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / TICKS


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (the server's supervisor and its workers)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                queue.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return found


def parent_pid(pid: int) -> int | None:
    """The parent of `pid` (field 4 of /proc/<pid>/stat), or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and its living descendants."""
    return sum(cpu_seconds(member) for member in process_tree(pid))


def tree_rss_mb(pid: int) -> float:
    return sum(rss_mb(member) for member in process_tree(pid))


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine were busy (not idle, not waiting on I/O)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    # guest time is already counted in user time.
    return (sum(fields[:8]) - idle) / TICKS


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


@dataclass
class Usage:
    """CPU seconds used during one window, and the server's largest RSS."""

    server_cpu: float = 0.0
    envoy_cpu: float = 0.0
    db_cpu: float = 0.0
    db_shared_cpu: float = 0.0  # the cluster's shared processes (postmaster, WAL writer, ...)
    client_cpu: float = 0.0
    server_rss_max_mb: float = 0.0
    db_backends: int = 0
    db_xacts: int = 0
    other_cores: float = 0.0  # average cores busy with processes not measured here


@dataclass
class Probe:
    """Measures one window: `start()`, run the load, `stop()` -> Usage."""

    server_pid: int | None
    envoy_pid: int | None
    admin_url: str
    database: str
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _db_first: dict[int, float] = field(default_factory=dict)
    _db_last: dict[int, float] = field(default_factory=dict)
    _rss_max: float = 0.0
    _shared_first: dict[int, float] = field(default_factory=dict)
    _before: dict[str, float] = field(default_factory=dict)

    def start(self) -> Probe:
        self._connection = psycopg2.connect(self.admin_url)
        self._connection.autocommit = True
        for pid in self._backends():
            self._db_first[pid] = cpu_seconds(pid)
        for pid in self._shared():
            self._shared_first[pid] = cpu_seconds(pid)
        self._before = {
            "server": tree_cpu_seconds(self.server_pid) if self.server_pid else 0.0,
            "envoy": cpu_seconds(self.envoy_pid) if self.envoy_pid else 0.0,
            "client": own_cpu_seconds(),
            "xacts": float(self._xacts()),
            "machine": machine_busy_seconds(),
            "wall": time.monotonic(),
        }
        self._thread = threading.Thread(target=self._sample, name="probe", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> Usage:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self._sample_once()
        usage = Usage(
            server_cpu=(tree_cpu_seconds(self.server_pid) if self.server_pid else 0.0)
            - self._before["server"],
            envoy_cpu=(cpu_seconds(self.envoy_pid) if self.envoy_pid else 0.0)
            - self._before["envoy"],
            client_cpu=own_cpu_seconds() - self._before["client"],
            db_cpu=sum(last - self._db_first.get(pid, 0.0) for pid, last in self._db_last.items()),
            db_shared_cpu=sum(
                max(0.0, cpu_seconds(pid) - first) for pid, first in self._shared_first.items()
            ),
            server_rss_max_mb=self._rss_max,
            db_backends=len(self._db_last),
            db_xacts=self._xacts() - int(self._before["xacts"]),
        )
        wall = time.monotonic() - self._before["wall"]
        ours = usage.server_cpu + usage.envoy_cpu + usage.db_cpu + usage.client_cpu
        ours += usage.db_shared_cpu
        others = machine_busy_seconds() - self._before["machine"] - ours
        usage.other_cores = max(0.0, others / wall) if wall else 0.0
        self._connection.close()
        return usage

    def _backends(self) -> list[int]:
        with self._connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.database,),
            )
            return [int(row[0]) for row in cursor.fetchall()]

    def _shared(self) -> list[int]:
        """The cluster's processes of no database, and the postmaster (their parent)."""
        with self._connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname IS NULL AND backend_type <> 'client backend'"
            )
            found = [int(row[0]) for row in cursor.fetchall()]
        parents = {parent_pid(pid) for pid in found} - {0, 1, None}
        return found + sorted(p for p in parents if p is not None and p not in found)

    def _xacts(self) -> int:
        """Committed + rolled back transactions of the database (flushed about every second)."""
        with self._connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                (self.database,),
            )
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def _sample_once(self) -> None:
        if self.server_pid:
            self._rss_max = max(self._rss_max, tree_rss_mb(self.server_pid))
        for pid in self._backends():
            used = cpu_seconds(pid)
            if used:  # a backend that ended between the query and the read is lost
                self._db_last[pid] = used

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample_once()
