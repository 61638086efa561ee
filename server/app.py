"""Wiring: settings, database, servicers, health, reflection, shutdown."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import signal
import threading
from collections.abc import Callable
from concurrent import futures
from types import FrameType
from typing import Any

import grpc
import peewee
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

import backoffice.v1
import server.api as server_api
from server import logs, metrics, supervisor, tls
from server.api import idempotency, paging
from server.api.audit_interceptor import AuditInterceptor
from server.api.interceptors import CallInterceptor
from server.config import Settings
from server.crypto.fields import LiveKeyring
from server.keys import key_file
from server.services import transfer_queue
from server.services.batcher import Knobs
from server.store import audit
from server.store import db as store_db
from server.workers import due_work
from server.workers import notifications as notification_worker
from server.workers import reports as report_worker

log = logging.getLogger("server")


def implemented_services() -> dict[str, Callable[[Settings], Any]]:
    """Servicers built so far, by proto service name.

    Each module of `server.api` that implements a service names it in a
    module-level `SERVICES = {"UserService": UserServicer}`. Every other
    service in the protos is served by its generated base class, which answers
    UNIMPLEMENTED (REST: 501 NOT_IMPLEMENTED) until it is built.
    """
    found: dict[str, Callable[[Settings], Any]] = {}
    for info in pkgutil.iter_modules(server_api.__path__):
        module = importlib.import_module(f"server.api.{info.name}")
        for name, factory in getattr(module, "SERVICES", {}).items():
            assert name not in found, f"{name} implemented twice"
            found[name] = factory
    return found


def _generated_services() -> dict[str, tuple[type, Callable[[Any, grpc.Server], None], str]]:
    """name -> (generated base servicer, add_..._to_server, full name), from gen/."""
    found: dict[str, tuple[type, Callable[[Any, grpc.Server], None], str]] = {}
    for info in pkgutil.iter_modules(backoffice.v1.__path__):
        if not info.name.endswith("_pb2_grpc"):
            continue
        grpc_module = importlib.import_module(f"backoffice.v1.{info.name}")
        pb_module = importlib.import_module(f"backoffice.v1.{info.name.removesuffix('_grpc')}")
        for name, service in pb_module.DESCRIPTOR.services_by_name.items():
            base = getattr(grpc_module, f"{name}Servicer")
            add = getattr(grpc_module, f"add_{name}Servicer_to_server")
            found[name] = (base, add, service.full_name)
    return found


class Health(health.HealthServicer):
    """grpc.health.v1 for the whole server ("") and each backoffice service.

    SERVING, except while this process cannot do the work calls ask for:
    - a call found the database out of reach: until a `SELECT 1` answers
      again (probed by `watch`, so no call is needed to notice);
    - the audit log cannot be written: every call would be refused with
      UNAVAILABLE (server.store.audit) until the unwritten events are;
      `watch` retries them about once a second, as calls would.
    Meanwhile it says NOT_SERVING, so a load balancer sends calls elsewhere.
    After SIGTERM it says NOT_SERVING for good (graceful shutdown).
    """

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self._names = names
        self._serving = True
        for name in names:
            self.set(name, health_pb2.HealthCheckResponse.SERVING)

    def look(self) -> bool:
        """Works out the process's state once (see the class); True if serving."""
        serving = store_db.probe() if store_db.seems_unreachable() else True
        if serving and audit.backlog_size():
            try:
                with store_db.per_use_connection():
                    serving = audit.accepting()
            except (peewee.OperationalError, peewee.InterfaceError):
                serving = False  # the database went out of reach meanwhile
        if serving != self._serving:
            self._serving = serving
            status = health_pb2.HealthCheckResponse
            for name in self._names:
                self.set(name, status.SERVING if serving else status.NOT_SERVING)
            log.warning("health", extra={"serving": serving})
        return serving

    def watch(self, stopping: threading.Event, interval_seconds: float = 0.5) -> None:
        """Runs `look` every `interval_seconds` until `stopping` is set."""

        def run() -> None:
            while not stopping.wait(interval_seconds):
                try:
                    self.look()
                except Exception:  # the next look tries again
                    log.exception("health watch failed")

        threading.Thread(target=run, name="health-watch", daemon=True).start()


METADATA_BYTES_MAX = 32 * 1024


def build_server(settings: Settings, share_port: bool = False) -> tuple[grpc.Server, Health]:
    """The server; `share_port` lets the supervisor's other workers bind the same port."""
    idempotency.configure(key_file(settings.data_dir / "keys" / "idempotency.key"))
    paging.configure(key_file(settings.data_dir / "keys" / "paging.key"))
    transfer_queue.configure(
        Knobs(
            wait_seconds=settings.transfer_batch_wait_ms / 1000,
            max_items=settings.transfer_batch_max,
            concurrency=settings.transfer_batch_concurrency,
        )
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.worker_threads, thread_name_prefix="rpc"),
        interceptors=[AuditInterceptor(settings), CallInterceptor(settings)],
        options=[
            ("grpc.max_receive_message_length", 4 * 1024 * 1024),
            # Envoy caps a REST request's line and headers at 8 KiB (431) and adds
            # its own (the original path, x-bank-*): metadata up to 32 KiB fits,
            # so an oversized request is refused at the edge, never here.
            ("grpc.max_metadata_size", METADATA_BYTES_MAX),
            ("grpc.absolute_max_metadata_size", METADATA_BYTES_MAX),
            # Off for a single process: with SO_REUSEPORT a second server on the same
            # port would silently share its traffic instead of failing to start. The
            # supervisor's workers share it on purpose (server.supervisor).
            ("grpc.so_reuseport", 1 if share_port else 0),
        ],
    )
    full_names = []
    implemented = implemented_services()
    for name, (base, add, full_name) in sorted(_generated_services().items()):
        factory = implemented.get(name)
        add(factory(settings) if factory else base(), server)
        full_names.append(full_name)
    health_servicer = Health(["", *full_names])
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*full_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    address = f"{settings.host}:{settings.grpc_port}"
    if settings.grpc_tls == "off":
        server.add_insecure_port(address)
    else:
        # serve() made any missing files before the workers started.
        files = tls.Files(settings.grpc_tls_files_dir)
        server.add_secure_port(address, tls.server_credentials(files, settings.grpc_tls))
    return server, health_servicer


def open_store(settings: Settings) -> None:
    store_db.bind(
        store_db.open_database(
            settings.database_url, settings.sqlite_path, pool_size=settings.worker_threads
        )
    )


def serve(settings: Settings) -> None:
    """Runs the gRPC server until SIGTERM/SIGINT; in-flight calls then finish.

    With BANK_SERVER_PROCESSES > 1 this process supervises that many workers
    on the same port instead (server.supervisor).
    """
    logs.configure(settings.log_level)
    worker = supervisor.worker_index()
    metrics_path = settings.metrics_path
    if metrics_path is not None:
        metrics.setup(metrics_path)
        if worker is None:  # the first process serves every process's figures
            metrics.forget_dead(metrics_path)
            metrics.serve(settings.metrics_host, settings.metrics_port)
    if worker is None and settings.grpc_tls != "off":
        # Once, before any worker starts: the workers only read the files.
        tls.ensure_files(settings.grpc_tls_files_dir, settings.host)
    if worker is None and settings.server_processes > 1:
        supervisor.Supervisor(settings, settings.server_processes).run()
        return
    open_store(settings)
    server, health_servicer = build_server(settings, share_port=worker is not None)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("shutting down", extra={"signal": signal.Signals(signum).name})
        health_servicer.enter_graceful_shutdown()
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    health_servicer.watch(stopping)
    metrics.sample_pool(store_db.database, stopping)
    if not worker:  # one sweeper is enough (it would be safe in every worker)
        keyring = LiveKeyring(settings.data_dir / "keys")  # customers told of dispute credits
        due_work.start_sweeper(stopping, settings.sandbox, keyring)
    notification_worker.start_worker(stopping, settings)  # every process: claims skip locked
    report_worker.start_worker(stopping, settings.sandbox)  # every process: claims skip locked
    log.info(
        "serving",
        extra={
            "grpc": f"{settings.host}:{settings.grpc_port}",
            "mode": settings.mode,
            "database": "postgresql" if store_db.is_postgres() else "sqlite",
        },
    )
    stopping.wait()
    server.stop(settings.shutdown_grace_seconds).wait()
    store_db.database.close()
    log.info("stopped")
