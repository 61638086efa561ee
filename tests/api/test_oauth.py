"""OAuth 2.0 end to end through Envoy (and gRPC), on SQLite and PostgreSQL.

Stock clients only where a client library exists: authlib for client
credentials, refresh and revocation, headless Chromium for the sign-in and
consent page. Every refusal is checked for its status, its RFC or contract
code, and for saying nothing it should not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
import jwt
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.api import httpbody_pb2

from backoffice.v1 import account_service_pb2 as account_pb
from backoffice.v1 import account_service_pb2_grpc as account_grpc
from backoffice.v1 import auth_service_pb2 as auth_pb
from backoffice.v1 import auth_service_pb2_grpc as auth_grpc
from server.config import REPO_ROOT
from server.run import Stack, settings_env
from server.store import sandbox
from tests.common import envelope, oauth, users
from tests.common.auth import (
    FORM,
    LIMITED_CLIENT,
    SANDBOX_CLIENT,
    authenticated,
    create_client,
    token_over_rest,
)
from tests.common.browser import headless_chromium
from tests.common.stack import stack_settings, started
from tests.conftest import Rest

TIMEOUT = 30
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"


def _token_url(stack: Stack) -> str:
    return f"{stack.http_url}/oauth/token"


def _accounts(stack: Stack, token: str) -> requests.Response:
    return requests.get(
        f"{stack.http_url}/v1/accounts", headers=oauth.bearer(token), timeout=TIMEOUT
    )


def _refused(response: requests.Response) -> None:
    """401 UNAUTHORIZED envelope with a Bearer challenge, and nothing more."""
    error = envelope.error(response, 401, "UNAUTHORIZED")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Traceback" not in response.text and "jwt" not in error["message"].lower()


def _rfc_error(response: requests.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == error, body
    assert set(body) <= {"error", "error_description"}
    envelope.assert_no_internal_headers(response)
    return body  # type: ignore[no-any-return]


# -- Client credentials, refresh and revocation with authlib ---------------------------
@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials_with_authlib(stack: Stack, method: str) -> None:
    with OAuth2Session(
        *SANDBOX_CLIENT, token_endpoint_auth_method=method, scope="banking.read"
    ) as session:
        token = session.fetch_token(_token_url(stack), grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        assert token["expires_in"] == 3600
        assert token["scope"] == "banking.read"
        # RFC 6749 section 4.4.3: no refresh token for client credentials.
        assert "refresh_token" not in token
        response = session.get(f"{stack.http_url}/v1/accounts", timeout=TIMEOUT)
    envelope.success(response)
    payload = oauth.claims(token["access_token"])
    assert payload["sub"] == payload["client_id"] == SANDBOX_CLIENT[0]
    assert payload["role"] == "OPERATIONS"  # no backoffice.admin asked for


def test_token_answer_is_not_cached(stack: Stack) -> None:
    response = requests.post(
        _token_url(stack),
        data={"grant_type": "client_credentials"},
        auth=SANDBOX_CLIENT,
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert "success" not in response.json()  # RFC JSON, never the envelope


@pytest.mark.parametrize("endpoint", ["/oauth/token", "/oauth/refresh"])
def test_refresh_with_authlib_rotates(stack: Stack, endpoint: str) -> None:
    first = oauth.user_tokens(stack.http_url)
    with OAuth2Session(*SANDBOX_CLIENT, token=first) as session:
        second = session.refresh_token(
            f"{stack.http_url}{endpoint}", refresh_token=first["refresh_token"]
        )
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert second["scope"] == "banking.read banking.write"
        # The session now carries the new access token.
        envelope.success(session.get(f"{stack.http_url}/v1/accounts", timeout=TIMEOUT))
    assert oauth.claims(second["access_token"])["sub"] == sandbox.user_id("alice")
    # The refresh token rotated: the old one is spent...
    again = requests.post(
        f"{stack.http_url}{endpoint}",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=SANDBOX_CLIENT,
        timeout=TIMEOUT,
    )
    _rfc_error(again, 400, "invalid_grant")
    # ...and its reuse revoked the whole family, the newest access token included.
    _refused(_accounts(stack, second["access_token"]))


def test_refresh_may_narrow_but_not_widen(stack: Stack) -> None:
    tokens = oauth.user_tokens(stack.http_url, scope="banking.read")
    wider = requests.post(
        f"{stack.http_url}/oauth/refresh",
        data={"refresh_token": tokens["refresh_token"], "scope": "banking.read banking.write"},
        auth=SANDBOX_CLIENT,
        timeout=TIMEOUT,
    )
    _rfc_error(wider, 400, "invalid_scope")
    wrong_grant = requests.post(
        f"{stack.http_url}/oauth/refresh",
        data={"grant_type": "client_credentials"},
        auth=SANDBOX_CLIENT,
        timeout=TIMEOUT,
    )
    _rfc_error(wrong_grant, 400, "unsupported_grant_type")


def test_refresh_token_of_another_client_is_refused(stack: Stack) -> None:
    tokens = oauth.user_tokens(stack.http_url)
    response = requests.post(
        f"{stack.http_url}/oauth/refresh",
        data={"refresh_token": tokens["refresh_token"]},
        auth=LIMITED_CLIENT,
        timeout=TIMEOUT,
    )
    # sandbox-limited may not refresh at all, or not this token: refused either way.
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_grant", "unauthorized_client")
    envelope.success(_accounts(stack, tokens["access_token"]))


@pytest.mark.parametrize("hint", ["access_token", ""])
def test_revoked_access_token_answers_401_at_once(stack: Stack, hint: str) -> None:
    tokens = oauth.user_tokens(stack.http_url)
    envelope.success(_accounts(stack, tokens["access_token"]))
    with OAuth2Session(*SANDBOX_CLIENT) as session:
        response = session.revoke_token(
            f"{stack.http_url}/oauth/revoke",
            token=tokens["access_token"],
            token_type_hint=hint or None,
        )
    assert response.status_code == 200
    assert response.json() == {}
    _refused(_accounts(stack, tokens["access_token"]))
    # gRPC callers are refused as well.
    with grpc.insecure_channel(stack.grpc_target) as raw:
        stub = account_grpc.AccountServiceStub(authenticated(raw, tokens["access_token"]))
        with pytest.raises(grpc.RpcError) as caught:
            stub.ListAccounts(account_pb.ListAccountsRequest(), timeout=TIMEOUT)
    envelope.grpc_error(caught.value, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHORIZED")
    # The refresh token of the grant still works: only the access token was revoked.
    refreshed = requests.post(
        f"{stack.http_url}/oauth/refresh",
        data={"refresh_token": tokens["refresh_token"]},
        auth=SANDBOX_CLIENT,
        timeout=TIMEOUT,
    )
    assert refreshed.status_code == 200, refreshed.text


def test_revoking_the_refresh_token_ends_the_grant(stack: Stack) -> None:
    tokens = oauth.user_tokens(stack.http_url)
    with OAuth2Session(*SANDBOX_CLIENT) as session:
        response = session.revoke_token(
            f"{stack.http_url}/oauth/revoke",
            token=tokens["refresh_token"],
            token_type_hint="refresh_token",
        )
    assert response.status_code == 200
    _refused(_accounts(stack, tokens["access_token"]))
    again = requests.post(
        f"{stack.http_url}/oauth/refresh",
        data={"refresh_token": tokens["refresh_token"]},
        auth=SANDBOX_CLIENT,
        timeout=TIMEOUT,
    )
    _rfc_error(again, 400, "invalid_grant")


def test_revoke_unknown_token_is_200_and_bad_client_is_401(stack: Stack) -> None:
    unknown = requests.post(
        f"{stack.http_url}/oauth/revoke",
        data={"token": "not-a-token"},
        auth=SANDBOX_CLIENT,
        timeout=TIMEOUT,
    )
    assert unknown.status_code == 200
    bad = requests.post(
        f"{stack.http_url}/oauth/revoke",
        data={"token": "x"},
        auth=(SANDBOX_CLIENT[0], "wrong"),
        timeout=TIMEOUT,
    )
    _rfc_error(bad, 401, "invalid_client")
    # Another client cannot revoke this client's tokens.
    tokens = oauth.user_tokens(stack.http_url)
    other = requests.post(
        f"{stack.http_url}/oauth/revoke",
        data={"token": tokens["access_token"]},
        auth=LIMITED_CLIENT,
        timeout=TIMEOUT,
    )
    assert other.status_code == 200
    envelope.success(_accounts(stack, tokens["access_token"]))


# -- Client authentication and grant errors --------------------------------------------
def test_wrong_client_secret_is_invalid_client_with_basic_challenge(stack: Stack) -> None:
    wrong = requests.post(
        _token_url(stack),
        data={"grant_type": "client_credentials"},
        auth=(SANDBOX_CLIENT[0], "wrong-secret"),
        timeout=TIMEOUT,
    )
    body = _rfc_error(wrong, 401, "invalid_client")
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    unknown = requests.post(
        _token_url(stack),
        data={"grant_type": "client_credentials"},
        auth=("no-such-client", "wrong-secret"),
        timeout=TIMEOUT,
    )
    # The same words whether or not the client exists.
    assert _rfc_error(unknown, 401, "invalid_client") == body
    in_form = requests.post(
        _token_url(stack),
        data={
            "grant_type": "client_credentials",
            "client_id": SANDBOX_CLIENT[0],
            "client_secret": "wrong",
        },
        timeout=TIMEOUT,
    )
    _rfc_error(in_form, 401, "invalid_client")


def test_unknown_grant_type_and_bad_forms(stack: Stack) -> None:
    url = _token_url(stack)
    _rfc_error(
        requests.post(url, data={"grant_type": "password"}, auth=SANDBOX_CLIENT, timeout=TIMEOUT),
        400,
        "unsupported_grant_type",
    )
    _rfc_error(
        requests.post(url, json={"grant_type": "client_credentials"}, timeout=TIMEOUT),
        400,
        "invalid_request",
    )
    _rfc_error(
        requests.post(
            url,
            data="grant_type=client_credentials&grant_type=password",
            headers={"Content-Type": FORM},
            auth=SANDBOX_CLIENT,
            timeout=TIMEOUT,
        ),
        400,
        "invalid_request",
    )
    _rfc_error(
        requests.post(
            url,
            data={"grant_type": "client_credentials", "scope": "banking.everything"},
            auth=SANDBOX_CLIENT,
            timeout=TIMEOUT,
        ),
        400,
        "invalid_scope",
    )
    _rfc_error(
        requests.post(
            url, data={"grant_type": "authorization_code"}, auth=SANDBOX_CLIENT, timeout=TIMEOUT
        ),
        400,
        "invalid_request",
    )


def test_token_over_grpc_reports_status_in_metadata(raw_channel: grpc.Channel) -> None:
    stub = auth_grpc.OAuthServiceStub(raw_channel)
    form = f"grant_type=client_credentials&client_id={SANDBOX_CLIENT[0]}&client_secret=nope"
    reply, call_ = stub.Token.with_call(
        auth_pb.TokenRequest(
            http_body=httpbody_pb2.HttpBody(content_type=FORM, data=form.encode())
        ),
        timeout=TIMEOUT,
    )
    metadata = dict(call_.initial_metadata())
    assert metadata["x-bank-http-status"] == "401"
    assert metadata["www-authenticate"].startswith("Basic")
    assert json.loads(reply.data)["error"] == "invalid_client"


# -- Access tokens the server must refuse ----------------------------------------------
def test_no_token_is_401_with_challenge(
    stack: Stack, anonymous: Rest, raw_channel: grpc.Channel
) -> None:
    _refused(anonymous.get("/v1/accounts"))
    _refused(anonymous.get("/v1/accounts", headers={"Authorization": "Basic YTpi"}))
    _refused(anonymous.get("/v1/accounts", headers={"Authorization": "Bearer"}))
    with pytest.raises(grpc.RpcError) as caught:
        account_grpc.AccountServiceStub(raw_channel).ListAccounts(
            account_pb.ListAccountsRequest(), timeout=TIMEOUT
        )
    envelope.grpc_error(caught.value, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHORIZED")


def _live_claims(stack: Stack) -> tuple[dict[str, Any], str]:
    token = oauth.user_tokens(stack.http_url)["access_token"]
    return oauth.claims(token), jwt.get_unverified_header(token)["kid"]


def test_hand_minted_token_with_the_stack_key_works(stack: Stack) -> None:
    """The control of the refusals below: minting itself is right."""
    payload, kid = _live_claims(stack)
    payload["jti"] = generate_token(16)
    envelope.success(_accounts(stack, oauth.mint(stack, payload, kid)))


def test_expired_token_is_refused(stack: Stack) -> None:
    payload, kid = _live_claims(stack)
    now = int(time.time())
    payload.update(iat=now - 7200, nbf=now - 7200, exp=now - 3600, jti=generate_token(16))
    _refused(_accounts(stack, oauth.mint(stack, payload, kid)))


def test_tampered_payload_is_refused(stack: Stack) -> None:
    token = oauth.user_tokens(stack.http_url)["access_token"]
    header, _, signature = token.split(".")
    payload = oauth.claims(token)
    payload.update(role="ADMIN", scope="banking.read banking.write backoffice.admin")
    _refused(_accounts(stack, f"{header}.{oauth.b64url_json(payload)}.{signature}"))


def test_alg_none_and_hs256_tokens_are_refused(stack: Stack) -> None:
    payload, kid = _live_claims(stack)
    unsigned = oauth.b64url_json({"alg": "none", "typ": "JWT", "kid": kid})
    _refused(_accounts(stack, f"{unsigned}.{oauth.b64url_json(payload)}."))
    # Key confusion: HS256 keyed with the published public key.
    public_jwk = next(
        key
        for key in requests.get(f"{stack.http_url}/.well-known/jwks.json", timeout=TIMEOUT).json()[
            "keys"
        ]
        if key["kid"] == kid
    )
    pem = jwt.PyJWK(public_jwk).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = (
        f"{oauth.b64url_json({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}."
        f"{oauth.b64url_json(payload)}"
    )
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(mac).decode().rstrip("=")
    _refused(_accounts(stack, f"{signing_input}.{signature}"))


def test_token_signed_by_a_foreign_key_with_the_same_kid_is_refused(stack: Stack) -> None:
    payload, kid = _live_claims(stack)
    foreign = ec.generate_private_key(ec.SECP256R1())
    _refused(_accounts(stack, oauth.mint(stack, payload, kid, key=foreign)))


def test_token_of_another_issuer_or_audience_is_refused(stack: Stack) -> None:
    payload, kid = _live_claims(stack)
    _refused(_accounts(stack, oauth.mint(stack, dict(payload, iss="https://evil.test"), kid)))
    _refused(_accounts(stack, oauth.mint(stack, dict(payload, aud="other-api"), kid)))


# -- Keys and metadata -----------------------------------------------------------------
def test_jwks_publishes_the_active_kid(stack: Stack, admin_token: str) -> None:
    response = requests.get(f"{stack.http_url}/.well-known/jwks.json", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert "max-age" in response.headers["Cache-Control"]
    keys = response.json()["keys"]
    kid = jwt.get_unverified_header(admin_token)["kid"]
    key = next(key for key in keys if key["kid"] == kid)
    assert key["use"] == "sig" and key["alg"] == "ES256"
    assert "d" not in key  # never the private part
    # A stock verifier checks the token with the published key alone.
    verified = jwt.decode(
        admin_token,
        jwt.PyJWK(key).key,
        algorithms=["ES256"],
        audience="backoffice",
        issuer=stack.settings.public_url,
    )
    assert verified["client_id"] == SANDBOX_CLIENT[0]


def test_signing_key_rotation(stack: Stack) -> None:
    before = token_over_rest(stack.http_url)["access_token"]
    old_kid = jwt.get_unverified_header(before)["kid"]
    result = subprocess.run(
        [sys.executable, "-m", "server", "rotate-signing-key"],
        cwd=REPO_ROOT,
        env=settings_env(stack.settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    new_kid = json.loads(result.stdout.strip().splitlines()[-1])["active_kid"]
    assert new_kid != old_kid
    # The next token is signed with the new key, at once (no cache delay).
    after = token_over_rest(stack.http_url)["access_token"]
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    kids = {
        key["kid"]
        for key in requests.get(f"{stack.http_url}/.well-known/jwks.json", timeout=TIMEOUT).json()[
            "keys"
        ]
    }
    assert {old_kid, new_kid} <= kids
    # Tokens of the old key keep working until they expire.
    envelope.success(_accounts(stack, before))
    envelope.success(_accounts(stack, after))


def test_authorization_server_metadata(stack: Stack, admin_token: str) -> None:
    response = requests.get(
        f"{stack.http_url}/.well-known/oauth-authorization-server", timeout=TIMEOUT
    )
    assert response.status_code == 200
    meta = response.json()
    issuer = meta["issuer"]
    assert issuer == oauth.claims(admin_token)["iss"] == stack.settings.public_url
    assert meta["authorization_endpoint"] == f"{issuer}/oauth/authorize"
    assert meta["token_endpoint"] == f"{issuer}/oauth/token"
    assert meta["revocation_endpoint"] == f"{issuer}/oauth/revoke"
    assert meta["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert set(meta["scopes_supported"]) == {"banking.read", "banking.write", "backoffice.admin"}
    assert meta["response_types_supported"] == ["code"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code",
        "client_credentials",
        "refresh_token",
    }
    assert {"client_secret_basic", "client_secret_post", "none"} == set(
        meta["token_endpoint_auth_methods_supported"]
    )
    assert (
        meta["revocation_endpoint_auth_methods_supported"]
        == meta["token_endpoint_auth_methods_supported"]
    )
    assert meta["code_challenge_methods_supported"] == ["S256"]
    # Every endpoint named there answers.
    assert requests.get(meta["jwks_uri"], timeout=TIMEOUT).status_code == 200


# -- Authorization code with PKCE, in a real browser -----------------------------------
class _Callback:
    """A tiny HTTP server on 127.0.0.1:8765 (the sandbox redirect URI), when the port is free."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.server: ThreadingHTTPServer | None = None

    def __enter__(self) -> _Callback:
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                body = b"<!DOCTYPE html><title>callback</title><p id=done>received</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                del args

        try:
            self.server = ThreadingHTTPServer(("127.0.0.1", 8765), Handler)
        except OSError:
            self.server = None  # busy: the browser's final URL is read instead
            return self
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _wait_for_url(driver: Any, prefix: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if driver.current_url.startswith(prefix):
            return str(driver.current_url)
        time.sleep(0.1)
    raise AssertionError(f"the browser never reached {prefix}: {driver.current_url}")


def _wait_for_element(driver: Any, element_id: str, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = driver.find_elements("id", element_id)
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no element #{element_id} on {driver.current_url}")


def test_authorization_code_flow_in_headless_chromium(stack: Stack, tmp_path: Path) -> None:
    verifier = generate_token(64)
    client = OAuth2Session(
        *SANDBOX_CLIENT,
        scope="banking.read banking.write",
        redirect_uri=oauth.REDIRECT_URI,
        code_challenge_method="S256",
    )
    url, state = client.create_authorization_url(
        f"{stack.http_url}/oauth/authorize", code_verifier=verifier
    )
    with _Callback() as callback, headless_chromium(tmp_path / "profile") as driver:
        driver.get(url)
        assert driver.find_element("id", "client-name").text == SANDBOX_CLIENT[0]
        scopes = driver.find_element("id", "scopes").text
        assert "banking.read" in scopes and "banking.write" in scopes
        # A wrong password shows the page again, with a generic message.
        driver.find_element("id", "email").send_keys(oauth.ALICE[0])
        driver.find_element("id", "password").send_keys("not-her-password")
        driver.find_element("id", "approve").click()
        # The click submits the form; the answer is a new page, which may not be there yet.
        assert "incorrect" in _wait_for_element(driver, "error").text
        email = driver.find_element("id", "email")
        assert email.get_attribute("value") == oauth.ALICE[0]
        driver.find_element("id", "password").send_keys(oauth.ALICE[1])
        driver.find_element("id", "approve").click()
        final_url = _wait_for_url(driver, oauth.REDIRECT_URI)
        driver_logs = driver.get_log("browser")
    if callback.server is not None:
        # The browser really went there, with the query the client reads.
        arrived = [path for path in callback.requests if path.startswith("/callback?")]
        assert arrived == [final_url.removeprefix("http://localhost:8765")]
    assert not [entry for entry in driver_logs if "Content Security Policy" in entry["message"]]
    query = {k: v[0] for k, v in parse_qs(urlsplit(final_url).query).items()}
    assert query["state"] == state
    token = client.fetch_token(
        f"{stack.http_url}/oauth/token", authorization_response=final_url, code_verifier=verifier
    )
    client.close()
    payload = oauth.claims(token["access_token"])
    assert payload["sub"] == sandbox.user_id("alice")
    assert payload["role"] == "CUSTOMER"
    assert payload["scope"] == "banking.read banking.write"
    # The token acts as Alice. Her account is looked up by id: other tests may
    # have opened more accounts for her than one page holds.
    own = sandbox.account_id("alice", "CHECKING")
    mine = requests.get(
        f"{stack.http_url}/v1/accounts/{own}",
        headers=oauth.bearer(token["access_token"]),
        timeout=TIMEOUT,
    )
    assert envelope.success(mine)["account"]["id"] == own
    listed = envelope.success(_accounts(stack, token["access_token"]))["accounts"]
    assert {account["ownerId"] for account in listed} == {sandbox.user_id("alice")}
    # Another customer's account is NOT_FOUND for alice.
    other = requests.get(
        f"{stack.http_url}/v1/accounts/{sandbox.account_id('bob', 'CHECKING')}",
        headers=oauth.bearer(token["access_token"]),
        timeout=TIMEOUT,
    )
    envelope.error(other, 404, "NOT_FOUND")


# -- The authorization endpoint without a browser --------------------------------------
def test_consent_page_headers_and_escaping(stack: Stack) -> None:
    _, challenge = oauth.pkce_pair()
    state = '"><script>alert(1)</script>'
    page = oauth.consent_page(stack.http_url, oauth.authorize_params(challenge, state=state))
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = page.headers["Content-Security-Policy"]
    assert csp.startswith(CSP)  # plus the redirect URI's origin, see pages.py
    assert "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    envelope.assert_no_internal_headers(page)
    assert "<script>" not in page.text
    fields = oauth.form_fields(page.text)
    assert fields["state"] == state  # escaped in HTML, intact when parsed
    assert fields["csrf_token"]
    assert 'action="/oauth/authorize"' in page.text
    assert 'type="password"' in page.text


def test_authorize_over_grpc(raw_channel: grpc.Channel) -> None:
    stub = auth_grpc.OAuthServiceStub(raw_channel)
    _, challenge = oauth.pkce_pair()
    params = oauth.authorize_params(challenge)
    page, call_ = stub.Authorize.with_call(auth_pb.AuthorizeRequest(**params), timeout=TIMEOUT)
    assert page.content_type == "text/html; charset=utf-8"
    assert b"csrf_token" in page.data
    assert dict(call_.initial_metadata())["x-bank-http-status"] == "200"
    _, call_ = stub.Authorize.with_call(
        auth_pb.AuthorizeRequest(**dict(params, response_type="token")), timeout=TIMEOUT
    )
    metadata = dict(call_.initial_metadata())
    assert metadata["x-bank-http-status"] == "302"
    assert metadata["location"].startswith(oauth.REDIRECT_URI + "?error=unsupported_response_type")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"client_id": "no-such-client"}, "unknown"),
        ({"redirect_uri": "http://localhost:8765/other"}, "not registered"),
        ({"redirect_uri": "http://localhost:8765/callback?x=1"}, "not registered"),
        ({"redirect_uri": "https://evil.example/callback"}, "not registered"),
        ({"client_id": ""}, "unknown"),
    ],
)
def test_bad_client_or_redirect_uri_never_redirects(
    stack: Stack, change: dict[str, str], message: str
) -> None:
    _, challenge = oauth.pkce_pair()
    page = oauth.consent_page(stack.http_url, oauth.authorize_params(challenge, **change))
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert message in page.text
    envelope.assert_no_internal_headers(page)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"scope": "banking.read banking.everything"}, "invalid_scope"),
    ],
)
def test_other_authorize_errors_redirect_with_state(
    stack: Stack, change: dict[str, str], error: str
) -> None:
    _, challenge = oauth.pkce_pair()
    params = oauth.authorize_params(challenge, **change)
    query = oauth.redirect_query(oauth.consent_page(stack.http_url, params))
    assert query["error"] == error
    assert query["state"] == params["state"]
    assert "code" not in query


def test_limited_client_scope_is_bounded(stack: Stack) -> None:
    # sandbox-limited holds no backoffice.admin: asking for it is invalid_scope.
    _, challenge = oauth.pkce_pair()
    params = oauth.authorize_params(
        challenge, client_id=LIMITED_CLIENT[0], scope="backoffice.admin"
    )
    assert oauth.redirect_query(oauth.consent_page(stack.http_url, params))["error"] == (
        "invalid_scope"
    )


def test_deny_redirects_access_denied(stack: Stack) -> None:
    _, challenge = oauth.pkce_pair()
    params = oauth.authorize_params(challenge)
    page = oauth.consent_page(stack.http_url, params)
    response = oauth.submit(stack.http_url, oauth.form_fields(page.text), decision="deny")
    query = oauth.redirect_query(response)
    assert query["error"] == "access_denied"
    assert query["state"] == params["state"]
    assert "code" not in query


def test_csrf_token_is_single_use_and_bound_to_the_request(stack: Stack) -> None:
    _, challenge = oauth.pkce_pair()
    page = oauth.consent_page(stack.http_url, oauth.authorize_params(challenge))
    fields = oauth.form_fields(page.text)
    user = {"email": oauth.ALICE[0], "password": oauth.ALICE[1], "decision": "approve"}
    # Bound to the echoed parameters: another state or scope is refused.
    for change in ({"state": "other"}, {"scope": "banking.read"}, {"code_challenge": ""}):
        forged = oauth.submit(stack.http_url, dict(fields, **change), **user)
        assert forged.status_code == 400, forged.text
        assert "Location" not in forged.headers
    tampered = oauth.submit(
        stack.http_url, dict(fields, csrf_token=fields["csrf_token"] + "x"), **user
    )
    assert tampered.status_code == 400
    missing = oauth.submit(stack.http_url, dict(fields, csrf_token=""), **user)
    assert missing.status_code == 400
    # The genuine form works once...
    assert "code" in oauth.redirect_query(oauth.submit(stack.http_url, fields, **user))
    # ...and never again.
    replay = oauth.submit(stack.http_url, fields, **user)
    assert replay.status_code == 400
    assert "Location" not in replay.headers


def test_form_in_another_content_type_is_an_error_page(stack: Stack) -> None:
    response = requests.post(
        f"{stack.http_url}/oauth/authorize",
        json={"decision": "approve"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_wrong_password_shows_the_page_again(stack: Stack, rest: Rest) -> None:
    user = users.create_rest(rest)
    _, challenge = oauth.pkce_pair()
    params = oauth.authorize_params(challenge)
    for email, password in ((user["email"], "wrong-password-1"), ("nobody@example.com", "x")):
        response = oauth.sign_in(stack.http_url, params, (email, password))
        assert response.status_code == 200
        assert "Location" not in response.headers
        assert "The email or password is incorrect." in response.text
        # A fresh anti-forgery token: the page can be posted again.
        assert oauth.form_fields(response.text)["csrf_token"]
    # Right after, the right password works.
    query = oauth.redirect_query(
        oauth.sign_in(stack.http_url, params, (user["email"], users.PASSWORD))
    )
    assert query["code"]


def test_wrong_passwords_never_lock_the_user_or_end_their_sessions(
    stack: Stack, rest: Rest
) -> None:
    """Failures only throttle the failing address (tests/api/test_public_limits.py,
    on a stack with the production limits): anyone could type five wrong
    passwords for anybody's email."""
    user = users.create_rest(rest)
    tokens = oauth.user_tokens(stack.http_url, (user["email"], users.PASSWORD))
    envelope.success(_accounts(stack, tokens["access_token"]))
    _, challenge = oauth.pkce_pair()
    params = oauth.authorize_params(challenge)
    for attempt in range(6):
        response = oauth.sign_in(stack.http_url, params, (user["email"], f"wrong-{attempt}"))
        assert response.status_code == 200
    status = envelope.success(rest.get(f"/v1/users/{user['id']}"))["user"]["status"]
    assert status == "ACTIVE"
    response = oauth.sign_in(stack.http_url, params, (user["email"], users.PASSWORD))
    assert oauth.redirect_query(response)["code"]
    envelope.success(_accounts(stack, tokens["access_token"]))


def test_inactive_user_cannot_sign_in_and_their_tokens_die(stack: Stack, rest: Rest) -> None:
    user = users.create_rest(rest)
    tokens = oauth.user_tokens(stack.http_url, (user["email"], users.PASSWORD))
    envelope.success(_accounts(stack, tokens["access_token"]))
    envelope.success(rest.delete(f"/v1/users/{user['id']}"))
    _refused(_accounts(stack, tokens["access_token"]))
    refreshed = requests.post(
        f"{stack.http_url}/oauth/refresh",
        data={"refresh_token": tokens["refresh_token"]},
        auth=SANDBOX_CLIENT,
        timeout=TIMEOUT,
    )
    _rfc_error(refreshed, 400, "invalid_grant")
    _, challenge = oauth.pkce_pair()
    again = oauth.sign_in(
        stack.http_url, oauth.authorize_params(challenge), (user["email"], users.PASSWORD)
    )
    assert again.status_code == 200 and "cannot sign in" in again.text


def test_password_reset_ends_old_sessions_not_new_ones(stack: Stack, rest: Rest) -> None:
    user = users.create_rest(rest)
    old = oauth.user_tokens(stack.http_url, (user["email"], users.PASSWORD))
    reset = envelope.success(rest.post("/v1/password-resets", json={"email": user["email"]}), 202)
    envelope.success(
        rest.post(
            "/v1/password-resets:confirm",
            json={"token": reset["resetToken"], "newPassword": users.OTHER_PASSWORD},
        )
    )
    _refused(_accounts(stack, old["access_token"]))
    # Signing in right after the reset works (same second included).
    new = oauth.user_tokens(stack.http_url, (user["email"], users.OTHER_PASSWORD))
    envelope.success(_accounts(stack, new["access_token"]))


def test_locking_a_user_by_update_ends_their_sessions(stack: Stack, rest: Rest) -> None:
    user = users.create_rest(rest)
    tokens = oauth.user_tokens(stack.http_url, (user["email"], users.PASSWORD))
    envelope.success(rest.patch(f"/v1/users/{user['id']}", json={"status": "LOCKED"}))
    _refused(_accounts(stack, tokens["access_token"]))


def test_backoffice_admin_is_granted_to_staff_only(stack: Stack) -> None:
    scope = "banking.read backoffice.admin"
    customer = oauth.user_tokens(stack.http_url, oauth.ALICE, scope=scope)
    assert customer["scope"] == "banking.read"
    assert oauth.claims(customer["access_token"])["role"] == "CUSTOMER"
    staff = oauth.user_tokens(stack.http_url, oauth.ADMIN, scope=scope)
    assert staff["scope"] == scope
    payload = oauth.claims(staff["access_token"])
    assert payload["role"] == "ADMIN" and payload["sub"] == sandbox.user_id("admin")
    _, challenge = oauth.pkce_pair()
    only_admin = oauth.sign_in(
        stack.http_url, oauth.authorize_params(challenge, scope="backoffice.admin"), oauth.BOB
    )
    assert oauth.redirect_query(only_admin)["error"] == "invalid_scope"


# -- Redeeming codes -------------------------------------------------------------------
def test_code_reuse_revokes_what_the_first_use_issued(stack: Stack) -> None:
    code, verifier = oauth.code_for(stack.http_url)
    first = oauth.exchange(stack.http_url, code, verifier)
    assert first.status_code == 200, first.text
    tokens = first.json()
    envelope.success(_accounts(stack, tokens["access_token"]))
    _rfc_error(oauth.exchange(stack.http_url, code, verifier), 400, "invalid_grant")
    _refused(_accounts(stack, tokens["access_token"]))
    refreshed = requests.post(
        f"{stack.http_url}/oauth/refresh",
        data={"refresh_token": tokens["refresh_token"]},
        auth=SANDBOX_CLIENT,
        timeout=TIMEOUT,
    )
    _rfc_error(refreshed, 400, "invalid_grant")


def test_pkce_mismatch_and_missing_verifier(stack: Stack) -> None:
    code, verifier = oauth.code_for(stack.http_url)
    other_verifier, _ = oauth.pkce_pair()
    _rfc_error(oauth.exchange(stack.http_url, code, other_verifier), 400, "invalid_grant")
    # A code gets one try: the right verifier is too late now.
    _rfc_error(oauth.exchange(stack.http_url, code, verifier), 400, "invalid_grant")
    code, _ = oauth.code_for(stack.http_url)
    _rfc_error(oauth.exchange(stack.http_url, code, ""), 400, "invalid_grant")


def test_code_without_challenge_refuses_a_verifier(stack: Stack) -> None:
    params = oauth.authorize_params()
    code = oauth.redirect_query(oauth.sign_in(stack.http_url, params))["code"]
    verifier, _ = oauth.pkce_pair()
    _rfc_error(oauth.exchange(stack.http_url, code, verifier), 400, "invalid_grant")
    params = oauth.authorize_params()
    code = oauth.redirect_query(oauth.sign_in(stack.http_url, params))["code"]
    assert oauth.exchange(stack.http_url, code, "").status_code == 200


def test_redirect_uri_mismatch_at_the_token_endpoint(stack: Stack) -> None:
    code, verifier = oauth.code_for(stack.http_url)
    response = oauth.exchange(
        stack.http_url, code, verifier, redirect_uri="http://localhost:8765/other"
    )
    _rfc_error(response, 400, "invalid_grant")
    code, verifier = oauth.code_for(stack.http_url)
    _rfc_error(
        oauth.exchange(stack.http_url, code, verifier, redirect_uri=""), 400, "invalid_request"
    )


def test_code_of_another_client_and_garbage_codes(stack: Stack) -> None:
    code, verifier = oauth.code_for(stack.http_url)
    other = oauth.exchange(stack.http_url, code, verifier, client=LIMITED_CLIENT)
    _rfc_error(other, 400, "invalid_grant")
    _rfc_error(oauth.exchange(stack.http_url, "garbage", verifier), 400, "invalid_grant")


def test_limited_client_flow_has_no_admin_and_user_role(stack: Stack) -> None:
    verifier, challenge = oauth.pkce_pair()
    params = oauth.authorize_params(challenge, client_id=LIMITED_CLIENT[0], scope="banking.read")
    code = oauth.redirect_query(oauth.sign_in(stack.http_url, params, oauth.BOB))["code"]
    response = oauth.exchange(stack.http_url, code, verifier, client=LIMITED_CLIENT)
    assert response.status_code == 200, response.text
    payload = oauth.claims(response.json()["access_token"])
    assert payload["client_id"] == LIMITED_CLIENT[0]
    assert payload["sub"] == sandbox.user_id("bob")


# -- Production mode -------------------------------------------------------------------
@pytest.fixture(scope="module")
def production_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A database set up in sandbox mode, then served in production mode.

    The dangerous case: sandbox credentials that exist in the database must
    still be refused once the server runs in production mode.
    """
    tmp = tmp_path_factory.mktemp("stack-oauth-production")
    with started(stack_settings(tmp, mode="production"), set_up_as="sandbox") as stack:
        yield stack


def test_sandbox_clients_are_refused_in_production(production_stack: Stack) -> None:
    base = production_stack.http_url
    response = requests.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=SANDBOX_CLIENT,
        timeout=TIMEOUT,
    )
    _rfc_error(response, 401, "invalid_client")
    _, challenge = oauth.pkce_pair()
    page = oauth.consent_page(base, oauth.authorize_params(challenge))
    assert page.status_code == 400 and "Location" not in page.headers
    # A real client works there.
    client = create_client(production_stack.settings)
    token = requests.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=client,
        timeout=TIMEOUT,
    )
    assert token.status_code == 200, token.text
    envelope.success(
        requests.get(
            f"{base}/v1/accounts",
            headers=oauth.bearer(token.json()["access_token"]),
            timeout=TIMEOUT,
        )
    )


def test_callback_port_helper_is_loopback_only() -> None:
    """The callback server binds 127.0.0.1 only (never all interfaces)."""
    with _Callback() as callback:
        if callback.server is None:
            pytest.skip("port 8765 is busy")
        assert callback.server.server_address[0] == "127.0.0.1"
