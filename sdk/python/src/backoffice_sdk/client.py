"""The REST client: one `httpx.Client`, credentials, retries, signing, the envelope.

`Client.request` is what every resource method calls. It sends JSON with
exact money (`_json`), adds the credential headers (`auth`), an
`Idempotency-Key` (uuid4) to money-moving and creating POSTs unless one is
given, the same key on each of its retries, signs every attempt when a
signing secret is set (`signing`), retries as `retry` says, renews an OAuth
token once on a 401, and turns an error answer into its exception
(`errors`). A success's envelope is unwrapped into an `ApiResponse`.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx

from backoffice_sdk import _json, errors
from backoffice_sdk.auth import ApiKey, Auth, BearerToken, ClientCredentials
from backoffice_sdk.retry import (
    RETRY_STATUSES,
    RetryPolicy,
    retry_after_seconds,
    retryable_after_failure,
)
from backoffice_sdk.signing import signature_headers

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
USER_AGENT = "bank-backoffice-python/0.1.0"
Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """A success, unwrapped: `data` of the envelope and what came with it."""

    status_code: int
    data: dict[str, Any]
    message: str
    request_id: str | None
    replayed: bool  # `Idempotent-Replayed: true`: the first answer to this key again
    headers: dict[str, str] = field(repr=False)
    body: Any = field(repr=False, default=None)


class Client:
    """A client of the back office's REST API (through Envoy).

    `base_url` defaults to `$BACKOFFICE_URL`, else http://127.0.0.1:8080.
    Credentials: `auth=` any `Auth`, or one of `client_id`+`client_secret`
    (OAuth client credentials, refreshed), `api_key`, `access_token`.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        auth: Auth | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        scope: str = "",
        api_key: str | None = None,
        access_token: str | None = None,
        signing_secret: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = (base_url or os.environ.get("BACKOFFICE_URL") or DEFAULT_BASE_URL).rstrip(
            "/"
        )
        self.auth = auth or _auth_from(client_id, client_secret, scope, api_key, access_token)
        self.signing_secret = signing_secret
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        )
        from backoffice_sdk.resources import (  # noqa: PLC0415 (resources import this module)
            Accounts,
            Reports,
            Transactions,
            Users,
            Webhooks,
        )

        self.accounts = Accounts(self)
        self.transactions = Transactions(self)
        self.users = Users(self)
        self.webhooks = Webhooks(self)
        self.reports = Reports(self)

    @classmethod
    def from_client_credentials(
        cls, client_id: str, client_secret: str, *, scope: str = "", **options: Any
    ) -> Client:
        return cls(auth=ClientCredentials(client_id, client_secret, scope=scope), **options)

    @classmethod
    def from_api_key(cls, api_key: str, **options: Any) -> Client:
        return cls(auth=ApiKey(api_key), **options)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def auth_headers(self) -> dict[str, str]:
        """The credential headers a request would carry now (a token fetched if due)."""
        return self.auth.headers(self._post_token_form) if self.auth else {}

    # -- requests ------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        idempotent: bool = False,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """Sends one call (retried as the policy allows) and unwraps its envelope.

        `idempotent=True` gives the call an `Idempotency-Key` when none is given.
        """
        response = self.send(
            method,
            path,
            params=params,
            json=json,
            idempotency_key=idempotency_key or (str(uuid.uuid4()) if idempotent else None),
            headers=headers,
        )
        body = _json.loads(response.content) if response.content else {}
        data = body.get("data") if isinstance(body, dict) else None
        meta = body.get("meta") if isinstance(body, dict) else None
        return ApiResponse(
            status_code=response.status_code,
            data=data if isinstance(data, dict) else {},
            message=str(body.get("message") or "") if isinstance(body, dict) else "",
            request_id=(meta or {}).get("requestId") or response.headers.get("x-request-id"),
            replayed=response.headers.get("idempotent-replayed", "").lower() == "true",
            headers=dict(response.headers),
            body=body,
        )

    def download(self, path: str, *, params: Params | None = None) -> bytes:
        """A file (an export, a report, a statement): its bytes."""
        return self.send("GET", path, params=params, accept="*/*").content

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        accept: str | None = None,
        authenticate: bool = True,
        form: Mapping[str, str] | None = None,
        basic: tuple[str, str] | None = None,
    ) -> httpx.Response:
        """The raw exchange: retries, renewal after 401, signing; raises `BankError`."""
        method = method.upper()
        body, fixed = _outgoing(
            json,
            form=form,
            basic=basic,
            idempotency_key=idempotency_key,
            accept=accept,
            headers=headers,
        )
        query = _query(params)
        retries = 0
        renewed = False
        while True:
            request = self._build(method, path, query, body, fixed, authenticate=authenticate)
            try:
                response = self._http.send(request)
            except httpx.TransportError as failure:
                if retries < self.retry.max_retries and retryable_after_failure(
                    method, idempotency_key
                ):
                    self._sleep(self.retry.delay(retries))
                    retries += 1
                    continue
                raise errors.BankConnectionError(
                    f"{method} {path}: {type(failure).__name__}: {failure}"
                ) from failure
            if (
                response.status_code == 401
                and authenticate
                and not renewed
                and self.auth is not None
                and self.auth.renew()
            ):
                renewed = True  # once: a second 401 is the answer
                continue
            if response.status_code in RETRY_STATUSES and retries < self.retry.max_retries:
                wait = retry_after_seconds(response.headers)
                if self.retry.may_wait(wait):
                    self._sleep(self.retry.delay(retries, wait))
                    retries += 1
                    continue
            if response.status_code >= 400:
                raise _error(response)
            return response

    def _build(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str | int | float | bool | None]],
        body: bytes,
        fixed: dict[str, str],
        *,
        authenticate: bool,
    ) -> httpx.Request:
        """One attempt: fresh credentials, and a fresh signature when signing."""
        headers = dict(fixed)
        if authenticate and self.auth is not None:
            headers.update(self.auth_headers())
        request = self._http.build_request(
            method, path, params=query, content=body or None, headers=headers
        )
        if self.signing_secret and authenticate:
            target = request.url.raw_path.decode("ascii")
            request.headers.update(signature_headers(self.signing_secret, method, target, body))
        return request

    def _post_token_form(
        self, path: str, form: Mapping[str, str], basic: tuple[str, str]
    ) -> Mapping[str, Any]:
        response = self.send("POST", path, form=form, basic=basic, authenticate=False)
        answer = _json.loads(response.content)
        assert isinstance(answer, dict)
        return answer


def _auth_from(
    client_id: str | None,
    client_secret: str | None,
    scope: str,
    api_key: str | None,
    access_token: str | None,
) -> Auth | None:
    if client_id and client_secret:
        return ClientCredentials(client_id, client_secret, scope=scope)
    if api_key:
        return ApiKey(api_key)
    if access_token:
        return BearerToken(access_token)
    return None


def _outgoing(
    json: Any,
    *,
    form: Mapping[str, str] | None,
    basic: tuple[str, str] | None,
    idempotency_key: str | None,
    accept: str | None,
    headers: Mapping[str, str] | None,
) -> tuple[bytes, dict[str, str]]:
    """The body bytes (the same on every attempt) and the headers that never change."""
    fixed: dict[str, str] = dict(headers or {})
    body = b""
    if json is not None:
        body = _json.dumps(json)
        fixed["Content-Type"] = "application/json"
    elif form is not None:
        body = str(httpx.QueryParams(form)).encode()
        fixed["Content-Type"] = "application/x-www-form-urlencoded"
    if basic is not None:
        pair = f"{basic[0]}:{basic[1]}".encode()
        fixed["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    if idempotency_key:
        fixed["Idempotency-Key"] = idempotency_key
    if accept:
        fixed["Accept"] = accept
    return body, fixed


def _query(params: Params | None) -> list[tuple[str, str | int | float | bool | None]]:
    """Query pairs: None left out, booleans as true/false, money exact, dates ISO."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in (params or {}).items():
        values = value if isinstance(value, list | tuple) else [value]
        for one in values:
            if one is None:
                continue
            if isinstance(one, bool):
                pairs.append((name, "true" if one else "false"))
            elif isinstance(one, Decimal):
                pairs.append((name, format(one, "f")))
            elif isinstance(one, datetime | date):
                pairs.append((name, one.isoformat()))
            elif isinstance(one, float):
                raise TypeError(f"{name}: pass money as decimal.Decimal, never float")
            else:
                pairs.append((name, str(one)))
    return pairs


def _error(response: httpx.Response) -> errors.BankError:
    try:
        body: Any = _json.loads(response.content) if response.content else None
    except ValueError:
        body = response.text
    return errors.from_answer(
        response.status_code, body, dict(response.headers), response.headers.get("x-request-id")
    )
