"""Request signing: HMAC-SHA256 over the canonical request, timestamps, nonces; REST and gRPC."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
import requests

from backoffice.v1 import account_service_pb2 as pb
from backoffice.v1 import account_service_pb2_grpc as pb_grpc
from server.config import REPO_ROOT
from server.domain import signing
from server.run import Stack
from server.store import sandbox
from tests.common import envelope, users
from tests.common.client_rules import Client, configured_client, extra_server

LIST_ACCOUNTS = "/backoffice.v1.AccountService/ListAccounts"
SEARCH = "/v1/transactions/search"
ALICE_CHECKING = sandbox.account_id("alice", "CHECKING")


@pytest.fixture(scope="module")
def signer(stack: Stack) -> Client:
    """A client that must sign every request (its nonces are fresh per request)."""
    return configured_client(stack, require_signing=True, signing_secret=True)


def _nonce() -> str:
    return secrets.token_urlsafe(24)


def _signed(
    client: Client,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
    secret: str | None = None,
) -> dict[str, str]:
    """Bearer token plus the signature headers of this request."""
    return {
        **client.bearer,
        **signing.signature_headers(
            secret or client.signing_secret,
            method=method,
            target=target,
            body=body,
            timestamp=int(time.time()) if timestamp is None else timestamp,
            nonce=nonce or _nonce(),
        ),
    }


def _send(
    stack: Stack, method: str, target: str, headers: dict[str, str], body: bytes = b""
) -> requests.Response:
    if body:
        headers = {**headers, "Content-Type": "application/json"}
    return requests.request(
        method, stack.http_url + target, data=body or None, headers=headers, timeout=30
    )


def _refused(response: requests.Response) -> str:
    """The message of a 401 that leaks nothing of the expected signature."""
    error = envelope.error(response, 401, "UNAUTHORIZED")
    assert re.search(r"[0-9a-f]{64}", response.text) is None
    assert "Signature" in response.headers.get("WWW-Authenticate", "")
    return str(error["message"])


def _search_body(padding: int = 0) -> bytes:
    body = {"accountId": ALICE_CHECKING, "filters": {"keywords": ["rent"]}}
    return (json.dumps(body) + " " * padding).encode()


# --- REST -----------------------------------------------------------------------------------


def test_signed_rest_requests_are_accepted(stack: Stack, signer: Client) -> None:
    target = "/v1/accounts?limit=5&sort=balance&order=desc"
    envelope.success(_send(stack, "GET", target, _signed(signer, "GET", target)))
    # Query parameters in any order, encoded any way, sign the same.
    sent = "/v1/users?search=alice+anderson&limit=2"
    signed_as = "/v1/users?limit=2&search=alice%20anderson"
    envelope.success(_send(stack, "GET", sent, _signed(signer, "GET", signed_as)))


@pytest.mark.parametrize("padding", [0, 1, 9, 10, 17, 18, 25, 74, 1000, 70_000])
def test_envoy_hashes_bodies_of_every_length(stack: Stack, signer: Client, padding: int) -> None:
    """SHA-256 pads to 64-byte blocks: lengths around the block edges, and a long body."""
    body = _search_body(padding)
    response = _send(stack, "POST", SEARCH, _signed(signer, "POST", SEARCH, body), body)
    envelope.success(response)


def test_a_signed_body_over_the_limit_is_too_large(stack: Stack, signer: Client) -> None:
    body = _search_body(1024 * 1024)
    response = _send(stack, "POST", SEARCH, _signed(signer, "POST", SEARCH, body), body)
    envelope.error(response, 413, "PAYLOAD_TOO_LARGE")


def test_unicode_bodies_are_hashed_as_bytes(stack: Stack, signer: Client) -> None:
    body = json.dumps(
        {"accountId": ALICE_CHECKING, "filters": {"keywords": ["café ☕ loyer"]}},
        ensure_ascii=False,
    ).encode()
    response = _send(stack, "POST", SEARCH, _signed(signer, "POST", SEARCH, body), body)
    envelope.success(response)


def test_unsigned_and_half_signed_requests_are_refused(stack: Stack, signer: Client) -> None:
    assert "must sign" in _refused(_send(stack, "GET", "/v1/accounts", signer.bearer))
    headers = _signed(signer, "GET", "/v1/accounts")
    for missing in ("X-Signature", "X-Signature-Timestamp", "X-Signature-Nonce"):
        partial = {name: value for name, value in headers.items() if name != missing}
        assert missing.lower() in _refused(_send(stack, "GET", "/v1/accounts", partial))
    malformed = {**headers, "X-Signature": "sha256=" + "0" * 64}
    _refused(_send(stack, "GET", "/v1/accounts", malformed))
    short_nonce = _signed(signer, "GET", "/v1/accounts", nonce="too-short")
    _refused(_send(stack, "GET", "/v1/accounts", short_nonce))


def test_stale_timestamps_are_refused_either_way(stack: Stack, signer: Client) -> None:
    # Margins of 30 seconds for a slow machine; the exact edges are tested in
    # tests/domain/test_signing.py.
    for skew in (-330, 330, -3600):
        headers = _signed(signer, "GET", "/v1/accounts", timestamp=int(time.time()) + skew)
        assert "300 seconds" in _refused(_send(stack, "GET", "/v1/accounts", headers))
    for skew in (-270, 270):
        headers = _signed(signer, "GET", "/v1/accounts", timestamp=int(time.time()) + skew)
        envelope.success(_send(stack, "GET", "/v1/accounts", headers))


def test_a_nonce_is_accepted_once(stack: Stack, signer: Client) -> None:
    headers = _signed(signer, "GET", "/v1/accounts")
    envelope.success(_send(stack, "GET", "/v1/accounts", headers))
    assert "already used" in _refused(_send(stack, "GET", "/v1/accounts", headers))
    # Even re-signed with a fresh timestamp.
    again = _signed(signer, "GET", "/v1/accounts", nonce=headers["X-Signature-Nonce"])
    _refused(_send(stack, "GET", "/v1/accounts", again))
    rows = users.db_rows(
        stack,
        "SELECT COUNT(*) FROM used_nonces WHERE client_id = %s AND nonce = %s",
        (signer.client_id, headers["X-Signature-Nonce"]),
    )
    assert rows == [(1,)]


def test_anything_changed_after_signing_is_refused(stack: Stack, signer: Client) -> None:
    body = _search_body()
    headers = _signed(signer, "POST", SEARCH, body)
    tampered = body.replace(b"rent", b"rant")
    assert "does not match" in _refused(_send(stack, "POST", SEARCH, headers, tampered))
    # A client-sent body hash is dropped by Envoy: it cannot vouch for the tampered body.
    spoofed = {**_signed(signer, "POST", SEARCH, body), "X-Bank-Body-Sha256": _sha(body)}
    _refused(_send(stack, "POST", SEARCH, spoofed, tampered))

    signed_query = _signed(signer, "GET", "/v1/accounts?limit=5")
    _refused(_send(stack, "GET", "/v1/accounts?limit=6", signed_query))
    signed_path = _signed(signer, "GET", "/v1/users")
    _refused(_send(stack, "GET", "/v1/accounts", signed_path))
    signed_method = _signed(signer, "GET", SEARCH, body)
    _refused(_send(stack, "POST", SEARCH, signed_method, body))
    flipped = _signed(signer, "GET", "/v1/accounts")
    last = flipped["X-Signature"][-1]
    flipped["X-Signature"] = flipped["X-Signature"][:-1] + ("0" if last != "0" else "1")
    _refused(_send(stack, "GET", "/v1/accounts", flipped))


def test_another_clients_secret_does_not_sign(stack: Stack, signer: Client) -> None:
    other = configured_client(stack, signing_secret=True)
    headers = _signed(signer, "GET", "/v1/accounts", secret=other.signing_secret)
    _refused(_send(stack, "GET", "/v1/accounts", headers))


def test_clients_that_need_not_sign_may_sign(stack: Stack) -> None:
    client = configured_client(stack, signing_secret=True)
    envelope.success(_send(stack, "GET", "/v1/accounts", client.bearer))  # unsigned: fine
    envelope.success(_send(stack, "GET", "/v1/accounts", _signed(client, "GET", "/v1/accounts")))
    # A signature that is present is checked.
    bad = _signed(client, "GET", "/v1/accounts", secret="bks_not-the-secret")
    _refused(_send(stack, "GET", "/v1/accounts", bad))


def test_signing_without_a_secret_is_refused(stack: Stack) -> None:
    client = configured_client(stack)
    headers = _signed(client, "GET", "/v1/accounts", secret="bks_guessed")
    assert "No signing secret" in _refused(_send(stack, "GET", "/v1/accounts", headers))


# --- gRPC -----------------------------------------------------------------------------------


def _grpc_signed(
    client: Client, method: str, message: Any, *, nonce: str | None = None
) -> list[tuple[str, str]]:
    headers = signing.signature_headers(
        client.signing_secret,
        method="POST",
        target=method,
        body=message.SerializeToString(deterministic=True),
        timestamp=int(time.time()),
        nonce=nonce or _nonce(),
    )
    return [*client.grpc_metadata, *((name.lower(), value) for name, value in headers.items())]


def _list_accounts(target: str, metadata: Any, message: Any) -> grpc.RpcError | None:
    with grpc.insecure_channel(target) as channel:
        try:
            pb_grpc.AccountServiceStub(channel).ListAccounts(message, metadata=metadata, timeout=30)
        except grpc.RpcError as exc:
            return exc
    return None


def _grpc_refused(exc: grpc.RpcError | None, problem: str) -> None:
    assert exc is not None
    info = envelope.grpc_error(exc, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHORIZED")
    assert info.metadata["signature_problem"] == problem


def test_signed_grpc_calls_are_accepted_once(stack: Stack, signer: Client) -> None:
    message = pb.ListAccountsRequest(limit=3)
    metadata = _grpc_signed(signer, LIST_ACCOUNTS, message)
    assert _list_accounts(stack.grpc_target, metadata, message) is None
    _grpc_refused(_list_accounts(stack.grpc_target, metadata, message), "replayed_nonce")


def test_grpc_negative_cases(stack: Stack, signer: Client) -> None:
    message = pb.ListAccountsRequest(limit=3)
    _grpc_refused(
        _list_accounts(stack.grpc_target, signer.grpc_metadata, message), "missing_signature"
    )
    changed = _grpc_signed(signer, LIST_ACCOUNTS, message)
    _grpc_refused(
        _list_accounts(stack.grpc_target, changed, pb.ListAccountsRequest(limit=4)),
        "bad_signature",
    )
    other_method = _grpc_signed(signer, "/backoffice.v1.AccountService/GetAccount", message)
    _grpc_refused(_list_accounts(stack.grpc_target, other_method, message), "bad_signature")
    stale = [
        (key, str(int(value) - 400) if key == "x-signature-timestamp" else value)
        for key, value in _grpc_signed(signer, LIST_ACCOUNTS, message)
    ]
    _grpc_refused(_list_accounts(stack.grpc_target, stale, message), "stale_timestamp")
    # A caller on loopback (a trusted proxy) that sends Envoy's keys is checked
    # against the REST request they describe, which it did not sign.
    posing = [
        *_grpc_signed(signer, LIST_ACCOUNTS, message),
        ("x-bank-body-sha256", "0" * 64),
        ("x-bank-rest-method", "GET"),
        ("x-bank-rest-path", "/v1/accounts"),
    ]
    _grpc_refused(_list_accounts(stack.grpc_target, posing, message), "bad_signature")


def test_a_nonce_spent_on_one_server_is_refused_by_another(stack: Stack, signer: Client) -> None:
    message = pb.ListAccountsRequest(limit=2)
    metadata = _grpc_signed(signer, LIST_ACCOUNTS, message)
    with extra_server(stack) as other:
        assert _list_accounts(other, metadata, message) is None
        _grpc_refused(_list_accounts(stack.grpc_target, metadata, message), "replayed_nonce")


# --- the README's snippet -------------------------------------------------------------------


def _readme_blocks() -> list[str]:
    text = Path(REPO_ROOT / "README.md").read_text()
    section = text.split("## Request signing", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_snippet_signs_valid_requests(stack: Stack, signer: Client) -> None:
    sign_block, usage_block = _readme_blocks()
    namespace: dict[str, Any] = {}
    exec(sign_block, namespace)  # noqa: S102 (the README's own code, run as printed)
    namespace.update(access_token=signer.token, signing_secret=signer.signing_secret)
    usage = usage_block.replace("http://127.0.0.1:8080", stack.http_url)
    assert usage != usage_block
    exec(usage, namespace)  # noqa: S102
    envelope.success(namespace["response"])

    # The same function signs GETs with awkward queries and other bodies.
    sign = namespace["sign"]
    with requests.Session() as session:
        for method, url, body in (
            ("GET", "/v1/users?search=alice+anderson&limit=2&fields=name,email", None),
            ("GET", "/v1/accounts?sort=balance&order=desc&limit=1", None),
            ("POST", SEARCH, {"accountId": ALICE_CHECKING, "filters": {"keywords": ["café"]}}),
        ):
            prepared = requests.Request(
                method, stack.http_url + url, headers=signer.bearer, json=body
            ).prepare()
            envelope.success(session.send(sign(prepared, signer.signing_secret), timeout=30))


def _sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
