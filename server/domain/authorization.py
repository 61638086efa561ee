"""The authorization-code flow's rules (RFC 6749 section 4.1, RFC 7636 PKCE).

Plain Python: which authorization requests are acceptable and how each
refusal is answered, PKCE, the sign-in page's anti-forgery tokens, and what
a user may be granted.

Two kinds of refusal (RFC 6749 section 4.1.2.1): while the client or its
redirect URI is in doubt the answer is an error page and never a redirect
(`PageError`), since redirecting there would make the server an open
redirector; after that, errors go back to the client's redirect URI
(`RedirectError`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from server.domain import clients

STATE_LENGTH_MAX = 500
DEFAULT_SCOPE = "banking.read"
S256 = "S256"
_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_VERIFIER_RE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
CSRF_TTL_SECONDS = 600
_CSRF_RE = re.compile(r"^([A-Za-z0-9_-]{22})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")
EMAIL_LENGTH_MAX = 254
PASSWORD_LENGTH_MAX = 1024


class PageError(Exception):
    """Answered as an HTML error page (400); never redirects."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RedirectError(Exception):
    """Answered by a redirect to the client with `error` (RFC 6749 4.1.2.1)."""

    def __init__(self, error: str, description: str, redirect_uri: str, state: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state

    def location(self) -> str:
        return redirect_location(
            self.redirect_uri,
            {"error": self.error, "error_description": self.description, "state": self.state},
        )


@dataclass(frozen=True)
class Params:
    """The authorization request's parameters, as the page echoes them."""

    response_type: str = ""
    client_id: str = ""
    redirect_uri: str = ""
    scope: str = ""
    state: str = ""
    code_challenge: str = ""
    code_challenge_method: str = ""

    def canonical(self) -> bytes:
        return json.dumps(
            [
                self.response_type,
                self.client_id,
                self.redirect_uri,
                self.scope,
                self.state,
                self.code_challenge,
                self.code_challenge_method,
            ],
            separators=(",", ":"),
        ).encode()


@dataclass(frozen=True)
class ClientFacts:
    """What the flow needs to know of a client."""

    client_id: str
    name: str
    client_type: str
    scopes: tuple[str, ...]
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    usable: bool  # ACTIVE, and not a sandbox client in production mode


@dataclass(frozen=True)
class Accepted:
    """An acceptable authorization request."""

    client: ClientFacts
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    code_challenge: str


def redirect_location(redirect_uri: str, params: dict[str, str]) -> str:
    """`redirect_uri` with `params` added to its query (empty values left out)."""
    query = urlencode({name: value for name, value in params.items() if value})
    return f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}"


def _redirect_uri(params: Params, client: ClientFacts) -> str:
    if not params.redirect_uri:
        if len(client.redirect_uris) == 1:
            return client.redirect_uris[0]
        raise PageError("The redirect_uri parameter is missing.")
    # Exact string comparison (RFC 6749 section 3.1.2.3, OAuth 2.1).
    if params.redirect_uri not in client.redirect_uris:
        raise PageError("The redirect_uri is not registered for this application.")
    return params.redirect_uri


def check_request(params: Params, client: ClientFacts | None) -> Accepted:
    """The request accepted, or PageError / RedirectError."""
    if client is None or not client.usable:
        raise PageError("This application is unknown or disabled.")
    redirect_uri = _redirect_uri(params, client)
    state = params.state

    def refuse(error: str, description: str) -> RedirectError:
        return RedirectError(error, description, redirect_uri, state)

    if len(state) > STATE_LENGTH_MAX:
        state = ""  # not echoed: it is what is wrong
        raise refuse("invalid_request", f"state must be at most {STATE_LENGTH_MAX} characters")
    if not params.response_type:
        raise refuse("invalid_request", "response_type is required")
    if params.response_type != "code":
        raise refuse("unsupported_response_type", "Only response_type=code is supported")
    if clients.AUTHORIZATION_CODE not in client.grant_types:
        raise refuse("unauthorized_client", "This client may not use the authorization code grant")
    method = params.code_challenge_method or (S256 if params.code_challenge else "")
    if method and method != S256:
        raise refuse("invalid_request", "code_challenge_method must be S256")
    if method and not params.code_challenge:
        raise refuse("invalid_request", "code_challenge is required with code_challenge_method")
    if params.code_challenge and not _CHALLENGE_RE.match(params.code_challenge):
        raise refuse("invalid_request", "code_challenge must be 43 base64url characters")
    if client.client_type == clients.PUBLIC and not params.code_challenge:
        raise refuse("invalid_request", "PKCE (code_challenge, S256) is required")
    asked = params.scope.split() or [DEFAULT_SCOPE]
    refused = [scope for scope in asked if scope not in client.scopes]
    if refused:
        raise refuse("invalid_scope", f"Scope not allowed for this client: {refused[0][:40]}")
    scopes = tuple(scope for scope in clients.SCOPES if scope in asked)
    return Accepted(client, redirect_uri, scopes, state, params.code_challenge)


def granted_scopes(asked: tuple[str, ...], is_staff: bool) -> tuple[str, ...]:
    """What a user may grant: `backoffice.admin` only when they are staff."""
    return tuple(scope for scope in asked if is_staff or scope != clients.ADMIN_SCOPE)


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def pkce_matches(challenge: str, verifier: str) -> bool:
    if not _VERIFIER_RE.match(verifier):
        return False
    return hmac.compare_digest(pkce_challenge(verifier), challenge)


# -- Anti-forgery tokens of the sign-in page -------------------------------------------
# `<nonce>.<expiry>.<mac>`: an HMAC over the nonce, the expiry and the echoed
# request parameters, so a token only posts the request it was shown with.
# Showing the page writes nothing; the store remembers posted nonces until
# they expire, so that each token works once.


def _mac(key: bytes, nonce: str, expires: int, params: Params) -> str:
    message = b"csrf|" + nonce.encode() + b"|" + str(expires).encode() + b"|" + params.canonical()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_token(key: bytes, params: Params, now_seconds: int) -> str:
    nonce = secrets.token_urlsafe(16)
    expires = now_seconds + CSRF_TTL_SECONDS
    return f"{nonce}.{expires}.{_mac(key, nonce, expires, params)}"


@dataclass(frozen=True)
class CsrfClaim:
    nonce: str
    expires: int


def check_csrf(key: bytes, token: str, params: Params, now_seconds: int) -> CsrfClaim | None:
    """The token's nonce when it is genuine, unexpired and made for `params`."""
    match = _CSRF_RE.match(token)
    if match is None:
        return None
    nonce, expires_text, mac = match.groups()
    expires = int(expires_text)
    if expires < now_seconds or expires > now_seconds + CSRF_TTL_SECONDS:
        return None
    if not hmac.compare_digest(_mac(key, nonce, expires, params), mac):
        return None
    return CsrfClaim(nonce, expires)


# -- What the flow answers -------------------------------------------------------------
@dataclass(frozen=True)
class ShowConsent:
    """The sign-in and consent page for `params` (again, with `error`, after a refusal)."""

    accepted: Accepted
    params: Params
    error: str = ""
    email: str = ""
    # 429 (the address must wait) or 503 (hashing busy) with Retry-After seconds.
    status: int = 200
    retry_after: int = 0


@dataclass(frozen=True)
class ShowError:
    """The 400 error page."""

    message: str


@dataclass(frozen=True)
class Redirect:
    """302 to the client."""

    location: str


Outcome = ShowConsent | ShowError | Redirect
FORGED_FORM = "The sign-in form has expired or was already sent. Start again from the application."
