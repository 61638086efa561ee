"""A private PostgreSQL instance for the fault test, in a temporary directory.

The fault test kills, pauses and crash-restarts its database, so it never
touches the machine's own server: it runs `initdb` into a directory of its
own and starts a postmaster on a free loopback port, with its unix socket in
that directory too. PostgreSQL refuses to run as root; when the test runs as
root, every PostgreSQL command runs as the `postgres` system user instead.
Durability settings stay at their defaults (fsync and synchronous_commit on):
a crash-restart must find every acknowledged commit.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2

BINARY_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
START_TIMEOUT_SECONDS = 60
DATABASE = "chaos"
# PostgreSQL's own settings for the instance: loopback only, logs kept in
# one file across restarts (the checks read them), faster deadlock detection.
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1",
    "-c max_connections=200",
    "-c shared_buffers=64MB",
    "-c deadlock_timeout=200ms",
    "-c log_line_prefix='%m [%p] '",
    "-c log_min_messages=warning",
)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries on this machine (or no user to run them as)."""


def binary(name: str) -> str:
    """The path of a PostgreSQL program: on PATH, else the newest installed version's."""
    found = shutil.which(name)
    if found:
        return found
    for directory in BINARY_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    raise PostgresUnavailable(f"{name} not found on PATH or in /usr/lib/postgresql/*/bin")


def _run_as() -> tuple[list[str], int | None, int | None]:
    """(command prefix, uid, gid) to run PostgreSQL: ourselves, or `postgres` when root."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable("running as root and there is no postgres user") from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running as root and runuser is missing")
    return [runuser, "-u", "postgres", "--"], user.pw_uid, user.pw_gid


def _children(parent: int) -> list[int]:
    """Direct children of `parent` (from /proc, no extra dependency)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


@dataclass
class PrivatePostgres:
    """One PostgreSQL cluster in `root`, listening on 127.0.0.1:`port`."""

    root: Path
    port: int
    paused: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._prefix, self._uid, self._gid = _run_as()
        self.data = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_path = self.root / "postgres.log"

    # -- life cycle ------------------------------------------------------------

    def init(self) -> PrivatePostgres:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        self.log_path.touch()
        if self._uid is not None:
            for path in (self.root, self.socket_dir, self.log_path):
                os.chown(path, self._uid, self._gid or -1)
        self._pg(
            binary("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
            # A new, empty cluster: nothing to lose if the machine crashes now,
            # and syncing it costs seconds. Commits made later are synced.
            "--no-sync",
        )
        self.start()
        with contextlib.closing(self.connect("postgres")) as admin:
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{DATABASE}"')
        return self

    def start(self) -> None:
        options = " ".join((*SERVER_OPTIONS, f"-c port={self.port}"))
        options += f" -c unix_socket_directories='{self.socket_dir}'"
        self._pg(
            binary("pg_ctl"),
            "start",
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "-D",
            str(self.data),
            "-l",
            str(self.log_path),
            "-o",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop`; mode `immediate` is a crash (recovery runs at the next start)."""
        self.resume()
        pg_ctl = binary("pg_ctl")
        self._pg(pg_ctl, "stop", "-w", "-t", "60", "-D", str(self.data), "-m", mode, check=False)

    def crash_restart(self, down_seconds: float) -> None:
        self.stop("immediate")
        time.sleep(down_seconds)
        self.start()

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # -- faults ----------------------------------------------------------------

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def pause(self) -> int:
        """SIGSTOP to the postmaster, then to every backend; returns how many processes."""
        postmaster = self.postmaster_pid()
        if postmaster is None:
            return 0
        targets = [postmaster]
        with contextlib.suppress(ProcessLookupError):
            os.kill(postmaster, signal.SIGSTOP)  # first: it forks no new backend while stopped
            targets += _children(postmaster)
            for pid in targets[1:]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
        self.paused = targets
        return len(targets)

    def resume(self) -> None:
        for pid in reversed(self.paused):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.paused = []

    def terminate_backends(self, database: str = DATABASE) -> int:
        """pg_terminate_backend for every connection to `database`; returns how many."""
        with contextlib.closing(self.connect("postgres", timeout=5)) as admin:
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    (database,),
                )
                row = cursor.fetchone()
        return int(row[0]) if row else 0

    # -- access ----------------------------------------------------------------

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = DATABASE, timeout: int = 10) -> Any:
        return psycopg2.connect(self.url(database), connect_timeout=timeout)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _pg(self, *argv: str, check: bool = True) -> None:
        result = subprocess.run(
            [*self._prefix, *argv],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS + 30,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed: {result.stdout}{result.stderr}")
