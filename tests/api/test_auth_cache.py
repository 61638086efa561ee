"""Credentials remembered per server process still die at once when changed through another.

The stack's server remembers each token and API key it has checked (and
the clock and client policies); an extra server process on the same
database makes the change; the stack's server's very next call must know.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from backoffice.v1 import account_service_pb2 as account_pb
from backoffice.v1 import account_service_pb2_grpc as account_grpc
from backoffice.v1 import auth_pb2, user_pb2
from backoffice.v1 import auth_service_pb2 as auth_pb
from backoffice.v1 import auth_service_pb2_grpc as auth_grpc
from backoffice.v1 import sandbox_service_pb2 as sandbox_pb
from backoffice.v1 import sandbox_service_pb2_grpc as sandbox_grpc
from backoffice.v1 import user_service_pb2 as user_pb
from backoffice.v1 import user_service_pb2_grpc as user_grpc
from server.run import Stack
from tests.common import envelope
from tests.common.auth import authenticated
from tests.common.client_rules import configured_client, extra_server
from tests.common.principals import STAFF_SCOPES, create_user, user_token
from tests.conftest import Rest

Metadata = tuple[tuple[str, str], ...]
ROLE = user_pb2.UserRoleEnum.UserRole
STATUS = user_pb2.UserStatusEnum.UserStatus


@pytest.fixture(scope="module")
def other(stack: Stack, admin_token: str) -> Iterator[grpc.Channel]:
    """Another server process on the stack's database, called as the sandbox client."""
    with extra_server(stack) as target, grpc.insecure_channel(target) as channel:
        yield authenticated(channel, admin_token)


def _clock(channel: grpc.Channel, metadata: Metadata) -> sandbox_pb.GetClockResponse:
    stub = sandbox_grpc.SandboxServiceStub(channel)
    response: sandbox_pb.GetClockResponse = stub.GetClock(
        sandbox_pb.GetClockRequest(), metadata=metadata, timeout=30
    )
    return response


def _accounts(channel: grpc.Channel, metadata: Metadata) -> None:
    """A call any caller with banking.read may make."""
    account_grpc.AccountServiceStub(channel).ListAccounts(
        account_pb.ListAccountsRequest(limit=1), metadata=metadata, timeout=30
    )


def _works(channel: grpc.Channel, metadata: Metadata) -> None:
    """Two calls: the second is answered from what the server remembers."""
    for _ in range(2):
        _accounts(channel, metadata)


def _refused(channel: grpc.Channel, metadata: Metadata) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        _accounts(channel, metadata)
    envelope.grpc_error(caught.value, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHORIZED")


def _bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


@pytest.mark.parametrize(
    "change",
    [
        user_pb.UpdateUserRequest(role=ROLE.OPERATIONS),
        user_pb.UpdateUserRequest(status=STATUS.LOCKED),
    ],
    ids=["demoted", "locked"],
)
def test_a_user_changed_through_another_process_is_refused_by_the_next_call(
    stack: Stack,
    rest: Rest,
    raw_channel: grpc.Channel,
    other: grpc.Channel,
    change: user_pb.UpdateUserRequest,
) -> None:
    user_id = create_user(rest, "TELLER")
    token = user_token(stack, user_id, STAFF_SCOPES)
    _works(raw_channel, _bearer(token))
    request = user_pb.UpdateUserRequest()
    request.CopyFrom(change)
    request.user_id = user_id
    user_grpc.UserServiceStub(other).UpdateUser(request, timeout=30)
    _refused(raw_channel, _bearer(token))


def test_a_user_left_alone_keeps_working(
    stack: Stack, rest: Rest, raw_channel: grpc.Channel, other: grpc.Channel
) -> None:
    """The negative space: another user's lock ends nobody else's token."""
    kept_id = create_user(rest, "TELLER")
    locked_id = create_user(rest, "TELLER")
    kept = user_token(stack, kept_id, STAFF_SCOPES)
    _works(raw_channel, _bearer(kept))
    user_grpc.UserServiceStub(other).UpdateUser(
        user_pb.UpdateUserRequest(user_id=locked_id, status=STATUS.LOCKED), timeout=30
    )
    _works(raw_channel, _bearer(kept))


def _api_key(other: grpc.Channel, client_id: str) -> auth_pb2.ApiKey:
    response = auth_grpc.ClientServiceStub(other).CreateApiKey(
        auth_pb.CreateApiKeyRequest(client_id=client_id, description="cache test"), timeout=30
    )
    key: auth_pb2.ApiKey = response.api_key
    return key


def test_a_client_disabled_through_another_process_is_refused_by_the_next_call(
    stack: Stack, raw_channel: grpc.Channel, other: grpc.Channel
) -> None:
    client = configured_client(stack)
    key = _api_key(other, client.client_id)
    _works(raw_channel, client.grpc_metadata)
    _works(raw_channel, (("x-api-key", key.key),))
    auth_grpc.ClientServiceStub(other).UpdateClient(
        auth_pb.UpdateClientRequest(
            client_id=client.client_id, status=auth_pb2.ClientStatusEnum.ClientStatus.DISABLED
        ),
        timeout=30,
    )
    _refused(raw_channel, client.grpc_metadata)
    _refused(raw_channel, (("x-api-key", key.key),))


def test_an_api_key_revoked_through_another_process_is_refused_by_the_next_call(
    stack: Stack, raw_channel: grpc.Channel, other: grpc.Channel
) -> None:
    client = configured_client(stack)
    revoked = _api_key(other, client.client_id)
    kept = _api_key(other, client.client_id)
    _works(raw_channel, (("x-api-key", revoked.key),))
    _works(raw_channel, (("x-api-key", kept.key),))
    auth_grpc.ClientServiceStub(other).RevokeApiKey(
        auth_pb.RevokeApiKeyRequest(client_id=client.client_id, api_key_id=revoked.id), timeout=30
    )
    _refused(raw_channel, (("x-api-key", revoked.key),))
    _works(raw_channel, (("x-api-key", kept.key),))


def test_a_clock_move_through_another_process_is_seen_by_the_next_call(
    raw_channel: grpc.Channel, admin_token: str, other: grpc.Channel
) -> None:
    before = _clock(raw_channel, _bearer(admin_token)).clock.offset_seconds
    assert _clock(raw_channel, _bearer(admin_token)).clock.offset_seconds == before
    sandbox_grpc.SandboxServiceStub(other).AdvanceClock(
        sandbox_pb.AdvanceClockRequest(seconds=1), timeout=30
    )
    assert _clock(raw_channel, _bearer(admin_token)).clock.offset_seconds == before + 1
