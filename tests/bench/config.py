"""What one `make bench` run does, read from BENCH_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from server.config import GRPC_TLS_MODES, REPO_ROOT

SCENARIOS = (
    "pgbench",
    "transfer_sql",
    "noop",
    "auth_read",
    "auth_read_flood",
    "grpc",
    "rest",
    "hot",
    "replay",
    "batch",
    "batch_rest",
    "history",
    "history_typical",
    "history_paced",
    "webhooks",
    "export",
    "reports",
)


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    value = int(raw) if raw else default
    if not low <= value <= high:
        raise SystemExit(f"{name} must be between {low} and {high}, got {value}")
    return value


def _choice(env: dict[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in choices:
        raise SystemExit(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _float(env: dict[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    value = float(raw) if raw else default
    if not low <= value <= high:
        raise SystemExit(f"{name} must be between {low} and {high}, got {value}")
    return value


@dataclass(frozen=True)
class BenchConfig:
    """Durations, sizes and concurrency; every default fits `make bench` in ~10 minutes."""

    seconds: float  # measured time of each scenario
    warmup_seconds: float  # run before each measured window, not counted
    clients: int  # concurrent callers (and pgbench -c)
    accounts: int  # funded customer accounts
    history: int  # history transactions loaded with SQL before the run
    deep_share: float  # share of the history that touches the one "deep" account
    pgbench_scale: int
    max_ops: int  # hard cap on requests per measured scenario
    timeout_seconds: float  # per request
    admin_url: str  # a PostgreSQL database to create and drop the bench databases from
    out_dir: Path
    only: tuple[str, ...]  # scenarios to run (default: all)
    keep_database: bool  # leave bo_bench_* in place for a look afterwards
    seed: int
    server_processes: int  # BANK_SERVER_PROCESSES of the measured server
    history_rate: float  # history reads/s of the paced history scenario
    history_write_rate: float  # transfers/s beside them
    grpc_tls: str  # BANK_GRPC_TLS of the measured server (off, tls, mutual)
    batch_size: int  # transfers per call of the batch API scenarios
    batch_clients: int  # concurrent callers of the batch API scenarios
    webhook_processes: int = 1  # BANK_WEBHOOK_WORKERS of the webhooks scenario

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> BenchConfig:
        env = dict(os.environ if env is None else env)
        clients = _int(env, "BENCH_CLIENTS", 16, 1, 64)
        only = tuple(s.strip() for s in env.get("BENCH_ONLY", "").split(",") if s.strip())
        unknown = sorted(set(only) - set(SCENARIOS))
        if unknown:
            raise SystemExit(f"BENCH_ONLY: unknown scenarios {unknown}; known: {SCENARIOS}")
        return cls(
            seconds=_float(env, "BENCH_SECONDS", 20.0, 1.0, 600.0),
            warmup_seconds=_float(env, "BENCH_WARMUP_SECONDS", 2.0, 0.0, 60.0),
            clients=clients,
            accounts=_int(env, "BENCH_ACCOUNTS", 10_000, 100, 1_000_000),
            history=_int(env, "BENCH_HISTORY", 1_000_000, 1_000, 20_000_000),
            deep_share=_float(env, "BENCH_DEEP_SHARE", 0.1, 0.0, 0.5),
            pgbench_scale=_int(env, "BENCH_PGBENCH_SCALE", clients, 1, 1000),
            max_ops=_int(env, "BENCH_MAX_OPS", 2_000_000, 100, 100_000_000),
            timeout_seconds=_float(env, "BENCH_TIMEOUT_SECONDS", 30.0, 1.0, 300.0),
            admin_url=env.get(
                "BENCH_POSTGRES_URL",
                env.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
            ),
            out_dir=Path(env.get("BENCH_OUT", "").strip() or REPO_ROOT / "var" / "bench"),
            only=only or SCENARIOS,
            keep_database=env.get("BENCH_KEEP_DB", "") == "1",
            seed=_int(env, "BENCH_SEED", 20_251_109, 0, 2**31 - 1),
            server_processes=_int(env, "BENCH_SERVER_PROCESSES", os.cpu_count() or 1, 1, 64),
            history_rate=_float(env, "BENCH_HISTORY_RATE", 50.0, 1.0, 10_000.0),
            history_write_rate=_float(env, "BENCH_HISTORY_WRITE_RATE", 50.0, 0.0, 10_000.0),
            grpc_tls=_choice(env, "BENCH_GRPC_TLS", "off", GRPC_TLS_MODES),
            batch_size=_int(env, "BENCH_BATCH_SIZE", 50, 1, 1_000),
            batch_clients=_int(env, "BENCH_BATCH_CLIENTS", 8, 1, 64),
            webhook_processes=_int(env, "BENCH_WEBHOOK_PROCESSES", 1, 1, 8),
        )
