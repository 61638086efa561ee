"""Requests are strict (API_CONTRACT.md): header and URL sizes, query parameters,
methods, error field names."""

from __future__ import annotations

import grpc
import pytest
import requests

from backoffice.v1 import user_service_pb2 as user_pb
from backoffice.v1 import user_service_pb2_grpc as user_grpc
from server import edge_routes
from tests.common import envelope
from tests.common.money import ALICE_CHECKING, BOB_CHECKING, balance, open_account
from tests.conftest import Rest

# --- 9: headers and URLs too large -----------------------------------------------------


def _headers_too_large(response: requests.Response) -> None:
    """431 in the envelope. Refused while its headers were read, the request has
    no X-Request-ID to echo: the envelope carries a new id."""
    assert response.status_code == 431, response.text
    body = response.json()
    assert (body["success"], body["error"]["code"]) == (False, "REQUEST_HEADERS_TOO_LARGE")
    assert body["message"] == body["error"]["message"]
    assert len(body["meta"]["requestId"]) >= 16
    envelope.assert_no_internal_headers(response)


@pytest.mark.parametrize("size", [9_000, 20_000, 70_000])
def test_headers_too_large_are_431_not_429(rest: Rest, anonymous: Rest, size: int) -> None:
    for session in (rest, anonymous):
        response = session.get("/v1/sandbox/clock", headers={"X-Padding": "x" * size})
        _headers_too_large(response)


def test_many_headers_together_too_large_are_431(anonymous: Rest) -> None:
    headers = {f"X-Pad-{i}": "y" * 200 for i in range(45)}
    _headers_too_large(anonymous.get("/v1/sandbox/clock", headers=headers))


def test_urls_too_long_are_414(rest: Rest, anonymous: Rest) -> None:
    for session in (rest, anonymous):
        response = session.get("/v1/users?search=" + "a" * 5_000)
        envelope.error(response, 414, "URI_TOO_LONG")


def test_headers_just_under_the_limit_pass(rest: Rest) -> None:
    envelope.success(rest.get("/v1/sandbox/clock", headers={"X-Padding": "x" * 6_000}))


# --- 11: query parameters never override the path or the body ---------------------------


@pytest.mark.parametrize("name", ["accountId", "account_id"])
def test_a_query_parameter_naming_a_path_variable_is_400(rest: Rest, name: str) -> None:
    response = rest.get(f"/v1/accounts/{ALICE_CHECKING}?{name}={BOB_CHECKING}")
    envelope.error(response, 400, "INVALID_REQUEST", field=name)
    response = rest.get(f"/v1/accounts/{ALICE_CHECKING}/balance?{name}={BOB_CHECKING}")
    envelope.error(response, 400, "INVALID_REQUEST", field=name)


def test_a_query_parameter_never_overrides_the_body(rest: Rest) -> None:
    source, target = open_account(rest, funded=100), open_account(rest)
    body = {"fromAccountId": source, "toAccountId": target, "amount": 5}
    response = rest.post("/v1/transactions/transfer?amount=50", json=body)
    envelope.error(response, 400, "INVALID_REQUEST")  # the transcoder refuses this one
    for name in ("toAccountId", "to_account_id", "fromAccountId"):
        response = rest.post(f"/v1/transactions/transfer?{name}={ALICE_CHECKING}", json=body)
        envelope.error(response, 400, "INVALID_REQUEST", field=name)
    assert balance(rest, target) == 0


def test_a_query_parameter_naming_a_path_variable_of_a_post_is_400(rest: Rest) -> None:
    account = open_account(rest)
    response = rest.post(f"/v1/accounts/{ALICE_CHECKING}/close?account_id={account}")
    envelope.error(response, 400, "INVALID_REQUEST", field="account_id")


def test_other_query_parameters_still_work(rest: Rest) -> None:
    envelope.success(rest.get(f"/v1/accounts/{ALICE_CHECKING}?utm_source=mail"))
    data = envelope.success(rest.get(f"/api/transactions?accountId={ALICE_CHECKING}&limit=1"))
    assert "transactions" in data


# --- 14a: a known path with another method is 405 with Allow ----------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", f"/v1/accounts/{ALICE_CHECKING}", {"GET", "PUT", "PATCH"}),
        ("POST", "/v1/sandbox/clock", {"GET"}),
        ("PUT", "/api/transactions/transfer", {"POST", "GET"}),
        ("GET", "/v1/sandbox/clock:advance", {"POST"}),
        ("DELETE", "/v1/accounts", {"GET", "POST"}),
    ],
)
def test_known_path_with_another_method_is_405_with_allow(
    rest: Rest, anonymous: Rest, method: str, path: str, allowed: set[str]
) -> None:
    for session in (rest, anonymous):
        response = session.request(method, path)
        envelope.error(response, 405, "METHOD_NOT_ALLOWED")
        assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed


def test_unknown_paths_stay_404(rest: Rest) -> None:
    envelope.error(rest.delete("/v1/nothing-here"), 404, "NOT_FOUND")


# --- 14b: one rule for error field names -------------------------------------------------


def test_rest_error_fields_are_the_names_the_client_sent(rest: Rest) -> None:
    response = rest.get("/v1/users?sort_by=shoe_size")
    envelope.error(response, 422, "VALIDATION_ERROR", field="sort_by")
    response = rest.get("/v1/users?pageToken=garbage")
    envelope.error(response, 422, "VALIDATION_ERROR", field="pageToken")
    # Not sent under its own name (`sort` means sort_by): lowerCamelCase.
    envelope.error(rest.get("/v1/users?sort=shoe_size"), 422, "VALIDATION_ERROR", field="sortBy")
    for key in ("overdraftLimit", "overdraft_limit"):
        response = rest.put(f"/v1/accounts/{open_account(rest)}", json={key: -1})
        envelope.error(response, 422, "TXN005", field=key)


def test_grpc_error_fields_are_proto_field_names(grpc_channel: grpc.Channel) -> None:
    stub = user_grpc.UserServiceStub(grpc_channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListUsers(user_pb.ListUsersRequest(page_token="garbage"), timeout=10)
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == "page_token"


def test_405_routes_list_every_method_a_path_answers() -> None:
    templates = {
        "/v1/things": {"GET", "POST"},
        "/v1/things/{thing_id}": {"GET", "DELETE"},
        "/v1/things/search": {"POST"},
        "/v1/things/{thing_id}:poke": {"POST"},
    }
    routes = edge_routes.method_not_allowed_routes(templates).splitlines()
    regexes = [line.split('regex: "')[1].split('"')[0] for line in routes if "regex" in line]
    allows = [line.split('value: "')[1].split('"')[0] for line in routes if "allow" in line]
    # Most literal first: the literal `search` before the variable it also matches.
    assert regexes.index("^/v1/things/search$") < regexes.index("^/v1/things/[^/]+$")
    assert dict(zip(regexes, allows, strict=True)) == {
        "^/v1/things$": "GET, POST",
        "^/v1/things/search$": "DELETE, GET, POST",
        "^/v1/things/[^/]+$": "DELETE, GET",
        "^/v1/things/[^/]+:poke$": "POST",
    }
