"""Rate limits: seed 000's defaults, per-client limits, headers, 429, shared across processes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import grpc
import pytest
import redis
import requests

from backoffice.v1 import account_pb2 as apb
from backoffice.v1 import account_service_pb2 as pb
from backoffice.v1 import account_service_pb2_grpc as pb_grpc
from backoffice.v1 import user_service_pb2 as upb
from server.run import Stack
from tests.common import envelope, users
from tests.common.auth import LIMITED_CLIENT, SANDBOX_CLIENT, token_over_rest
from tests.common.client_rules import (
    Client,
    configured_client,
    extra_server,
    rate_headers,
    wait_for_fresh_minute,
    wait_for_fresh_window,
)
from tests.common.redis_server import redis_url
from tests.conftest import Rest

CHECKING = apb.AccountTypeEnum.AccountType.CHECKING
MISSING_ACCOUNT = "acc_doesnotexist000000"
# Freezing an account is staff administration: the writes below need every scope.
ADMIN_SCOPES = "banking.read banking.write backoffice.admin"


def _hour_end(now: float) -> int:
    return int(now) // 3600 * 3600 + 3600


def _list_accounts(stack: Stack, client: Client) -> requests.Response:
    """A read."""
    return requests.get(f"{stack.http_url}/v1/accounts", headers=client.bearer, timeout=30)


def _freeze_missing(stack: Stack, client: Client) -> requests.Response:
    """A write that the server refuses (404) after counting it."""
    return requests.post(
        f"{stack.http_url}/v1/accounts/{MISSING_ACCOUNT}/freeze",
        json={"reason": "rate limit test"},
        headers=client.bearer,
        timeout=30,
    )


def _freeze_missing_grpc(target: str, client: Client) -> grpc.RpcError | None:
    with grpc.insecure_channel(target) as channel:
        try:
            pb_grpc.AccountServiceStub(channel).FreezeAccount(
                pb.FreezeAccountRequest(account_id=MISSING_ACCOUNT, reason="rate limit test"),
                metadata=client.grpc_metadata,
                timeout=30,
            )
        except grpc.RpcError as exc:
            return exc
    return None


def _assert_refused_grpc(exc: grpc.RpcError | None, limit: int) -> dict[str, str]:
    assert exc is not None
    envelope.grpc_error(exc, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    headers = rate_headers(exc.trailing_metadata())  # type: ignore[attr-defined]
    assert headers["x-ratelimit-limit"] == str(limit)
    assert headers["x-ratelimit-remaining"] == "0"
    assert headers["retry-after"] == headers["x-ratelimit-retry-after"]
    return headers


def _assert_refused_rest(response: requests.Response, limit: int, window: int) -> None:
    error = envelope.error(response, 429, "RATE_LIMITED")
    assert str(limit) in error["message"]
    headers = rate_headers(response.headers)
    assert headers["x-ratelimit-limit"] == str(limit)
    assert headers["x-ratelimit-remaining"] == "0"
    # The end of the window in progress: a whole minute or hour, not yet over when answered.
    reset = int(headers["x-ratelimit-reset"])
    assert reset % window == 0
    assert reset - window <= time.time()
    retry = int(headers["retry-after"])
    assert headers["x-ratelimit-retry-after"] == str(retry)
    assert 1 <= retry <= window
    assert reset - time.time() <= retry  # seconds until the window ends, rounded up


# --- headers on every authenticated response -------------------------------------------------


def test_reads_carry_the_seed_default_headers_over_rest_and_grpc(stack: Stack) -> None:
    client = configured_client(stack)
    wait_for_fresh_window(3600, needed=10)
    first = _list_accounts(stack, client)
    envelope.success(first)
    headers = rate_headers(first.headers)
    assert headers == {
        "x-ratelimit-limit": "1000",
        "x-ratelimit-remaining": "999",
        "x-ratelimit-reset": str(_hour_end(time.time())),
    }
    second = _list_accounts(stack, client)
    assert rate_headers(second.headers)["x-ratelimit-remaining"] == "998"

    with grpc.insecure_channel(stack.grpc_target) as channel:
        _, state = pb_grpc.AccountServiceStub(channel).ListAccounts.with_call(
            pb.ListAccountsRequest(), metadata=client.grpc_metadata, timeout=30
        )
    over_grpc = rate_headers(state.initial_metadata())
    assert over_grpc["x-ratelimit-limit"] == "1000"
    assert over_grpc["x-ratelimit-remaining"] == "997"  # one budget, whichever transport


def test_writes_carry_headers_even_when_they_fail(stack: Stack) -> None:
    client = configured_client(stack, ADMIN_SCOPES)
    wait_for_fresh_window(3600, needed=10)
    response = _freeze_missing(stack, client)
    envelope.error(response, 404, "NOT_FOUND")
    headers = rate_headers(response.headers)
    assert headers["x-ratelimit-limit"] == "100"
    assert headers["x-ratelimit-remaining"] == "99"
    assert "retry-after" not in headers

    exc = _freeze_missing_grpc(stack.grpc_target, client)
    assert exc is not None and exc.code() == grpc.StatusCode.NOT_FOUND
    trailing = rate_headers(exc.trailing_metadata())  # type: ignore[attr-defined]
    assert trailing["x-ratelimit-limit"] == "100"
    assert trailing["x-ratelimit-remaining"] == "98"


def test_unauthenticated_calls_are_not_counted_and_get_no_headers(anonymous: Rest) -> None:
    response = anonymous.get("/v1/accounts")
    envelope.error(response, 401, "UNAUTHORIZED")
    assert rate_headers(response.headers) == {}


def _read_limit(stack: Stack, credentials: tuple[str, str]) -> int:
    token = token_over_rest(stack.http_url, credentials)["access_token"]
    response = requests.get(
        f"{stack.http_url}/v1/accounts", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    envelope.success(response)
    return int(rate_headers(response.headers)["x-ratelimit-limit"])


def test_sandbox_clients_have_their_documented_limits(stack: Stack) -> None:
    assert _read_limit(stack, SANDBOX_CLIENT) >= 1_000_000  # relaxed for tests and benchmarks
    assert _read_limit(stack, LIMITED_CLIENT) == 1000  # the seed's production limit


# --- per-minute classes ------------------------------------------------------------------------
# A minute is short: each scenario first makes its calls, then checks that they all fell in
# one window (same X-RateLimit-Reset) and starts again with a fresh client if not.

T = TypeVar("T")
ATTEMPTS = 3


def _in_one_minute(scenario: Callable[[], tuple[list[str], T]]) -> T:
    """Runs `scenario` (returning the resets it saw and its result) until one window holds it."""
    for _ in range(ATTEMPTS):
        wait_for_fresh_minute()
        resets, result = scenario()
        if len(set(resets)) == 1:
            return result
    raise AssertionError(f"a minute window ended during each of {ATTEMPTS} attempts")


def _create_account(stack: Stack, client: Client, owner: str) -> requests.Response:
    return requests.post(
        f"{stack.http_url}/v1/accounts",
        json={"type": "CHECKING", "ownerId": owner},
        headers=client.bearer,
        timeout=30,
    )


def test_the_eleventh_account_creation_in_a_minute_is_refused(stack: Stack, rest: Rest) -> None:
    def scenario() -> tuple[list[str], tuple[str, list[requests.Response]]]:
        client = configured_client(stack)
        owner = users.create_rest(rest)["id"]
        responses = [_create_account(stack, client, owner) for _ in range(11)]
        return [r.headers.get("X-RateLimit-Reset", "") for r in responses], (owner, responses)

    owner, responses = _in_one_minute(scenario)
    created = []
    for number, response in enumerate(responses[:10]):
        created.append(envelope.success(response, 201)["account"]["id"])
        headers = rate_headers(response.headers)
        # The account-creation budget is the tightest of the two it spends.
        assert headers["x-ratelimit-limit"] == "10"
        assert headers["x-ratelimit-remaining"] == str(9 - number)
        assert int(headers["x-ratelimit-reset"]) % 60 == 0
    _assert_refused_rest(responses[10], 10, 60)
    # Refused means not done: the owner has exactly the ten accounts.
    listed = envelope.success(rest.get(f"/v1/accounts?ownerId={owner}&limit=100"))
    assert sorted(account["id"] for account in listed["accounts"]) == sorted(created)


def test_account_creation_budget_is_shared_by_rest_and_grpc(stack: Stack, rest: Rest) -> None:
    def scenario() -> tuple[list[str], grpc.RpcError | None]:
        client = configured_client(stack)
        owner = users.create_rest(rest)["id"]
        resets = []
        with grpc.insecure_channel(stack.grpc_target) as channel:
            accounts = pb_grpc.AccountServiceStub(channel)
            request = pb.CreateAccountRequest(type=CHECKING, owner_id=owner)
            for _ in range(5):
                response = _create_account(stack, client, owner)
                envelope.success(response, 201)
                resets.append(response.headers["X-RateLimit-Reset"])
                _, state = accounts.CreateAccount.with_call(
                    request, metadata=client.grpc_metadata, timeout=30
                )
                resets.append(rate_headers(state.initial_metadata())["x-ratelimit-reset"])
            try:
                _, state = accounts.CreateAccount.with_call(
                    request, metadata=client.grpc_metadata, timeout=30
                )
            except grpc.RpcError as exc:
                trailing = rate_headers(exc.trailing_metadata())  # type: ignore[attr-defined]
                return [*resets, trailing.get("x-ratelimit-reset", "")], exc
        # Not refused: the window must have ended meanwhile (the resets differ).
        resets.append(rate_headers(state.initial_metadata())["x-ratelimit-reset"])
        assert len(set(resets)) > 1
        return resets, None

    refused = _in_one_minute(scenario)
    assert refused is not None
    headers = _assert_refused_grpc(refused, 10)
    assert 1 <= int(headers["retry-after"]) <= 60
    info = envelope.grpc_error(refused, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    assert info.metadata["limit_class"] == "account_create"
    assert info.metadata["window"] == "minute"


def test_user_creation_counts_as_account_creation(stack: Stack) -> None:
    def scenario() -> tuple[list[str], list[requests.Response]]:
        client = configured_client(stack, rate_limits={"account_create_per_minute": 2})
        responses = [
            requests.post(
                f"{stack.http_url}/v1/users",
                json=users.user_body(),
                headers=client.bearer,
                timeout=30,
            )
            for _ in range(3)
        ]
        return [r.headers.get("X-RateLimit-Reset", "") for r in responses], responses

    responses = _in_one_minute(scenario)
    for response in responses[:2]:
        envelope.success(response, 201)
    _assert_refused_rest(responses[2], 2, 60)


def test_the_sixth_password_reset_in_a_minute_is_refused(stack: Stack, rest: Rest) -> None:
    email = users.create_rest(rest)["email"]

    def scenario() -> tuple[list[str], tuple[list[requests.Response], grpc.RpcError]]:
        client = configured_client(stack)
        responses = [
            requests.post(
                f"{stack.http_url}/v1/password-resets",
                json={"email": email},
                headers=client.bearer,
                timeout=30,
            )
            for _ in range(5)
        ]
        # Confirming spends the same budget.
        with (
            grpc.insecure_channel(stack.grpc_target) as channel,
            pytest.raises(grpc.RpcError) as caught,
        ):
            users.stub(channel).ConfirmPasswordReset(
                upb.ConfirmPasswordResetRequest(token="x" * 43, new_password=users.PASSWORD),
                metadata=client.grpc_metadata,
                timeout=30,
            )
        trailing = rate_headers(caught.value.trailing_metadata())  # type: ignore[attr-defined]
        resets = [r.headers.get("X-RateLimit-Reset", "") for r in responses]
        return [*resets, trailing.get("x-ratelimit-reset", "")], (responses, caught.value)

    responses, refused = _in_one_minute(scenario)
    for number, response in enumerate(responses):
        assert response.status_code == 202, response.text
        headers = rate_headers(response.headers)
        assert headers["x-ratelimit-limit"] == "5"
        assert headers["x-ratelimit-remaining"] == str(4 - number)
    _assert_refused_grpc(refused, 5)


# --- per-client limits ---------------------------------------------------------------------------


def test_limits_are_configurable_per_client(stack: Stack) -> None:
    client = configured_client(
        stack, ADMIN_SCOPES, rate_limits={"write_per_hour": 3, "read_per_hour": 2}
    )
    wait_for_fresh_window(3600)
    for number in range(3):
        response = _freeze_missing(stack, client)
        envelope.error(response, 404, "NOT_FOUND")
        assert rate_headers(response.headers)["x-ratelimit-remaining"] == str(2 - number)
    _assert_refused_rest(_freeze_missing(stack, client), 3, 3600)

    for _ in range(2):
        envelope.success(_list_accounts(stack, client))
    _assert_refused_rest(_list_accounts(stack, client), 2, 3600)
    # Another client's budget is untouched.
    other = configured_client(stack)
    envelope.success(_list_accounts(stack, other))


def test_an_unusable_limit_falls_back_to_the_default(stack: Stack) -> None:
    client = configured_client(stack, rate_limits={"read_per_hour": -5, "write_per_hour": 0})
    response = _list_accounts(stack, client)
    envelope.success(response)
    assert rate_headers(response.headers)["x-ratelimit-limit"] == "1000"


# --- several server processes --------------------------------------------------------------------


def test_limits_hold_across_server_processes(stack: Stack) -> None:
    client = configured_client(stack, ADMIN_SCOPES, rate_limits={"write_per_hour": 4})
    wait_for_fresh_window(3600)
    with extra_server(stack) as other:
        for target in (stack.grpc_target, other, stack.grpc_target, other):
            exc = _freeze_missing_grpc(target, client)
            assert exc is not None and exc.code() == grpc.StatusCode.NOT_FOUND
        for target in (other, stack.grpc_target):
            _assert_refused_grpc(_freeze_missing_grpc(target, client), 4)
    # And over REST (Envoy in front of the first process).
    _assert_refused_rest(_freeze_missing(stack, client), 4, 3600)
    rows = users.db_rows(
        stack,
        "SELECT count FROM rate_limit_counters WHERE key LIKE %s",
        (f"{client.client_id}:write:%",),
    )
    assert rows == [(4,)]


@pytest.fixture(scope="module")
def redis_servers(stack: Stack) -> Iterator[tuple[str, str, str]]:
    """Two server processes on the stack's database that keep their counters in Redis."""
    with (
        redis_url() as url,
        extra_server(stack, redis_url=url) as first,
        extra_server(stack, redis_url=url) as second,
    ):
        yield url, first, second


def test_limits_hold_across_processes_sharing_redis(
    stack: Stack, redis_servers: tuple[str, str, str]
) -> None:
    url, first, second = redis_servers
    client = configured_client(stack, ADMIN_SCOPES, rate_limits={"write_per_hour": 3})
    wait_for_fresh_window(3600)
    for target in (first, second, first):
        exc = _freeze_missing_grpc(target, client)
        assert exc is not None and exc.code() == grpc.StatusCode.NOT_FOUND
    _assert_refused_grpc(_freeze_missing_grpc(second, client), 3)
    _assert_refused_grpc(_freeze_missing_grpc(first, client), 3)
    # The counters are in Redis, not in the database.
    window = int(time.time()) // 3600 * 3600
    stored = redis.Redis.from_url(url).get(f"bank:rl:{client.client_id}:write:{window}")
    assert stored == b"3"
    rows = users.db_rows(
        stack,
        "SELECT COUNT(*) FROM rate_limit_counters WHERE key LIKE %s",
        (f"{client.client_id}:%",),
    )
    assert rows == [(0,)]
