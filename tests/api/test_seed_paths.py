"""Every path printed in the two seed documents reaches the server through Envoy.

A route that Envoy cannot match answers its own 404 ("No endpoint matches
this method and path"); every other answer (a resource, a validation error,
UNIMPLEMENTED until a feature is built, 401 once auth is on) proves that the
request was transcoded and reached the gRPC server.
"""

from __future__ import annotations

import re

import pytest

from server.config import REPO_ROOT
from tests.common import envelope
from tests.conftest import Rest

SEEDS = REPO_ROOT.parent / "shared" / "seeds"
ROUTE_MISS = "No endpoint matches this method and path"

# (method, path) exactly as the seeds print them; seed 000's are relative to
# its base URL /backoffice/v1 (except /oauth/*), seed 002's are absolute.
SEED_000 = [
    ("POST", "/oauth/token"),
    ("POST", "/oauth/refresh"),
    ("POST", "/oauth/revoke"),
    ("GET", "/oauth/authorize"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("GET", "/users/{id}"),
    ("PUT", "/users/{id}"),
    ("DELETE", "/users/{id}"),
    ("GET", "/accounts"),
    ("POST", "/accounts"),
    ("GET", "/accounts/{id}"),
    ("PUT", "/accounts/{id}"),
    ("POST", "/accounts/{id}/close"),
    ("GET", "/transactions"),
    ("POST", "/transactions"),
    ("GET", "/transactions/{id}"),
    ("POST", "/transactions/{id}/reverse"),
    ("GET", "/reports/daily"),
    ("GET", "/reports/monthly"),
    ("POST", "/reports/custom"),
]
SEED_002 = [
    ("POST", "/api/transactions/transfer"),
    ("POST", "/api/transactions/transfer/external"),
    ("POST", "/api/transactions/deposit"),
    ("POST", "/api/transactions/withdrawal"),
    ("POST", "/api/transactions/payment"),
    ("GET", "/api/transactions/:transactionId"),
    ("GET", "/api/transactions"),
    ("POST", "/api/transactions/search"),
    ("POST", "/api/transactions/:transactionId/cancel"),
    ("POST", "/api/transactions/:transactionId/refund"),
    ("POST", "/api/transactions/recurring"),
    ("GET", "/api/transactions/export"),
]
_ENDPOINT_RE = re.compile(r"`(GET|POST|PUT|DELETE|PATCH) (/[^`\s?]*)")
_SAMPLE_IDS = {
    "users": "usr_missing0000000000",
    "accounts": "acc_missing0000000000",
    "transactions": "txn_missing0000000000",
}


def _concrete(path: str) -> str:
    """Fills path variables with well-formed ids of the right kind."""
    parts = path.split("/")
    for index, part in enumerate(parts):
        if part.startswith((":", "{")):
            parts[index] = _SAMPLE_IDS[parts[index - 1]]
    return "/".join(parts)


def _routes() -> list[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for method, path in SEED_000:
        concrete = _concrete(path)
        if path.startswith("/oauth/"):
            routes.add((method, concrete))
        else:
            routes.update({(method, "/backoffice/v1" + concrete), (method, "/v1" + concrete)})
    for method, path in SEED_002:
        concrete = _concrete(path)
        routes.update(
            {
                (method, concrete),
                (method, concrete.replace("/api/", "/api/v1/", 1)),
                (method, concrete.replace("/api/", "/v1/", 1)),
            }
        )
    return sorted(routes)


def test_route_lists_match_the_seed_documents() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS}")
    printed: dict[str, set[tuple[str, str]]] = {}
    for document in sorted(SEEDS.glob("*.txt")):
        printed[document.name[:3]] = set(_ENDPOINT_RE.findall(document.read_text()))
    # Seed 000 prints the authorize call in an http block, not in backticks.
    assert printed["000"] | {("GET", "/oauth/authorize")} == set(SEED_000)
    assert printed["002"] == set(SEED_002)


@pytest.mark.parametrize(("method", "path"), _routes(), ids=str)
def test_seed_path_reaches_the_server(rest: Rest, method: str, path: str) -> None:
    if path.startswith("/oauth/"):
        response = rest.request(method, path, data={"grant_type": "client_credentials"})
        assert response.status_code != 404, response.text
        body = response.json()
        assert "error" in body or "access_token" in body or "<html" in response.text.lower()
        envelope.assert_no_internal_headers(response)
        return
    kwargs = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}
    response = rest.request(method, path, **kwargs)
    body = response.json()
    assert response.status_code not in (502, 503), response.text
    assert body.get("error", {}).get("message") != ROUTE_MISS, f"{method} {path} is not routed"
    if body["success"]:
        envelope.success(response, response.status_code)
    else:
        envelope.error(response, response.status_code, body["error"]["code"])


def test_literal_segments_beat_variables(rest: Rest) -> None:
    # /export and /search must reach their own RPCs, never GetTransaction.
    for method, path in [("GET", "/v1/transactions/export"), ("POST", "/api/transactions/search")]:
        response = rest.request(method, path, json={} if method == "POST" else None)
        assert response.status_code != 404, response.text
        assert "GetTransaction" not in response.text, response.text


def test_unknown_path_is_a_404_envelope(rest: Rest) -> None:
    error = envelope.error(rest.get("/v1/no-such-thing"), 404, "NOT_FOUND")
    assert error["message"] == ROUTE_MISS
    response = rest.delete("/v1/sandbox/clock")  # a known path: 405 (test_strict_http.py)
    envelope.error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["Allow"] == "GET"
    envelope.error(rest.get("/"), 404, "NOT_FOUND")
