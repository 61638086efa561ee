"""Configuration, read once from environment variables.

Every setting has a local default so that `make run` needs no configuration;
see the README for the full table.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MODES = ("sandbox", "production")
# Peers whose x-bank-client-ip (set by Envoy's Lua filter) is believed: Envoy
# runs beside the server, on loopback.
TRUSTED_PROXIES_DEFAULT = ("127.0.0.0/8", "::1/128")
GRPC_TLS_MODES = ("off", "tls", "mutual")  # server.tls


class ConfigError(ValueError):
    """A setting in the environment cannot be used."""


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(env: dict[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _on_off(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("on", "off"):
        raise ConfigError(f"{name} must be on or off, got {raw!r}")
    return raw == "on"


def _cidrs(env: dict[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return tuple(
            str(ipaddress.ip_network(part.strip(), strict=False))
            for part in raw.split(",")
            if part.strip()
        )
    except ValueError as exc:
        raise ConfigError(f"{name} must be comma-separated CIDR blocks: {exc}") from exc


def is_loopback(host: str) -> bool:
    """True for a host name or address that only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _redis_url(env: dict[str, str]) -> str:
    url = env.get("REDIS_URL", "").strip()
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL must be redis://..., rediss://... or unix://... (or unset)")
    return url


@dataclass(frozen=True)
class Settings:
    """Process settings. Ports are plain TCP ports on `host`."""

    mode: str
    host: str
    grpc_port: int
    http_port: int
    https_port: int
    envoy_admin_port: int
    database_url: str
    data_dir: Path
    worker_threads: int
    shutdown_grace_seconds: int
    log_level: str
    # Where clients reach the REST API (the OAuth issuer and the URLs of the
    # OAuth metadata); default the local Envoy listener.
    public_url: str = ""
    # Rate-limit counters and used signature nonces live in Redis when set,
    # else in the database.
    redis_url: str = ""
    # CIDR blocks of the proxies (Envoy) whose x-bank-client-ip is believed.
    trusted_proxies: tuple[str, ...] = TRUSTED_PROXIES_DEFAULT
    # gRPC server processes sharing the port (server.supervisor); 1: one process.
    server_processes: int = 1
    # TLS on the gRPC port (server.tls): off, tls or mutual; its files' directory
    # (default <data_dir>/tls/grpc).
    grpc_tls: str = "off"
    grpc_tls_dir: Path | None = None
    # Argon2 checks run on a pool of their own (server.hashing): its threads,
    # and how many checks may wait before the next one is refused (503).
    hash_threads: int = 2
    hash_queue: int = 8
    # Public endpoints (server.domain.public_limits): /oauth/token, /refresh,
    # /revoke and sign-in posts per source address per minute; Argon2 client
    # secret checks per client id per minute; failed sign-ins per address per
    # minute before the address waits (longer tiers follow from it).
    oauth_requests_per_minute: int = 60
    oauth_client_checks_per_minute: int = 300
    sign_in_failures_per_minute: int = 5
    # Immediate transfers on PostgreSQL share transactions (server.services.
    # transfer_batches): how long one may wait for batch-mates while batches
    # run, the largest batch (1: no batching), batches running at once.
    transfer_batch_wait_ms: float = 2.0
    transfer_batch_max: int = 64
    transfer_batch_concurrency: int = 1
    # The webhook delivery worker (server.workers.webhooks): whether the
    # stack starts it, attempts in flight at once, how often it looks for work.
    webhook_worker: bool = True
    # Delivery worker processes the stack starts (their claims skip each
    # other's rows); each has webhook_concurrency sending slots.
    webhook_workers: int = 1
    webhook_concurrency: int = 64
    webhook_poll_ms: int = 100
    # Test-only (the fault test and the bench): the worker's lease, and a
    # factor on its retry schedule's delays, shrunk so that a killed worker's
    # deliveries and retries come back within a run. Leave them unset.
    webhook_lease_seconds: float = 60.0
    webhook_retry_scale: float = 1.0
    # Customer email (server.workers.notifications): the SMTP relay; no host:
    # emails are kept unsent (in sandbox mode readable in the sandbox inbox).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "Bank <no-reply@bank.example>"
    smtp_starttls: bool = True
    # Prometheus metrics (server.metrics): where `serve` exposes them (port 0:
    # no metrics), and the directory every process of the bank records into
    # (default <data_dir>/metrics).
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464
    metrics_dir: str = ""
    # Step-up verification (server.domain.challenges): thresholds per account
    # type, `CHECKING=5000.00,BUSINESS=20000.00`; unset types 5,000.00.
    step_up_thresholds: str = ""

    def __post_init__(self) -> None:
        if not self.public_url:
            object.__setattr__(self, "public_url", f"http://{self.host}:{self.http_port}")
        if self.grpc_tls not in GRPC_TLS_MODES:
            raise ConfigError(
                f"BANK_GRPC_TLS must be one of {', '.join(GRPC_TLS_MODES)}, got {self.grpc_tls!r}"
            )
        if self.mode == "production" and self.grpc_tls == "off" and not is_loopback(self.host):
            # Bearer tokens and customer data would cross the network in the clear.
            raise ConfigError(
                f"BANK_HOST={self.host} serves gRPC beyond this machine: production then"
                " needs BANK_GRPC_TLS=mutual (or tls)"
            )

    def endpoints_url(self, scheme: str) -> str:
        """Where a client that came in over `scheme` reaches the REST API.

        `public_url` unless the client came over https and `public_url` is
        not https (the local default): then Envoy's https listener.
        """
        if scheme == "https" and not self.public_url.startswith("https://"):
            return f"https://{self.host}:{self.https_port}"
        return self.public_url

    @property
    def grpc_tls_files_dir(self) -> Path:
        return self.grpc_tls_dir or self.data_dir / "tls" / "grpc"

    @property
    def own_ports(self) -> frozenset[int]:
        """The ports this bank's processes listen on (webhooks never POST to them)."""
        ports = (self.grpc_port, self.http_port, self.https_port, self.envoy_admin_port)
        return frozenset((*ports, self.metrics_port)) - {0}

    @property
    def metrics_path(self) -> Path | None:
        """The directory metrics are recorded into; None: metrics are off."""
        if not self.metrics_port:
            return None
        return Path(self.metrics_dir) if self.metrics_dir else self.data_dir / "metrics"

    @property
    def sandbox(self) -> bool:
        return self.mode == "sandbox"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "backoffice.sqlite3"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        mode = env.get("BANK_MODE", "sandbox").strip().lower() or "sandbox"
        if mode not in MODES:
            raise ConfigError(f"BANK_MODE must be one of {', '.join(MODES)}, got {mode!r}")
        database_url = env.get("DATABASE_URL", "").strip()
        if database_url and not database_url.startswith(
            ("postgresql://", "postgres://", "sqlite:///")
        ):
            raise ConfigError("DATABASE_URL must be postgresql://... or sqlite:///path (or unset)")
        tls_dir = env.get("BANK_GRPC_TLS_DIR", "").strip()
        return cls(
            mode=mode,
            host=env.get("BANK_HOST", "127.0.0.1").strip() or "127.0.0.1",
            grpc_port=_int(env, "GRPC_PORT", 50051, 1, 65535),
            http_port=_int(env, "HTTP_PORT", 8080, 1, 65535),
            https_port=_int(env, "HTTPS_PORT", 8443, 1, 65535),
            envoy_admin_port=_int(env, "ENVOY_ADMIN_PORT", 9901, 1, 65535),
            database_url=database_url,
            data_dir=Path(env.get("BANK_DATA_DIR", "").strip() or REPO_ROOT / "var"),
            worker_threads=_int(env, "BANK_WORKER_THREADS", 16, 1, 256),
            shutdown_grace_seconds=_int(env, "BANK_SHUTDOWN_GRACE_SECONDS", 10, 0, 300),
            log_level=(env.get("BANK_LOG_LEVEL", "INFO").strip().upper() or "INFO"),
            public_url=env.get("BANK_PUBLIC_URL", "").strip().rstrip("/"),
            redis_url=_redis_url(env),
            trusted_proxies=_cidrs(env, "BANK_TRUSTED_PROXIES", TRUSTED_PROXIES_DEFAULT),
            server_processes=_int(env, "BANK_SERVER_PROCESSES", 1, 1, 64),
            grpc_tls=env.get("BANK_GRPC_TLS", "off").strip().lower() or "off",
            grpc_tls_dir=Path(tls_dir) if tls_dir else None,
            hash_threads=_int(env, "BANK_HASH_THREADS", 2, 1, 64),
            transfer_batch_wait_ms=_float(env, "BANK_TRANSFER_BATCH_WAIT_MS", 2.0, 0.0, 100.0),
            transfer_batch_max=_int(env, "BANK_TRANSFER_BATCH_MAX", 64, 1, 1_000),
            transfer_batch_concurrency=_int(env, "BANK_TRANSFER_BATCH_CONCURRENCY", 1, 1, 64),
            hash_queue=_int(env, "BANK_HASH_QUEUE", 8, 0, 10_000),
            oauth_requests_per_minute=_int(
                env, "BANK_OAUTH_REQUESTS_PER_MINUTE", 60, 1, 10_000_000
            ),
            oauth_client_checks_per_minute=_int(
                env, "BANK_OAUTH_CLIENT_CHECKS_PER_MINUTE", 300, 1, 10_000_000
            ),
            sign_in_failures_per_minute=_int(
                env, "BANK_SIGN_IN_FAILURES_PER_MINUTE", 5, 1, 1_000_000
            ),
            webhook_worker=_on_off(env, "BANK_WEBHOOK_WORKER", True),
            webhook_workers=_int(env, "BANK_WEBHOOK_WORKERS", 1, 1, 16),
            webhook_concurrency=_int(env, "BANK_WEBHOOK_CONCURRENCY", 64, 1, 1_000),
            webhook_poll_ms=_int(env, "BANK_WEBHOOK_POLL_MS", 100, 10, 60_000),
            webhook_lease_seconds=_float(env, "BANK_WEBHOOK_LEASE_SECONDS", 60.0, 1.0, 3600.0),
            webhook_retry_scale=_float(env, "BANK_WEBHOOK_RETRY_SCALE", 1.0, 0.0001, 1.0),
            smtp_host=env.get("BANK_SMTP_HOST", "").strip(),
            smtp_port=_int(env, "BANK_SMTP_PORT", 587, 1, 65535),
            smtp_user=env.get("BANK_SMTP_USER", "").strip(),
            smtp_password=env.get("BANK_SMTP_PASSWORD", ""),
            smtp_from=env.get("BANK_SMTP_FROM", "").strip() or "Bank <no-reply@bank.example>",
            smtp_starttls=_on_off(env, "BANK_SMTP_STARTTLS", True),
            step_up_thresholds=env.get("BANK_STEP_UP_THRESHOLDS", "").strip(),
            metrics_host=env.get("BANK_METRICS_HOST", "").strip() or "127.0.0.1",
            metrics_port=_int(env, "BANK_METRICS_PORT", 9464, 0, 65535),
            metrics_dir=env.get("BANK_METRICS_DIR", "").strip(),
        )
