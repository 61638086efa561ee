"""Per-call response facts that only the server knows.

A servicer says what REST should answer (201 Created, the human message,
extra headers) through `current()`; the error/metadata interceptor sends it as
response metadata and Envoy builds the REST envelope from it. gRPC callers
see plain resources plus these harmless metadata keys.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

from server.domain.addresses import IpAddress
from server.domain.audit_drafts import AuditDraft
from server.domain.principal import INTERNAL, Principal


@dataclass
class CallInfo:
    """What the current RPC wants to tell the REST edge."""

    method: str
    request_id: str
    http_status: int = 200
    message: str = "OK"
    headers: dict[str, str] = field(default_factory=dict)
    pagination: dict[str, object] | None = None
    raw: bool = False
    principal: Principal = INTERNAL
    # The caller's address, worked out once per call (guards.caller_address):
    # Envoy's x-bank-client-ip when the peer is a trusted proxy, else the peer.
    client_address: IpAddress | None = None
    via_trusted_proxy: bool = False
    # REST: {proto field path: the JSON name the client sent}, for error fields
    # (server.api.validation); None when the names are the proto's.
    field_names: dict[str, str] | None = None
    # The call's audit event when its work appends it in its own transaction
    # (server.domain.audit_drafts); the audit interceptor then appends none.
    audit_draft: AuditDraft | None = None

    def created(self, message: str) -> None:
        self.http_status, self.message = 201, message

    def accepted(self, message: str) -> None:
        self.http_status, self.message = 202, message

    def ok(self, message: str) -> None:
        self.http_status, self.message = 200, message

    def initial_metadata(self) -> list[tuple[str, str]]:
        pairs = [
            ("x-request-id", self.request_id),
            ("x-bank-http-status", str(self.http_status)),
            ("x-bank-message", _quoted(self.message)),
        ]
        if self.pagination is not None:
            pairs.append(("x-bank-pagination", json.dumps(self.pagination, separators=(",", ":"))))
        if self.raw:
            pairs.append(("x-bank-raw", "1"))
        pairs.extend((k.lower(), v) for k, v in self.headers.items())
        return pairs


@functools.lru_cache(maxsize=512)
def _quoted(message: str) -> str:
    """`message` percent-encoded for a metadata value (most calls send one of
    a few fixed messages, so each is encoded once)."""
    return quote(message, safe="")


_current: contextvars.ContextVar[CallInfo] = contextvars.ContextVar("call_info")
_observers: contextvars.ContextVar[list[CallInfo] | None] = contextvars.ContextVar(
    "call_observers", default=None
)


def current() -> CallInfo:
    """The CallInfo of the RPC running on this thread."""
    return _current.get()


@contextlib.contextmanager
def observe() -> Iterator[list[CallInfo]]:
    """Collects the CallInfo that `begin` opens inside this block.

    For an interceptor placed outside the call interceptor (the audit log),
    which must read a call's request id and principal after the CallInfo's
    own scope has ended.
    """
    seen: list[CallInfo] = []
    token = _observers.set(seen)
    try:
        yield seen
    finally:
        _observers.reset(token)


def begin(method: str, request_id: str) -> contextvars.Token[CallInfo]:
    info = CallInfo(method=method, request_id=request_id)
    seen = _observers.get()
    if seen is not None:
        seen.append(info)
    return _current.set(info)


def end(token: contextvars.Token[CallInfo]) -> None:
    _current.reset(token)
