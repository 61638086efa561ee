"""Requests are strict (API_CONTRACT.md): JSON bodies, field names, values.

Over REST through real Envoy, and over gRPC where the rule applies there too.
"""

from __future__ import annotations

import json

import grpc
import pytest

from backoffice.v1 import sandbox_service_pb2 as sandbox_pb
from backoffice.v1 import sandbox_service_pb2_grpc as sandbox_grpc
from backoffice.v1 import transaction_service_pb2 as pb
from backoffice.v1 import transaction_service_pb2_grpc as pb_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.client_rules import extra_server
from tests.common.money import ALICE_CHECKING, BOB, balance, open_account, query
from tests.conftest import Rest

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def pair(rest: Rest) -> tuple[str, str]:
    """Two fresh CHECKING accounts: alice's with 1,000.00, bob's empty."""
    return open_account(rest, funded=1000), open_account(rest, owner=BOB)


def _post(rest: Rest, path: str, raw: str, headers: dict[str, str] | None = None) -> object:
    return rest.post(path, data=raw.encode(), headers=headers or JSON)


def _entries(stack: Stack, account_id: str) -> int:
    sql = "SELECT COUNT(*) FROM account_entries WHERE account_id = %s"
    return int(query(stack, sql, (account_id,))[0][0])


# --- 7: client input never answers 500 ---------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "rent\u0000"),
        ("reference", "REF\u0000X"),
        ("description", "bell\u0007"),
    ],
)
def test_control_characters_in_strings_are_400_naming_the_field(
    rest: Rest, pair: tuple[str, str], field: str, value: str
) -> None:
    body = {"fromAccountId": pair[0], "toAccountId": pair[1], "amount": 5, field: value}
    response = rest.post("/v1/transactions/transfer", json=body)
    envelope.error(response, 400, "INVALID_REQUEST", field=field)
    assert balance(rest, pair[1]) == 0


def test_tabs_and_newlines_are_text(rest: Rest, pair: tuple[str, str]) -> None:
    body = {"fromAccountId": pair[0], "toAccountId": pair[1], "amount": 5}
    response = rest.post("/v1/transactions/transfer", json={**body, "description": "a\tb\nc\r"})
    envelope.success(response, 201)


def test_control_characters_in_location_and_search_text(rest: Rest) -> None:
    body = {"accountId": ALICE_CHECKING, "amount": 5, "method": "CASH", "location": "A\u0000"}
    response = rest.post("/v1/transactions/deposit", json=body)
    envelope.error(response, 400, "INVALID_REQUEST", field="location")
    envelope.error(rest.get("/v1/users?search=al%00ice"), 400, "INVALID_REQUEST", field="search")
    search = {"accountId": ALICE_CHECKING, "filters": {"keywords": ["ok", "re\u0000nt"]}}
    response = rest.post("/v1/transactions/search", json=search)
    envelope.error(response, 400, "INVALID_REQUEST", field="filters.keywords")


def test_unknown_enum_number_is_422_over_rest(rest: Rest, stack: Stack) -> None:
    account = open_account(rest)
    body = {"accountId": account, "amount": 5, "method": 999}
    response = rest.post("/v1/transactions/deposit", json=body)
    envelope.error(response, 422, "VALIDATION_ERROR", field="method")
    search = {"accountId": account, "filters": {"types": ["TRANSFER", 77]}}
    response = rest.post("/v1/transactions/search", json=search)
    envelope.error(response, 422, "VALIDATION_ERROR", field="filters.types")
    assert _entries(stack, account) == 0


def test_unknown_enum_number_and_nul_are_invalid_argument_over_grpc(
    grpc_channel: grpc.Channel, rest: Rest
) -> None:
    account = open_account(rest)
    stub = pb_grpc.TransactionServiceStub(grpc_channel)
    requests = [
        (pb.CreateDepositRequest(account_id=account, amount=5, method=999), "method"),  # type: ignore[arg-type]
        (pb.CreateDepositRequest(account_id=account, amount=5, location="x\x00"), "location"),
    ]
    reasons = ["VALIDATION_ERROR", "INVALID_REQUEST"]
    for (request, field), reason in zip(requests, reasons, strict=True):
        with pytest.raises(grpc.RpcError) as caught:
            stub.CreateDeposit(request, timeout=10)
        info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, reason)
        assert info.metadata["field"] == field
    assert balance(rest, account) == 0


# --- 8: lenient parsing ---------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0x10", "+5", ".5", "5.", "1e1", "0x1p4"])
def test_amounts_that_are_not_plain_decimals_are_txn005(
    rest: Rest, stack: Stack, pair: tuple[str, str], amount: str
) -> None:
    body = {"fromAccountId": pair[0], "toAccountId": pair[1], "amount": amount}
    response = rest.post("/v1/transactions/transfer", json=body)
    envelope.error(response, 422, "TXN005", field="amount")
    assert _entries(stack, pair[1]) == 0


@pytest.mark.parametrize("amount", [" 5", "5 ", "five"])
def test_amounts_the_transcoder_cannot_read_are_400(
    rest: Rest, pair: tuple[str, str], amount: str
) -> None:
    body = {"fromAccountId": pair[0], "toAccountId": pair[1], "amount": amount}
    envelope.error(rest.post("/v1/transactions/transfer", json=body), 400, "INVALID_REQUEST")


def test_a_plain_decimal_string_amount_is_tolerated(rest: Rest, pair: tuple[str, str]) -> None:
    body = {"fromAccountId": pair[0], "toAccountId": pair[1], "amount": "16.50"}
    envelope.success(rest.post("/v1/transactions/transfer", json=body), 201)
    assert balance(rest, pair[1]) == 16.5


def test_other_numbers_must_be_json_numbers_or_plain_decimals(rest: Rest) -> None:
    for raw in ('{"seconds": "0x10"}', '{"seconds": "+5"}', '{"seconds": "5."}'):
        envelope.error(_post(rest, "/v1/sandbox/clock:advance", raw), 400, "INVALID_REQUEST")
    envelope.success(_post(rest, "/v1/sandbox/clock:advance", '{"seconds": "5"}'))


def test_duplicate_keys_are_400(rest: Rest, stack: Stack, pair: tuple[str, str]) -> None:
    other = open_account(rest, funded=1000)
    raw = (
        f'{{"fromAccountId": "{pair[0]}", "toAccountId": "{pair[1]}", "amount": 5,'
        f' "fromAccountId": "{other}"}}'
    )
    envelope.error(_post(rest, "/v1/transactions/transfer", raw), 400, "INVALID_REQUEST")
    nested = f'{{"accountId": "{pair[0]}", "filters": {{"keywords": ["a"], "keywords": ["b"]}}}}'
    envelope.error(_post(rest, "/v1/transactions/search", nested), 400, "INVALID_REQUEST")
    assert _entries(stack, pair[1]) == 0
    assert balance(rest, other) == 1000


@pytest.mark.parametrize(
    "raw",
    [
        "{'seconds': 5}",  # single quotes
        '{"seconds": 5} {"seconds": 6}',  # trailing garbage
        '{"seconds": 5,}',  # trailing comma
        '{"seconds": 05}',  # leading zero
        '{"seconds": 5} x',
        '{"seconds": 5',
    ],
)
def test_json_that_is_not_rfc_8259_is_400(rest: Rest, raw: str) -> None:
    response = _post(rest, "/v1/sandbox/clock:advance", raw)
    envelope.error(response, 400, "INVALID_REQUEST")


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "text/json"],
)
def test_json_routes_need_a_json_content_type(rest: Rest, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = rest.post("/v1/sandbox/clock:advance", data=b'{"seconds": 1}', headers=headers)
    if content_type is None:
        # requests sends no Content-Type for bytes: none at all is refused too.
        assert "Content-Type" not in response.request.headers
    envelope.error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_json_content_types_are_accepted(rest: Rest, content_type: str) -> None:
    response = rest.post(
        "/v1/sandbox/clock:advance", data=b'{"seconds": 1}', headers={"Content-Type": content_type}
    )
    envelope.success(response)


def test_bodyless_requests_need_no_content_type(rest: Rest) -> None:
    envelope.success(rest.get("/v1/sandbox/clock"))
    response = rest.post(f"/v1/accounts/{open_account(rest)}/close")
    envelope.success(response)


def test_too_many_or_too_long_keys_are_400(rest: Rest) -> None:
    keys = ", ".join(f'"k{i}": {i}' for i in range(300))
    response = _post(rest, "/v1/sandbox/clock:advance", "{" + keys + "}")
    envelope.error(response, 400, "INVALID_REQUEST")
    # The keys travel to the server in one header: a 40 KB key must be refused at
    # the edge, before it exceeds the server's metadata limit.
    for size in (5_000, 40_000):
        response = _post(rest, "/v1/sandbox/clock:advance", f'{{"{"k" * size}": 1}}')
        envelope.error(response, 400, "INVALID_REQUEST")


# --- 12: unknown and output-only fields -------------------------------------------------


def test_unknown_fields_are_400_naming_them(
    rest: Rest, stack: Stack, pair: tuple[str, str]
) -> None:
    body = {"fromAccountId": pair[0], "toAccountId": pair[1], "amount": 5}
    for extra, name in [({"curency": "EUR"}, "curency"), ({"sheduled": True}, "sheduled")]:
        response = rest.post("/v1/transactions/transfer", json={**body, **extra})
        error = envelope.error(response, 400, "INVALID_REQUEST", field=name)
        assert name in error["message"]
    search = {"accountId": pair[0], "filters": {"tipes": ["TRANSFER"]}}
    response = rest.post("/v1/transactions/search", json=search)
    envelope.error(response, 400, "INVALID_REQUEST", field="filters.tipes")
    assert _entries(stack, pair[1]) == 0


@pytest.mark.parametrize("requests", [{}, {"amount": 5}])
def test_a_list_sent_as_an_object_is_400_naming_it(
    rest: Rest, stack: Stack, pair: tuple[str, str], requests: dict[str, object]
) -> None:
    # The transcoder alone would read an object as an empty list of requests.
    response = rest.post("/v1/transactions/transfers:batchCreate", json={"requests": requests})
    error = envelope.error(response, 400, "INVALID_REQUEST", field="requests")
    assert "array" in error["message"]
    assert _entries(stack, pair[1]) == 0


@pytest.mark.parametrize("extra", [{"description": ["rent"]}, {"amount": [5]}])
def test_an_array_where_one_value_is_due_is_400(
    rest: Rest, stack: Stack, pair: tuple[str, str], extra: dict[str, object]
) -> None:
    body = {"fromAccountId": pair[0], "toAccountId": pair[1], "amount": 5, **extra}
    envelope.error(rest.post("/v1/transactions/transfer", json=body), 400, "INVALID_REQUEST")
    assert _entries(stack, pair[1]) == 0


def test_snake_case_names_are_accepted(rest: Rest, pair: tuple[str, str]) -> None:
    body = {"from_account_id": pair[0], "to_account_id": pair[1], "amount": 5}
    envelope.success(rest.post("/v1/transactions/transfer", json=body), 201)


def test_output_only_fields_of_the_resource_are_400(rest: Rest) -> None:
    account = open_account(rest)
    response = rest.put(f"/v1/accounts/{account}", json={"status": "FROZEN"})
    error = envelope.error(response, 400, "INVALID_REQUEST", field="status")
    assert "FreezeAccount" in error["message"]
    response = rest.patch(f"/v1/accounts/{account}", json={"balance": 1000000})
    envelope.error(response, 400, "INVALID_REQUEST", field="balance")
    got = envelope.success(rest.get(f"/v1/accounts/{account}"))["account"]
    assert (got["status"], got["balance"]) == ("ACTIVE", 0)
    # A known field next to them still works on its own.
    envelope.success(rest.put(f"/v1/accounts/{account}", json={"nickname": "ok"}))


def test_json_error_bodies_name_the_field_in_camel_case(rest: Rest) -> None:
    raw = json.dumps({"accountId": ALICE_CHECKING, "amount": "0x1", "method": "CASH"})
    response = _post(rest, "/v1/transactions/deposit", raw)
    envelope.error(response, 422, "TXN005", field="amount")


def test_the_edge_description_is_believed_only_from_trusted_proxies(
    stack: Stack, admin_token: str
) -> None:
    """x-bank-json-fields and x-envoy-original-path come from Envoy, or are ignored."""
    claimed = [
        ("authorization", f"Bearer {admin_token}"),
        ("x-envoy-original-path", "/v1/sandbox/clock:advance"),
        ("x-bank-json-fields", "seconds=n,bogus=s"),
    ]
    request = sandbox_pb.AdvanceClockRequest(seconds=1)
    # Loopback is a trusted proxy by default: the description is believed.
    with (
        grpc.insecure_channel(stack.grpc_target) as channel,
        pytest.raises(grpc.RpcError) as caught,
    ):
        sandbox_grpc.SandboxServiceStub(channel).AdvanceClock(request, metadata=claimed, timeout=10)
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
    assert info.metadata["field"] == "bogus"
    # A server that trusts only its real proxy ignores it.
    with (
        extra_server(stack, trusted_proxies=("192.0.2.10/32",)) as strict,
        grpc.insecure_channel(strict) as channel,
    ):
        sandbox_grpc.SandboxServiceStub(channel).AdvanceClock(request, metadata=claimed, timeout=10)
