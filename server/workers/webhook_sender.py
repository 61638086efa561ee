"""Sending one webhook attempt over HTTP (httpx), with the receiver's address
checked as the connection is made.

One `Sender` per worker process holds one `httpx.Client`, shared by the
worker's sending threads, so connections to a receiver are reused. (The
synchronous client on threads sends about three times as many requests per
second as `httpx.AsyncClient` at the same concurrency.) Its transport
resolves each host itself when it opens a connection, checks every address
with `server.domain.webhooks.check_host` (the rule subscribing uses) and
connects to a checked address: a name that resolved to a public address
when the subscription was made and to 169.254.169.254 now (DNS rebinding)
is refused without a connection. TLS still names the host (SNI, certificate
check) and so does the `Host` header, since the URL is sent as it is.

Limits: connect 5 s; the whole attempt (connect, send, answer, body read)
10 s, enforced on every read and write of the connection; redirects are not
followed; no proxy from the environment; of the answer's body the first
1,024 bytes are kept and at most 64 KiB read (reading a short body to its
end lets the connection be reused).
"""

from __future__ import annotations

import ssl
import threading
import time
import typing
from collections.abc import Callable, Iterable, Sequence
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


class PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport, its connection pool opening connections through
    a `PinnedBackend` (httpx takes no network backend of its own)."""

    def __init__(self, backend: PinnedBackend, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class Sender:
    """Sends attempts from any number of threads; `concurrency` connections at most."""

    def __init__(
        self, sandbox: bool, concurrency: int, check: HostCheck = webhooks.check_host
    ) -> None:
        self.backend = PinnedBackend(sandbox, check)
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.client = httpx.Client(
            transport=PinnedTransport(self.backend, limits),
            timeout=httpx.Timeout(ATTEMPT_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
            follow_redirects=False,
            trust_env=False,
        )

    def close(self) -> None:
        self.client.close()

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
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.HTTPError as exc:
            error = describe(exc)
        finally:
            _deadline.at = None
        elapsed_ms = int((time.monotonic() - started) * 1000)
        return rules.Answer(
            response_code=code,
            error=rules.short_error(error) if error else None,
            excerpt=rules.excerpt(kept) if code else None,
            duration_ms=elapsed_ms,
        )

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        # Asked for as is (`Accept-Encoding: identity`) and read raw: the cap
        # counts the bytes that arrive, never what they would inflate to.
        headers = {**headers, "accept-encoding": "identity"}
        with self.client.stream("POST", url, content=body, headers=headers) as response:
            kept = bytearray()
            read = 0
            for chunk in response.iter_raw():
                if len(kept) < rules.EXCERPT_BYTES_MAX:
                    kept += chunk[: rules.EXCERPT_BYTES_MAX - len(kept)]
                read += len(chunk)
                if read >= BODY_READ_BYTES_MAX:
                    break  # the connection is closed instead of reused
            return response.status_code, bytes(kept)


def describe(exc: httpx.HTTPError) -> str:
    """A short, stable description of a failure before an answer."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return _connect_failure(exc, text)
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"protocol error: {text}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"unsupported URL: {text}"
    return f"{type(exc).__name__}: {text}"


def _connect_failure(exc: httpx.ConnectError, text: str) -> str:
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ssl.SSLError) or "SSL" in text or "certificate" in text:
        return f"tls: {text}"
    if "does not resolve" in text:
        return f"dns: {text}"
    if "refused" in text.lower():
        return "connection refused"
    return f"connection failed: {text}"
