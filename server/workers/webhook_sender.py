"""Sending one webhook attempt over HTTP (httpx), with the receiver's address
checked as the connection is made.

One `Sender` per worker process holds one `httpx.AsyncClient`, so
connections to a receiver are reused. Its transport resolves each host
itself when it opens a connection, checks every address with
`server.domain.webhooks.check_host` (the rule subscribing uses) and connects
to a checked address: a name that resolved to a public address when the
subscription was made and to 169.254.169.254 now (DNS rebinding) is refused
without a connection. TLS still names the host (SNI, certificate check) and
so does the `Host` header, since the URL is sent as it is.

Limits: connect 5 s, the whole attempt (connect, send, answer, the body
read) 10 s; redirects are not followed; no proxy from the environment; of
the answer's body the first 1,024 bytes are kept and at most 64 KiB read
(reading a short body to its end lets the connection be reused).
"""

from __future__ import annotations

import asyncio
import ssl
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
HostCheck = Callable[[str, int, bool], Sequence[webhooks.IpAddress]]


class AddressRefused(Exception):
    """The receiver's host resolves to an address events may not be sent to."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens connections only to addresses `check` accepted, found as it opens them."""

    def __init__(self, sandbox: bool, check: HostCheck = webhooks.check_host) -> None:
        self._sandbox = sandbox
        self._check = check
        self._inner = httpcore.AnyIOBackend()
        self.connections = 0  # made so far (for tests and logs)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            # Name resolution blocks: it runs on a thread.
            addresses = await asyncio.to_thread(self._check, host, port, self._sandbox)
        except webhooks.UnresolvedHost:
            raise httpcore.ConnectError(f"{host} does not resolve") from None
        except webhooks.RefusedHost as refused:
            raise AddressRefused(refused.why) from None
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            self.connections += 1
            return stream
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are not sent over Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, its connection pool opening connections through
    a `PinnedBackend` (httpx takes no network backend of its own)."""

    def __init__(self, backend: PinnedBackend, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class Sender:
    """Sends attempts; one per worker, `concurrency` connections at most."""

    def __init__(
        self, sandbox: bool, concurrency: int, check: HostCheck = webhooks.check_host
    ) -> None:
        self.backend = PinnedBackend(sandbox, check)
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.client = httpx.AsyncClient(
            transport=PinnedTransport(self.backend, limits),
            timeout=httpx.Timeout(ATTEMPT_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
            follow_redirects=False,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, job: Job, now: Callable[[], datetime]) -> rules.Answer:
        """One attempt of `job`; what it came to (never raises for the network)."""
        started = time.monotonic()
        if job.secrets is None:
            return secret_unreadable()
        headers = rules.headers(job.delivery.event_id, job.body, job.secrets, now())
        code, kept, error = 0, b"", None
        try:
            async with asyncio.timeout(ATTEMPT_TIMEOUT_SECONDS):
                code, kept = await self._post(job.url, job.body, headers)
        except AddressRefused as refused:
            error = f"address refused: {refused.why}"
        except (TimeoutError, httpx.TimeoutException):
            error = "timeout"
        except httpx.HTTPError as exc:
            error = describe(exc)
        elapsed_ms = int((time.monotonic() - started) * 1000)
        return rules.Answer(
            response_code=code,
            error=rules.short_error(error) if error else None,
            excerpt=rules.excerpt(kept) if code else None,
            duration_ms=elapsed_ms,
        )

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        async with self.client.stream("POST", url, content=body, headers=headers) as response:
            kept = bytearray()
            read = 0
            async for chunk in response.aiter_bytes():
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
    if text.endswith("does not resolve"):
        return f"dns: {text}"
    if "refused" in text.lower():
        return "connection refused"
    return f"connection failed: {text}"
