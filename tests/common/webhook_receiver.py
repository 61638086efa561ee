"""A webhook receiver for tests: a threaded HTTP server on 127.0.0.1 that
keeps every request it gets and answers as the test says."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


# (request) -> (status, body); the default answers 200 "ok".
Answerer = Callable[[Received], tuple[int, bytes]]


class Receiver:
    def __init__(self) -> None:
        self.address: tuple[str, int] = ("127.0.0.1", 0)
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self.connections = 0
        self.answer: Answerer = lambda _request: (200, b"ok")
        self.extra_headers: dict[str, str] = {}  # sent with every answer

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def keep(self, request: Received) -> None:
        with self._lock:
            self._received.append(request)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def of_event(self, event_id: str) -> list[Received]:
        return [r for r in self.received if r.headers.get("webhook-id") == event_id]

    def wait_for(
        self, found: Callable[[list[Received]], bool], timeout: float = 20.0
    ) -> list[Received]:
        """The requests kept, once `found` says they are enough."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.received
            if found(received):
                return received
            if time.monotonic() > deadline:
                raise AssertionError(f"the receiver got {len(received)} requests, not enough")
            time.sleep(0.02)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the worker reuses connections
        # The status line and headers go out in one write and the body in
        # another: with Nagle's algorithm on, the body waits for the ACK of
        # the headers, which the sender delays (40 ms on Linux), so every
        # answer took 40 ms more than it does from a real web server.
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            receiver.connections += 1

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            if len(body) < length:
                # The sender went away mid-body (a worker killed while
                # sending): no request arrived, as for any HTTP server.
                self.close_connection = True
                return
            request = Received(
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            receiver.keep(request)
            status, body = receiver.answer(request)
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(body)))
            for name, value in receiver.extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    return Handler


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1 until the block ends."""
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    receiver.address = (str(host), int(port))
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
