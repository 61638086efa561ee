"""The authorization-code flow without a browser, and tokens made by hand.

`sign_in` drives the sign-in and consent page the way a browser would (GET
the page, post its form back) with plain requests; the browser test does it
with Chromium. `mint` signs tokens with the stack's own key (read from the
stack database and opened with the key file), for expired and tampered
tokens that the server must refuse.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sqlite3
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import psycopg2
import requests
from cryptography.hazmat.primitives import serialization

from server.crypto import jws
from server.run import Stack
from tests.common.auth import SANDBOX_CLIENT

REDIRECT_URI = "http://localhost:8765/callback"
ALICE = ("alice@example.com", "alice-password")
BOB = ("bob@example.com", "bob-password")
ADMIN = ("admin@example.com", "admin-password")
TIMEOUT = 30


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_params(challenge: str = "", **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": SANDBOX_CLIENT[0],
        "redirect_uri": REDIRECT_URI,
        "scope": "banking.read banking.write",
        "state": secrets.token_urlsafe(12),
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


class _FormFields(HTMLParser):
    """The named inputs of the page's form (button values excluded)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("name"):
            self.fields[str(values["name"])] = values.get("value") or ""


def form_fields(page: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(page)
    return parser.fields


def consent_page(base_url: str, params: dict[str, str]) -> requests.Response:
    return requests.get(
        f"{base_url}/oauth/authorize", params=params, allow_redirects=False, timeout=TIMEOUT
    )


def submit(base_url: str, fields: dict[str, str], **changes: str) -> requests.Response:
    form = dict(fields)
    form.update(changes)
    return requests.post(
        f"{base_url}/oauth/authorize", data=form, allow_redirects=False, timeout=TIMEOUT
    )


def sign_in(
    base_url: str,
    params: dict[str, str],
    user: tuple[str, str] = ALICE,
    decision: str = "approve",
) -> requests.Response:
    """Shows the page for `params` and posts it back signed in as `user`."""
    page = consent_page(base_url, params)
    assert page.status_code == 200, page.text
    return submit(
        base_url, form_fields(page.text), email=user[0], password=user[1], decision=decision
    )


def redirect_query(response: requests.Response) -> dict[str, str]:
    """The query of a 302 to the client's redirect URI."""
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?") or "?" in location, location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def code_for(
    base_url: str, user: tuple[str, str] = ALICE, scope: str = "banking.read banking.write"
) -> tuple[str, str]:
    """(code, verifier) for `user` through the sandbox client."""
    verifier, challenge = pkce_pair()
    query = redirect_query(sign_in(base_url, authorize_params(challenge, scope=scope), user))
    return query["code"], verifier


def exchange(
    base_url: str,
    code: str,
    verifier: str,
    client: tuple[str, str] = SANDBOX_CLIENT,
    redirect_uri: str = REDIRECT_URI,
) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier:
        form["code_verifier"] = verifier
    return requests.post(f"{base_url}/oauth/token", data=form, auth=client, timeout=TIMEOUT)


def user_tokens(
    base_url: str, user: tuple[str, str] = ALICE, scope: str = "banking.read banking.write"
) -> dict[str, Any]:
    """A token response for `user` (authorization code + PKCE, sandbox client)."""
    code, verifier = code_for(base_url, user, scope)
    response = exchange(base_url, code, verifier)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})  # type: ignore[no-any-return]


# -- Tokens made by hand ---------------------------------------------------------------
def _query(stack: Stack, statement: str) -> list[tuple[Any, ...]]:
    if stack.settings.database_url:
        connection = psycopg2.connect(stack.settings.database_url)
    else:
        connection = sqlite3.connect(stack.settings.sqlite_path, timeout=30)
    try:
        cursor = connection.cursor()
        cursor.execute(statement)
        return list(cursor.fetchall())
    finally:
        connection.close()


def signing_key(stack: Stack, kid: str) -> Any:
    """The stack's private signing key `kid`, opened with its key file."""
    rows = _query(stack, f"SELECT private_key FROM signing_keys WHERE kid = '{kid}'")
    assert rows, f"no signing key {kid}"
    password = (stack.settings.data_dir / "keys" / "jwt-signing.key").read_bytes()
    return serialization.load_pem_private_key(rows[0][0].encode(), password=password)


def mint(stack: Stack, payload: dict[str, Any], kid: str, key: Any = None) -> str:
    """A token signed with the stack's key `kid` (or with `key` under that kid), its
    signature in the low-S form the server accepts (as its own tokens are)."""
    private = key if key is not None else signing_key(stack, kid)
    return jws.low_s(jwt.encode(payload, private, algorithm="ES256", headers={"kid": kid}))


def b64url_json(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
