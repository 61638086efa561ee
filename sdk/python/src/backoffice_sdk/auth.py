"""Credentials: OAuth 2.0 tokens fetched and refreshed, API keys, fixed tokens.

An `Auth` gives the headers of the next request and, after a 401, says
whether new credentials are worth one more try (`renew`). OAuth access
tokens live an hour: `ClientCredentials` fetches one on first use, fetches
again `refresh_margin` seconds before it expires, and once more when the
server answers 401 anyway (revoked, rotated keys, a clock that disagrees).
`RefreshToken` keeps a person's authorization-code grant alive: refresh
tokens rotate on use, and `on_rotate` gets every new one to store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# (path, form fields, HTTP basic credentials) -> the token endpoint's JSON answer.
TokenPoster = Callable[[str, Mapping[str, str], tuple[str, str]], Mapping[str, Any]]


class Auth(Protocol):
    def headers(self, post: TokenPoster) -> dict[str, str]:
        """The credential headers for the next request."""
        ...

    def renew(self) -> bool:
        """Forget the current credentials after a 401; True if new ones may succeed."""
        ...


@dataclass(frozen=True, slots=True)
class ApiKey:
    """`X-API-Key`; keys are made by `POST /v1/clients/{id}/api-keys`."""

    key: str

    def headers(self, post: TokenPoster) -> dict[str, str]:
        return {"X-API-Key": self.key}

    def renew(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class BearerToken:
    """An access token got elsewhere; never refreshed."""

    token: str

    def headers(self, post: TokenPoster) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def renew(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Token:
    access_token: str
    expires_at: float  # time.monotonic() seconds
    scope: str
    refresh_token: str | None


class _OAuth:
    """A cached access token, fetched under a lock so threads fetch it once."""

    token_path = "/oauth/token"  # noqa: S105 (a path, not a secret)

    def __init__(self, client_id: str, client_secret: str, refresh_margin: float) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.refresh_margin = refresh_margin
        self._lock = threading.Lock()
        self._token: Token | None = None
        self.fetches = 0  # how many tokens were fetched (for diagnostics)

    @property
    def token(self) -> Token | None:
        return self._token

    def headers(self, post: TokenPoster) -> dict[str, str]:
        with self._lock:
            token = self._token
            if token is None or time.monotonic() >= token.expires_at - self.refresh_margin:
                token = self._token = self._fetch(post, token)
                self.fetches += 1
        return {"Authorization": f"Bearer {token.access_token}"}

    def renew(self) -> bool:
        with self._lock:
            if self._token is not None:
                self._token = Token("", 0.0, self._token.scope, self._token.refresh_token)
        return True

    def expire_now(self) -> None:
        """Treat the cached token as expired (the next request fetches one)."""
        self.renew()

    def _fetch(self, post: TokenPoster, previous: Token | None) -> Token:
        raise NotImplementedError

    def _token_from(self, answer: Mapping[str, Any], previous: Token | None) -> Token:
        lifetime = float(answer.get("expires_in") or 3600)
        refresh = answer.get("refresh_token") or (previous.refresh_token if previous else None)
        return Token(
            access_token=str(answer["access_token"]),
            expires_at=time.monotonic() + lifetime,
            scope=str(answer.get("scope") or ""),
            refresh_token=str(refresh) if refresh else None,
        )

    def _credentials(self) -> tuple[str, str]:
        return (self.client_id, self._secret)


class ClientCredentials(_OAuth):
    """The client credentials grant (a service acting for itself)."""

    def __init__(
        self, client_id: str, client_secret: str, *, scope: str = "", refresh_margin: float = 60.0
    ) -> None:
        super().__init__(client_id, client_secret, refresh_margin)
        self.scope = scope

    def _fetch(self, post: TokenPoster, previous: Token | None) -> Token:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        return self._token_from(post(self.token_path, form, self._credentials()), None)


class RefreshToken(_OAuth):
    """A person's grant (authorization code + PKCE, done elsewhere) kept alive
    with its rotating refresh token."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        access_token: str | None = None,
        expires_in: float = 0.0,
        on_rotate: Callable[[str], None] | None = None,
        refresh_margin: float = 60.0,
    ) -> None:
        super().__init__(client_id, client_secret, refresh_margin)
        self._on_rotate = on_rotate
        self._token = Token(
            access_token or "", time.monotonic() + expires_in if access_token else 0.0, "",
            refresh_token,
        )  # fmt: skip

    def _fetch(self, post: TokenPoster, previous: Token | None) -> Token:
        assert previous is not None and previous.refresh_token
        form = {"grant_type": "refresh_token", "refresh_token": previous.refresh_token}
        token = self._token_from(post(self.token_path, form, self._credentials()), previous)
        if self._on_rotate and token.refresh_token != previous.refresh_token:
            self._on_rotate(str(token.refresh_token))
        return token
