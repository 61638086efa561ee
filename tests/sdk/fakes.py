"""An in-process fake of the bank's REST edge (httpx.MockTransport) for the
SDK's retry, renewal and idempotency behaviour, and a transport that loses
the first answer of a real call."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

Answer = Callable[[httpx.Request, int], httpx.Response]


def envelope(data: dict[str, object], status: int = 200) -> httpx.Response:
    body = {"success": True, "status": "success", "message": "ok", "data": data,
            "meta": {"requestId": "req-1", "version": "v1"}}  # fmt: skip
    return httpx.Response(status, json=body, headers={"x-request-id": "req-1"})


def failure(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"success": False, "status": "error", "message": code,
            "error": {"code": code, "message": code}, "meta": {"requestId": "req-err"}}  # fmt: skip
    return httpx.Response(status, json=body, headers=headers or {})


@dataclass
class FakeBank:
    """Counts requests; `answer(request, n)` answers the n-th API call (0-based)."""

    answer: Answer
    tokens_issued: int = 0
    expires_in: int = 3600
    calls: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            self.tokens_issued += 1
            token = {"access_token": f"tok-{self.tokens_issued}", "token_type": "Bearer",
                     "expires_in": self.expires_in, "scope": "banking.read"}  # fmt: skip
            return httpx.Response(200, content=json.dumps(token))
        self.calls.append(request)
        return self.answer(request, len(self.calls) - 1)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


class LoseFirstAnswer(httpx.BaseTransport):
    """Sends every request to the real server, but drops the first answer to a
    path ending in `suffix` (as a connection reset after the server ran it)."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.inner = httpx.HTTPTransport()
        self.lost = 0
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith(self.suffix):
            return response
        self.keys.append(request.headers.get("idempotency-key"))
        if self.lost:
            return response
        response.read()
        response.close()
        self.lost += 1
        raise httpx.ReadError("connection reset by peer", request=request)

    def close(self) -> None:
        self.inner.close()
