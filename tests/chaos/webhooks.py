"""Webhook delivery in the fault test: the receiver, the subscription, the
worker processes, and the wait for every delivery to end.

- The receiver is a threaded HTTP server in the harness process
  (tests/common/webhook_receiver.py) on 127.0.0.1, which the servers accept
  in sandbox mode. It answers 500 to a seeded share of requests (the worker
  retries them) and 200 to the rest, and checks each request's signatures
  as it arrives (Standard Webhooks refuses a timestamp older than five
  minutes, so they cannot wait for the end of the run).
- One subscription to `*`, made through the API (gRPC) before the workers
  start, so that every event the outbox ever holds is fanned out to it.
- `webhook_workers` processes of `python -m server webhooks` on the chaos
  database, with a short poll, a short lease and a shrunk retry schedule
  (BANK_WEBHOOK_LEASE_SECONDS, BANK_WEBHOOK_RETRY_SCALE, test-only).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

import server  # noqa: F401  (puts gen/ on sys.path)
from backoffice.v1 import webhook_service_pb2 as webhook_pb
from backoffice.v1 import webhook_service_pb2_grpc as webhook_grpc
from server.config import REPO_ROOT, Settings
from server.run import settings_env
from tests.chaos.model import Config, seeded
from tests.common.webhook_receiver import Received, Receiver, _handler

POLL_MS = 50
# The `whsec_` form: Standard Webhooks' key is the base64-decoded rest.
SECRET = "whsec_" + base64.b64encode(hashlib.sha256(b"chaos-webhooks").digest()).decode()
UNFINISHED = ("PENDING", "FAILED")


@dataclass(frozen=True)
class Arrival:
    """One request as it arrived: when, what it was answered, whether it verified."""

    at: float  # time.time()
    event_id: str  # the webhook-id header
    body: bytes
    status: int
    standard_ok: bool  # webhook-signature, standardwebhooks' verify
    body_ok: bool  # X-Webhook-Signature, HMAC-SHA256 of the body


def body_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


class ChaosReceiver:
    """Records every request with its checks; 500 for a seeded share."""

    def __init__(
        self, receiver: Receiver, failure_rate: float, seed: int, hold_first: float = 0.0
    ) -> None:
        self.receiver = receiver
        # Seconds the first request of each event waits before its answer (a
        # worker killed meanwhile leaves it received and unrecorded).
        self._hold_first = hold_first
        self._seen: set[str] = set()
        self._rng = seeded(seed, "webhook-receiver")
        self._failure_rate = failure_rate
        self._lock = threading.Lock()
        self.arrivals: list[Arrival] = []
        self._verifier = Webhook(SECRET)
        receiver.answer = self._answer

    @property
    def url(self) -> str:
        return f"{self.receiver.url}/chaos/webhooks"

    def _answer(self, request: Received) -> tuple[int, bytes]:
        headers = request.headers
        try:
            self._verifier.verify(request.body, headers)
            standard_ok = True
        except WebhookVerificationError:
            standard_ok = False
        given = headers.get("x-webhook-signature", "")
        body_ok = hmac.compare_digest(given, body_signature(request.body))
        with self._lock:
            status = 500 if self._rng.random() < self._failure_rate else 200
            first = headers.get("webhook-id", "") not in self._seen
            self._seen.add(headers.get("webhook-id", ""))
            self.arrivals.append(
                Arrival(
                    time.time(),
                    headers.get("webhook-id", ""),
                    request.body,
                    status,
                    standard_ok,
                    body_ok,
                )
            )
        if first and self._hold_first:
            time.sleep(self._hold_first)
        return status, b"ok" if status == 200 else b"try again"

    def snapshot(self) -> list[Arrival]:
        with self._lock:
            return list(self.arrivals)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A killed worker resets its connections: nothing worth a traceback."""
        del request, client_address


@contextlib.contextmanager
def receiving_quietly() -> Iterator[Receiver]:
    """tests.common.webhook_receiver.receiving, without a traceback per reset connection."""
    receiver = Receiver()
    http = _QuietServer(("127.0.0.1", 0), _handler(receiver))
    host, port = http.server_address[:2]
    receiver.address = (str(host), int(port))
    thread = threading.Thread(target=http.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        http.shutdown()
        http.server_close()
        thread.join(5)


@contextlib.contextmanager
def chaos_receiver(config: Config) -> Iterator[ChaosReceiver]:
    with receiving_quietly() as receiver:
        yield ChaosReceiver(receiver, config.webhook_failure_rate, config.seed)


def subscribe(channel: Any, url: str) -> str:
    """The run's subscription to every event type, through the API."""
    stub = webhook_grpc.WebhookServiceStub(channel)
    reply = stub.CreateWebhookSubscription(
        webhook_pb.CreateWebhookSubscriptionRequest(
            url=url, events=["*"], secret=SECRET, description="fault test receiver"
        ),
        timeout=30,
    )
    return str(reply.webhook.id)


class WebhookProcess:
    """One `python -m server webhooks` on the chaos database."""

    def __init__(self, index: int, settings: Settings, log_dir: Path, config: Config) -> None:
        self.index = index
        self.settings = settings
        self.config = config
        self.log_path = log_dir / f"webhooks-{index}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = settings_env(self.settings)
        env.update(
            BANK_WEBHOOK_WORKER="on",
            BANK_WEBHOOK_POLL_MS=str(POLL_MS),
            BANK_WEBHOOK_LEASE_SECONDS=str(self.config.webhook_lease_seconds),
            BANK_WEBHOOK_RETRY_SCALE=str(self.config.webhook_retry_scale),
        )
        return env

    def start(self) -> None:
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server", "webhooks"],
                cwd=REPO_ROOT,
                env=self.env(),
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def unfinished(db: Any) -> int:
    """Events not fanned out yet plus deliveries still to be sent."""
    with db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
        events = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT count(*) FROM webhook_deliveries WHERE status = ANY(%s)", (list(UNFINISHED),)
        )
        return events + int(cursor.fetchone()[0])


def wait_delivered(connect: Any, deadline: float) -> int:
    """Until nothing is left to send or `deadline`; what is left (0: all sent)."""
    left = -1
    while True:
        try:
            with contextlib.closing(connect()) as db:
                left = unfinished(db)
        except Exception:  # PostgreSQL may still be starting
            left = -1
        if left == 0 or time.monotonic() > deadline:
            return left
        time.sleep(0.2)
