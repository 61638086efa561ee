"""Sending one webhook attempt over HTTP (httpx), with the receiver's address
checked as the connection is made.

One `Sender` per worker process; each of the worker's sending threads keeps
its own few connections (`Sender.pool`), so connections to a receiver are
reused. The pool is
httpx's own transport (`httpcore.ConnectionPool`, which every `httpx.Client`
sends through), asked directly: an attempt is one POST of bytes already
signed, so httpx's request and response models, cookie jar, auth and
redirect layers would only add CPU (a third of an attempt's). (The
synchronous pool on threads sends about three times as many requests per
second as `httpx.AsyncClient` at the same concurrency.) Its network
backend resolves each host itself when it opens a connection, checks every
address with `server.domain.webhooks.check_host` (the rule subscribing uses)
and connects to a checked address: a name that resolved to a public address
when the subscription was made and to 169.254.169.254 now (DNS rebinding)
is refused without a connection. TLS still names the host (SNI, certificate
check) and so does the `Host` header, since the URL is sent as it is.

Limits: connect 5 s; the whole attempt (connect, send, answer, body read)
10 s, enforced on every read and write of the connection; redirects are not
followed (the pool never follows them); no proxy; of the answer's body the first
1,024 bytes are kept and at most 64 KiB read (reading a short body to its
end lets the connection be reused).
"""

from __future__ import annotations

import ssl
import threading
import time
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import httpcore
import httpx

from server.domain import webhook_delivery as rules
from server.domain import webhooks
from server.services.webhook_delivery import Job, secret_unreadable

CONNECT_TIMEOUT_SECONDS = 5.0
ATTEMPT_TIMEOUT_SECONDS = 10.0
BODY_READ_BYTES_MAX = 64 * 1024
# A host that did not resolve is not asked for again for this long: a lookup
# that fails can take the resolver's whole timeout (seconds), and every
# delivery to that host would hold a sending thread for it.
UNRESOLVED_MEMORY_SECONDS = 60.0
UNRESOLVED_REMEMBERED_MAX = 10_000
TARGETS_REMEMBERED_MAX = 10_000
KEEPALIVE_SECONDS = 5.0  # httpx's default
# Connections kept open by one sending thread (to as many receivers).
CONNECTIONS_PER_THREAD = 4
HostCheck = Callable[[str, int, bool], Sequence[webhooks.IpAddress]]


class AddressRefused(Exception):
    """The receiver's host resolves to an address events may not be sent to."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _Deadline(threading.local):
    """The current attempt's deadline (monotonic seconds) on this thread."""

    at: float | None = None


_deadline = _Deadline()


def _bounded(timeout: float | None, timeout_error: type[Exception]) -> float | None:
    """`timeout` cut to what is left of the attempt; raises once nothing is."""
    if _deadline.at is None:
        return timeout
    left = _deadline.at - time.monotonic()
    if left <= 0:
        raise timeout_error("the attempt took too long")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose reads and writes end by the attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class PinnedBackend(httpcore.NetworkBackend):
    """Opens connections only to addresses `check` accepted, found as it opens them."""

    def __init__(self, sandbox: bool, check: HostCheck = webhooks.check_host) -> None:
        self._sandbox = sandbox
        self._check = check
        self._inner = httpcore.SyncBackend()
        self._lock = threading.Lock()
        self.connections = 0  # made so far (for tests and logs)
        self._unresolved: dict[str, float] = {}  # host -> until when it is not asked for

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        with self._lock:
            until = self._unresolved.get(host, 0.0)
        if until > time.monotonic():
            raise httpcore.ConnectError(f"{host} does not resolve (remembered for a minute)")
        try:
            addresses = self._check(host, port, self._sandbox)
        except webhooks.UnresolvedHost:
            with self._lock:
                if len(self._unresolved) >= UNRESOLVED_REMEMBERED_MAX:
                    self._unresolved.clear()
                self._unresolved[host] = time.monotonic() + UNRESOLVED_MEMORY_SECONDS
            raise httpcore.ConnectError(f"{host} does not resolve") from None
        except webhooks.RefusedHost as refused:
            raise AddressRefused(refused.why) from None
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=_bounded(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            with self._lock:
                self.connections += 1
            return _DeadlineStream(stream)
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks are not sent over Unix sockets")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class Sender:
    """Sends attempts from any number of threads, one at a time on each;
    each thread keeps up to CONNECTIONS_PER_THREAD connections open."""

    def __init__(self, sandbox: bool, check: HostCheck = webhooks.check_host) -> None:
        self.backend = PinnedBackend(sandbox, check)
        self._ssl = httpx.create_ssl_context(trust_env=False)
        self._local = threading.local()
        self._pools: list[httpcore.ConnectionPool] = []
        self._lock = threading.Lock()
        self._targets: dict[str, _Target] = {}

    @property
    def pool(self) -> httpcore.ConnectionPool:
        """This thread's connections. Each sending thread keeps its own: one
        pool shared by every thread serialises them on its lock, and its
        bookkeeping per request walks every connection it holds (a poll of
        each idle socket), which cost more CPU than the request itself."""
        pool: httpcore.ConnectionPool | None = getattr(self._local, "pool", None)
        if pool is None:
            pool = httpcore.ConnectionPool(
                ssl_context=self._ssl,
                max_connections=CONNECTIONS_PER_THREAD,
                max_keepalive_connections=CONNECTIONS_PER_THREAD,
                keepalive_expiry=KEEPALIVE_SECONDS,
                network_backend=self.backend,
            )
            with self._lock:
                self._pools.append(pool)
            self._local.pool = pool
        return pool

    def close(self) -> None:
        with self._lock:
            pools, self._pools = self._pools, []
        for pool in pools:
            pool.close()

    def send(self, job: Job, now: Callable[[], datetime]) -> rules.Answer:
        """One attempt of `job`; what it came to (never raises for the network)."""
        started = time.monotonic()
        if job.secrets is None:
            return secret_unreadable()
        headers = rules.headers(job.delivery.event_id, job.body, job.secrets, now())
        code, kept, error = 0, b"", None
        _deadline.at = started + ATTEMPT_TIMEOUT_SECONDS
        try:
            code, kept = self._post(job.url, job.body, headers)
        except AddressRefused as refused:
            error = f"address refused: {refused.why}"
        except (httpx.TimeoutException, httpcore.TimeoutException):
            error = "timeout"
        except (httpx.HTTPError, httpcore.UnsupportedProtocol) as exc:
            error = describe(exc)
        except httpcore.ConnectError as exc:
            error = _connect_failure(exc, str(exc) or type(exc).__name__)
        except httpcore.RemoteProtocolError as exc:
            error = f"protocol error: {exc or type(exc).__name__}"
        except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
            error = f"{type(exc).__name__}: {exc or type(exc).__name__}"
        finally:
            _deadline.at = None
        elapsed_ms = int((time.monotonic() - started) * 1000)
        return rules.Answer(
            response_code=code,
            error=rules.short_error(error) if error else None,
            excerpt=rules.excerpt(kept) if code else None,
            duration_ms=elapsed_ms,
        )

    def _target(self, url: str) -> _Target:
        target = self._targets.get(url)
        if target is None:
            target = _Target.of(url)
            if len(self._targets) >= TARGETS_REMEMBERED_MAX:
                self._targets.clear()
            self._targets[url] = target
        return target

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        target = self._target(url)
        # Asked for as is (`Accept-Encoding: identity`) and read raw: the cap
        # counts the bytes that arrive, never what they would inflate to.
        raw = [
            (b"host", target.host),
            *((name.encode(), value.encode()) for name, value in headers.items()),
            (b"accept-encoding", b"identity"),
            (b"content-length", str(len(body)).encode()),
        ]
        timeout = {
            "connect": CONNECT_TIMEOUT_SECONDS,
            "read": ATTEMPT_TIMEOUT_SECONDS,
            "write": ATTEMPT_TIMEOUT_SECONDS,
            "pool": ATTEMPT_TIMEOUT_SECONDS,
        }
        request = httpcore.Request(
            b"POST", target.url, headers=raw, content=body, extensions={"timeout": timeout}
        )
        response = self.pool.handle_request(request)
        try:
            kept = bytearray()
            read = 0
            for chunk in typing.cast(Iterable[bytes], response.stream):
                if len(kept) < rules.EXCERPT_BYTES_MAX:
                    kept += chunk[: rules.EXCERPT_BYTES_MAX - len(kept)]
                read += len(chunk)
                if read >= BODY_READ_BYTES_MAX:
                    break  # the connection is closed instead of reused
            return response.status, bytes(kept)
        finally:
            response.close()


@dataclass(frozen=True, slots=True)
class _Target:
    """A receiver's URL as the pool takes it, and its `Host` header."""

    url: httpcore.URL
    host: bytes

    @classmethod
    def of(cls, url: str) -> _Target:
        """Parsed as httpx parses it (httpx.UnsupportedProtocol, httpx.InvalidURL...)."""
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol {url!r}")
        host = httpx.Request("POST", parsed).headers["host"].encode("ascii")
        return cls(
            httpcore.URL(
                scheme=parsed.raw_scheme,
                host=parsed.raw_host,
                port=parsed.port,
                target=parsed.raw_path,
            ),
            host,
        )


def describe(exc: httpx.HTTPError | httpcore.UnsupportedProtocol) -> str:
    """A short, stable description of a failure before an answer."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return _connect_failure(exc, text)
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"protocol error: {text}"
    if isinstance(exc, (httpx.UnsupportedProtocol, httpcore.UnsupportedProtocol)):
        return f"unsupported URL: {text}"
    return f"{type(exc).__name__}: {text}"


def _connect_failure(exc: httpx.ConnectError | httpcore.ConnectError, text: str) -> str:
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ssl.SSLError) or "SSL" in text or "certificate" in text:
        return f"tls: {text}"
    if "does not resolve" in text:
        return f"dns: {text}"
    if "refused" in text.lower():
        return "connection refused"
    return f"connection failed: {text}"
