"""`python -m server reset-sandbox` (`make reset-sandbox`): the sandbox as new.

The sandbox keeps its database between runs, and its clock only moves
forward (`clock:advance`): after a few advances the sandbox lives days or
months ahead, with holds released and scheduled transfers run. Resetting
drops the sandbox's SQLite database and loads it again: the clock back to
the real time, the sandbox users, accounts, balances, cards and clients as
documented, nothing else. Keys (`keys/`) and certificates are kept.

Only in sandbox mode, only for SQLite (a PostgreSQL database is dropped and
created with PostgreSQL's own tools), and only while no server is running
on the database (its port is free): a running server would keep the
deleted file open.
"""

from __future__ import annotations

import socket
from pathlib import Path

from server.config import Settings

# SQLite's companions of the database file (write-ahead log, shared memory, journal).
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


class ResetRefused(Exception):
    """The sandbox cannot be reset in these settings; the message says why."""


def sqlite_file(settings: Settings) -> Path:
    url = settings.database_url
    if not settings.sandbox:
        raise ResetRefused("reset-sandbox works in sandbox mode only (BANK_MODE=sandbox)")
    if url and not url.startswith("sqlite:///"):
        raise ResetRefused(
            "reset-sandbox drops the sandbox's SQLite file only; with DATABASE_URL on"
            " PostgreSQL, drop and create that database, then run `python -m server setup`"
        )
    return Path(url.removeprefix("sqlite:///")) if url else settings.sqlite_path


def _port_in_use(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def drop(settings: Settings) -> list[str]:
    """Deletes the sandbox database's files (then `setup` makes it again); their paths."""
    path = sqlite_file(settings)
    if _port_in_use(settings.host, settings.grpc_port):
        raise ResetRefused(
            f"a server is running on {settings.host}:{settings.grpc_port}: stop it"
            " (Ctrl-C in `make run`) and reset again"
        )
    removed = []
    for suffix in SQLITE_SUFFIXES:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.unlink()
            removed.append(str(companion))
    return removed
