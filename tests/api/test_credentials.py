"""Who may obtain a password-reset token, and how long a changed role's tokens live.

Both through the real server, over REST (through Envoy) and over gRPC.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from backoffice.v1 import user_pb2
from backoffice.v1 import user_service_pb2 as pb
from server.run import Stack
from tests.common import envelope, users
from tests.common.principals import (
    CUSTOMER_SCOPES,
    STAFF_SCOPES,
    Caller,
    create_user,
    user_caller,
)
from tests.conftest import Rest

ROLE = user_pb2.UserRoleEnum


def _email(rest: Rest, user_id: str) -> str:
    return str(envelope.success(rest.get(f"/v1/users/{user_id}"))["user"]["email"])


def _tokens_issued(stack: Stack, user_id: str) -> int:
    rows = users.db_rows(
        stack, "SELECT COUNT(*) FROM password_reset_tokens WHERE user_id = %s", (user_id,)
    )
    return int(rows[0][0])


def _ask(session: Rest, email: str) -> tuple[dict[str, Any], str]:
    """(data, message) of a RequestPasswordReset over REST; it must be a 202."""
    response = session.post("/v1/password-resets", json={"email": email})
    return envelope.success(response, 202), str(response.json()["message"])


def _ask_grpc(who: Caller, email: str) -> pb.RequestPasswordResetResponse:
    return users.stub(who.channel).RequestPasswordReset(
        pb.RequestPasswordResetRequest(email=email), timeout=30
    )


@pytest.fixture
def customer(stack: Stack, rest: Rest, raw_channel: grpc.Channel) -> Iterator[Caller]:
    created = users.create_rest(rest)
    who = user_caller(stack, raw_channel, "customer", created["id"], CUSTOMER_SCOPES)
    yield who
    who.close()


# --- password resets -------------------------------------------------------------------


def test_a_customer_token_gets_no_reset_token_of_anyone_else(
    stack: Stack, rest: Rest, customer: Caller
) -> None:
    admin_id = create_user(rest, "ADMIN")
    other = users.create_rest(rest)
    nobody = users.unique_email("nobody")
    unknown, unknown_message = _ask(customer.rest, nobody)
    assert unknown == {}
    for email in (_email(rest, admin_id), other["email"]):
        data, message = _ask(customer.rest, email)
        # Exactly the unknown email's answer: no token, the same fields and message.
        assert (data, message) == (unknown, unknown_message)
        assert _ask_grpc(customer, email) == _ask_grpc(customer, nobody)
        assert _ask_grpc(customer, email) == pb.RequestPasswordResetResponse()
    # Nothing issued either: a person's token starts no reset for somebody else.
    assert _tokens_issued(stack, admin_id) == 0
    assert _tokens_issued(stack, other["id"]) == 0


def test_a_customer_resets_her_own_password_with_her_own_token(
    stack: Stack, rest: Rest, customer: Caller
) -> None:
    assert customer.user_id is not None
    email = _email(rest, customer.user_id)
    assert _ask_grpc(customer, email).reset_token
    data, _ = _ask(customer.rest, email)
    response = customer.rest.post(
        "/v1/password-resets:confirm",
        json={"token": data["resetToken"], "newPassword": users.OTHER_PASSWORD},
    )
    envelope.success(response)


def test_no_reset_token_of_a_staff_user_is_ever_shown(
    stack: Stack, rest: Rest, grpc_channel: grpc.Channel
) -> None:
    """Not even to the sandbox client (client credentials, all scopes)."""
    for role in ("ADMIN", "TELLER", "AUDITOR"):
        staff_id = create_user(rest, role)
        email = _email(rest, staff_id)
        data, message = _ask(rest, email)
        assert (data, message) == _ask(rest, users.unique_email("nobody"))
        reply = users.stub(grpc_channel).RequestPasswordReset(
            pb.RequestPasswordResetRequest(email=email), timeout=30
        )
        assert reply == pb.RequestPasswordResetResponse()
        # Issued all the same, for the user's own mailbox.
        assert _tokens_issued(stack, staff_id) == 2


def test_an_unknown_email_takes_as_long_as_a_known_one(rest: Rest) -> None:
    started = time.monotonic()
    _ask(rest, users.unique_email("nobody"))
    assert time.monotonic() - started >= 0.1


# --- a role change ends the tokens holding the old role --------------------------------


def _create_admin_rest(session: Rest) -> Any:
    body = users.user_body(role="ADMIN")
    return session.post("/v1/users", json=body)


@pytest.mark.parametrize("demote_over", ["rest", "grpc"])
def test_a_demoted_admins_token_stops_working_at_once(
    stack: Stack,
    rest: Rest,
    grpc_channel: grpc.Channel,
    raw_channel: grpc.Channel,
    demote_over: str,
) -> None:
    admin_id = create_user(rest, "ADMIN")
    admin = user_caller(stack, raw_channel, "admin", admin_id, STAFF_SCOPES)
    try:
        envelope.success(_create_admin_rest(admin.rest), 201)
        if demote_over == "rest":
            envelope.success(rest.put(f"/v1/users/{admin_id}", json={"role": "TELLER"}))
        else:
            users.stub(grpc_channel).UpdateUser(
                pb.UpdateUserRequest(user_id=admin_id, role=ROLE.TELLER), timeout=30
            )
        # The old token is revoked: 401 UNAUTHORIZED, not an ADMIN's answer.
        envelope.error(_create_admin_rest(admin.rest), 401, "UNAUTHORIZED")
        envelope.error(admin.rest.get(f"/v1/users/{admin_id}"), 401, "UNAUTHORIZED")
        with pytest.raises(grpc.RpcError) as caught:
            users.stub(admin.channel).CreateUser(
                pb.CreateUserRequest(
                    email=users.unique_email(),
                    name="Test User",
                    password=users.PASSWORD,
                    role=ROLE.ADMIN,
                ),
                timeout=30,
            )
        envelope.grpc_error(caught.value, grpc.StatusCode.UNAUTHENTICATED, "UNAUTHORIZED")
    finally:
        admin.close()
    # Signing in again gives a token with the new role: a teller, no ADMIN.
    teller = user_caller(stack, raw_channel, "teller", admin_id, STAFF_SCOPES)
    try:
        envelope.error(_create_admin_rest(teller.rest), 403, "FORBIDDEN")
        envelope.success(teller.rest.get(f"/v1/users/{admin_id}"))
    finally:
        teller.close()
