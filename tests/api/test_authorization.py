"""Authorization end to end: scopes per RPC, roles and ownership, for REST and gRPC callers.

Every rule is checked through Envoy (REST) and on the gRPC port directly, so
that a caller who skips the REST edge meets the same answers. Callers:
customers (alice and bob, made fresh for this module), staff users of each
role (created by an ADMIN through the API), and the sandbox client narrowed
to fewer scopes (the sandbox-limited client has the seed's production rate
limits, which other tests use up on purpose).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
import requests
from google.api import annotations_pb2 as http_annotations
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor

from backoffice.v1 import account_pb2 as account_resource_pb
from backoffice.v1 import account_service_pb2 as account_pb
from backoffice.v1 import account_service_pb2_grpc as account_grpc
from backoffice.v1 import transaction_service_pb2 as txn_pb
from backoffice.v1 import transaction_service_pb2_grpc as txn_grpc
from backoffice.v1 import user_pb2
from backoffice.v1 import user_service_pb2 as user_pb
from backoffice.v1 import user_service_pb2_grpc as user_grpc
from server.api import authz
from server.domain.ids import new_id
from server.run import Stack
from server.store import sandbox
from tests.common import envelope
from tests.common.auth import create_client, token_over_rest
from tests.common.money import account, balance, deposit, open_account, transfer
from tests.common.principals import (
    ADMIN_SCOPE,
    CUSTOMER_SCOPES,
    NON_OAUTH,
    READ,
    STAFF_SCOPES,
    WRITE,
    Caller,
    client_caller,
    create_user,
    path,
    short,
    user_caller,
    user_token,
)
from tests.common.stack import stack_settings, started
from tests.conftest import Rest

StatusCode = grpc.StatusCode
SERVICES = sorted({m.containing_service.name for m in NON_OAUTH})


@dataclass
class World:
    """The callers and accounts of this module."""

    alice: Caller
    bob: Caller
    teller: Caller
    ops: Caller
    auditor: Caller
    boss: Caller  # a staff user with the ADMIN role
    alice_checking: str
    alice_savings: str
    bob_checking: str
    bob_deposit: str  # a transaction touching only bob's account


@pytest.fixture(scope="module")
def world(stack: Stack, rest: Rest, raw_channel: grpc.Channel) -> Iterator[World]:
    ids = {
        "alice": create_user(rest, "CUSTOMER", "Alice Isolation"),
        "bob": create_user(rest, "CUSTOMER", "Bob Isolation"),
    }
    staff = {name: create_user(rest, name.upper()) for name in ("teller", "auditor")}
    staff["ops"] = create_user(rest, "OPERATIONS")
    staff["boss"] = create_user(rest, "ADMIN")
    callers = {
        name: user_caller(stack, raw_channel, name, user_id, CUSTOMER_SCOPES)
        for name, user_id in ids.items()
    }
    callers |= {
        name: user_caller(stack, raw_channel, name, user_id, STAFF_SCOPES)
        for name, user_id in staff.items()
    }
    bob_checking = open_account(rest, owner=ids["bob"], funded=500)
    built = World(
        **callers,
        alice_checking=open_account(rest, owner=ids["alice"], funded=1000),
        alice_savings=open_account(rest, owner=ids["alice"], type_="SAVINGS"),
        bob_checking=bob_checking,
        bob_deposit=deposit(rest, bob_checking, 25)["id"],
    )
    try:
        yield built
    finally:
        for one in callers.values():
            one.close()


@pytest.fixture(scope="module")
def narrow(stack: Stack, raw_channel: grpc.Channel) -> Iterator[dict[str, Caller]]:
    """The sandbox client with fewer scopes, by the scope it lacks (or holds alone)."""
    callers = {
        "read only": client_caller(stack, raw_channel, READ),
        "write only": client_caller(stack, raw_channel, WRITE),
        "admin only": client_caller(stack, raw_channel, ADMIN_SCOPE),
        f"no {READ}": client_caller(stack, raw_channel, f"{WRITE} {ADMIN_SCOPE}"),
        f"no {WRITE}": client_caller(stack, raw_channel, f"{READ} {ADMIN_SCOPE}"),
        f"no {ADMIN_SCOPE}": client_caller(stack, raw_channel, f"{READ} {WRITE}"),
    }
    try:
        yield callers
    finally:
        for one in callers.values():
            one.close()


# --- helpers ----------------------------------------------------------------------------


def grpc_fails(call: Callable[..., Any], request: Any, code: StatusCode, reason: str) -> Any:
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=30)
    return envelope.grpc_error(caught.value, code, reason)


def forbidden(response: requests.Response, missing_scope: str | None = None) -> dict[str, Any]:
    found = envelope.error(response, 403, "FORBIDDEN")
    if missing_scope is not None:
        challenge = response.headers["WWW-Authenticate"]
        assert 'error="insufficient_scope"' in challenge
        assert missing_scope in challenge
    return found


def without_meta(response: requests.Response) -> dict[str, Any]:
    body = dict(response.json())
    body.pop("meta")
    return body


def same_as_unknown(known: requests.Response, unknown: requests.Response, status: int) -> None:
    """Another customer's resource answers exactly like one that does not exist."""
    assert known.status_code == unknown.status_code == status, (known.text, unknown.text)
    assert without_meta(known) == without_meta(unknown)


def accounts_stub(who: Caller) -> account_grpc.AccountServiceStub:
    return account_grpc.AccountServiceStub(who.channel)


def txn_stub(who: Caller) -> txn_grpc.TransactionServiceStub:
    return txn_grpc.TransactionServiceStub(who.channel)


def users_stub(who: Caller) -> user_grpc.UserServiceStub:
    return user_grpc.UserServiceStub(who.channel)


def unknown_account() -> str:
    return new_id("acc")


def http_routes(method: MethodDescriptor) -> list[tuple[str, str, bool]]:
    """(verb, path with every variable filled, has body) of each REST binding."""
    rule = method.GetOptions().Extensions[http_annotations.http]
    routes = []
    for binding in [rule, *rule.additional_bindings]:
        verb = str(binding.WhichOneof("pattern"))
        template = getattr(binding, verb)
        filled = re.sub(r"\{[^}]+\}", f"x{uuid.uuid4().hex[:8]}", template)
        routes.append((verb, filled, bool(binding.body)))
    return routes


def send(session: Rest, route: tuple[str, str, bool]) -> Any:
    verb, where, has_body = route
    kwargs: dict[str, Any] = {"json": {}} if has_body else {}
    return session.request(verb.upper(), where, **kwargs)


def raw_call(channel: grpc.Channel, method: MethodDescriptor) -> None:
    """Calls `method` with an empty request; raises the call's RpcError."""
    request = message_factory.GetMessageClass(method.input_type)()
    reply = message_factory.GetMessageClass(method.output_type)
    channel.unary_unary(
        path(method),
        request_serializer=lambda message: message.SerializeToString(),
        response_deserializer=reply.FromString,
    )(request, timeout=30)


def methods_of(service: str) -> list[MethodDescriptor]:
    return [m for m in NON_OAUTH if m.containing_service.name == service]


# --- no credentials -----------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_every_rpc_needs_credentials_over_rest(stack: Stack, anonymous: Rest, service: str) -> None:
    for method in methods_of(service):
        for route in http_routes(method):
            response = send(anonymous, route)
            envelope.error(response, 401, "UNAUTHORIZED")
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), route


@pytest.mark.parametrize("service", SERVICES)
def test_every_rpc_needs_credentials_over_grpc(raw_channel: grpc.Channel, service: str) -> None:
    for method in methods_of(service):
        grpc_fails(
            lambda request, timeout, m=method: raw_call(raw_channel, m),
            None,
            StatusCode.UNAUTHENTICATED,
            "UNAUTHORIZED",
        )


# --- scopes: every RPC, both ways ---------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_every_rpc_refuses_a_token_without_one_of_its_scopes_over_grpc(
    narrow: dict[str, Caller], service: str
) -> None:
    for method in methods_of(service):
        for scope in authz.required_scopes(path(method)):
            lacking = narrow[f"no {scope}"]
            info = grpc_fails(
                lambda request, timeout, m=method, c=lacking: raw_call(c.channel, m),
                None,
                StatusCode.PERMISSION_DENIED,
                "FORBIDDEN",
            )
            assert info.metadata["missing_scope"] == scope, short(method)
            assert info.metadata["method"] == short(method)


@pytest.mark.parametrize("service", SERVICES)
def test_every_rpc_refuses_a_token_without_one_of_its_scopes_over_rest(
    stack: Stack, narrow: dict[str, Caller], service: str
) -> None:
    for method in methods_of(service):
        for scope in authz.required_scopes(path(method)):
            lacking = narrow[f"no {scope}"]
            for route in http_routes(method):
                forbidden(send(lacking.rest, route), scope)


def test_a_read_only_token_reads_but_cannot_move_money(
    rest: Rest, narrow: dict[str, Caller], world: World
) -> None:
    reader = narrow["read only"]
    assert account(reader.rest, world.alice_checking)["balance"] == 1000
    refused = forbidden(transfer(reader.rest, world.alice_checking, world.bob_checking, 10), WRITE)
    assert "banking.write" in refused["message"]
    info = grpc_fails(
        txn_stub(reader).CreateTransfer,
        txn_pb.CreateTransferRequest(
            from_account_id=world.alice_checking, to_account_id=world.bob_checking, amount=10
        ),
        StatusCode.PERMISSION_DENIED,
        "FORBIDDEN",
    )
    assert info.metadata["missing_scope"] == WRITE
    assert info.metadata["method"] == "TransactionService/CreateTransfer"
    assert balance(rest, world.alice_checking) == 1000
    assert balance(rest, world.bob_checking) == 525


def test_the_scope_is_checked_before_the_resource(narrow: dict[str, Caller]) -> None:
    """A refused caller learns nothing about ids: 403 whether they exist or not."""
    reader = narrow["read only"]
    forbidden(transfer(reader.rest, unknown_account(), unknown_account(), 10), WRITE)
    forbidden(reader.rest.post(f"/v1/accounts/{unknown_account()}/freeze", json={}))


def test_a_write_only_token_cannot_read(narrow: dict[str, Caller], world: World) -> None:
    writer = narrow["write only"]
    forbidden(writer.rest.get(f"/v1/accounts/{world.alice_checking}"), READ)
    forbidden(writer.rest.get("/v1/transactions", params={"accountId": world.bob_checking}))
    grpc_fails(
        accounts_stub(writer).GetAccount,
        account_pb.GetAccountRequest(account_id=world.alice_checking),
        StatusCode.PERMISSION_DENIED,
        "FORBIDDEN",
    )


@pytest.mark.parametrize(
    ("verb", "where", "body"),
    [
        ("GET", "/v1/clients", None),
        ("POST", "/v1/clients", {"name": "x", "scopes": ["banking.read"]}),
        ("GET", "/v1/audit-events", None),
        ("GET", "/v1/sandbox/clock", None),
        ("POST", "/v1/sandbox/clock:advance", {"seconds": 60}),
        ("GET", "/v1/webhooks", None),
    ],
)
def test_administration_needs_backoffice_admin(
    stack: Stack, narrow: dict[str, Caller], verb: str, where: str, body: Any
) -> None:
    app = narrow[f"no {ADMIN_SCOPE}"]  # banking.read banking.write: a bank application
    response = app.rest.request(verb, where, json=body)
    assert forbidden(response, ADMIN_SCOPE)["message"]


def test_administration_needs_backoffice_admin_over_grpc(narrow: dict[str, Caller]) -> None:
    app = narrow[f"no {ADMIN_SCOPE}"]
    for service in ("ClientService", "AuditService", "SandboxService", "WebhookService"):
        # The sandbox inbox is open to customers (their own messages): banking.read.
        for method in [m for m in methods_of(service) if m.name != "ListSandboxNotifications"]:
            info = grpc_fails(
                lambda request, timeout, m=method: raw_call(app.channel, m),
                None,
                StatusCode.PERMISSION_DENIED,
                "FORBIDDEN",
            )
            assert info.metadata["missing_scope"] == ADMIN_SCOPE


def test_backoffice_admin_alone_administers_but_reads_no_money(
    narrow: dict[str, Caller], world: World
) -> None:
    tool = narrow["admin only"]
    assert envelope.success(tool.rest.get("/v1/sandbox/clock"))["clock"]["now"]
    forbidden(tool.rest.get(f"/v1/accounts/{world.alice_checking}"), READ)
    forbidden(transfer(tool.rest, world.alice_checking, world.bob_checking, 1), WRITE)


def test_staff_only_account_operations_need_backoffice_admin(
    rest: Rest, narrow: dict[str, Caller], world: World
) -> None:
    """A client without backoffice.admin acts as OPERATIONS, yet cannot freeze."""
    app = narrow[f"no {ADMIN_SCOPE}"]
    forbidden(app.rest.post(f"/v1/accounts/{world.bob_checking}/freeze", json={}), ADMIN_SCOPE)
    forbidden(app.rest.put(f"/v1/accounts/{world.bob_checking}/limits", json={}), ADMIN_SCOPE)
    grpc_fails(
        accounts_stub(app).FreezeAccount,
        account_pb.FreezeAccountRequest(account_id=world.bob_checking, reason="test"),
        StatusCode.PERMISSION_DENIED,
        "FORBIDDEN",
    )
    assert account(rest, world.bob_checking)["status"] == "ACTIVE"


# --- customers: their own money only ----------------------------------------------------


def test_a_customer_reads_her_own_account(world: World) -> None:
    mine = account(world.alice.rest, world.alice_checking)
    assert mine["balance"] == 1000
    assert "*" not in mine["accountNumber"]  # the owner sees the full number
    reply = accounts_stub(world.alice).GetAccount(
        account_pb.GetAccountRequest(account_id=world.alice_savings), timeout=30
    )
    assert reply.account.id == world.alice_savings


def test_another_customers_account_is_not_found_like_an_unknown_one(world: World) -> None:
    alice = world.alice.rest
    for suffix in ("", "/balance", "/holds"):
        same_as_unknown(
            alice.get(f"/v1/accounts/{world.bob_checking}{suffix}"),
            alice.get(f"/v1/accounts/{unknown_account()}{suffix}"),
            404,
        )
    envelope.error(alice.get(f"/v1/accounts/{world.bob_checking}"), 404, "NOT_FOUND")
    stub = accounts_stub(world.alice)
    infos = [
        grpc_fails(
            stub.GetAccount,
            account_pb.GetAccountRequest(account_id=account_id),
            StatusCode.NOT_FOUND,
            "NOT_FOUND",
        )
        for account_id in (world.bob_checking, unknown_account())
    ]
    assert infos[0].metadata.keys() == infos[1].metadata.keys() == {"account_id"}


def test_another_customers_transaction_is_not_found_like_an_unknown_one(world: World) -> None:
    alice = world.alice.rest
    same_as_unknown(
        alice.get(f"/v1/transactions/{world.bob_deposit}"),
        alice.get(f"/v1/transactions/{new_id('txn')}"),
        404,
    )
    grpc_fails(
        txn_stub(world.alice).GetTransaction,
        txn_pb.GetTransactionRequest(transaction_id=world.bob_deposit),
        StatusCode.NOT_FOUND,
        "NOT_FOUND",
    )
    # Bob reads it.
    assert envelope.success(world.bob.rest.get(f"/v1/transactions/{world.bob_deposit}"))


def test_another_customer_is_not_found_like_an_unknown_user(world: World) -> None:
    alice = world.alice.rest
    assert world.bob.user_id is not None
    same_as_unknown(
        alice.get(f"/v1/users/{world.bob.user_id}"), alice.get(f"/v1/users/{new_id('usr')}"), 404
    )
    same_as_unknown(
        alice.patch(f"/v1/users/{world.bob.user_id}", json={"name": "Mallory"}),
        alice.patch(f"/v1/users/{new_id('usr')}", json={"name": "Mallory"}),
        404,
    )
    grpc_fails(
        users_stub(world.alice).GetUser,
        user_pb.GetUserRequest(user_id=world.bob.user_id),
        StatusCode.NOT_FOUND,
        "NOT_FOUND",
    )
    assert envelope.success(alice.get("/v1/users/me"))["user"]["id"] == world.alice.user_id


def test_a_customer_cannot_list_another_customers_history(world: World) -> None:
    for where in ("/v1/transactions", "/api/transactions"):
        same_as_unknown(
            world.alice.rest.get(where, params={"accountId": world.bob_checking}),
            world.alice.rest.get(where, params={"accountId": unknown_account()}),
            404,
        )
        envelope.error(
            world.alice.rest.get(where, params={"accountId": world.bob_checking}),
            404,
            "TXN002",
            "accountId",
        )
    search = world.alice.rest.post(
        "/v1/transactions/search", json={"accountId": world.bob_checking}
    )
    envelope.error(search, 404, "TXN002", "accountId")
    grpc_fails(
        txn_stub(world.alice).ListTransactions,
        txn_pb.ListTransactionsRequest(account_id=world.bob_checking),
        StatusCode.NOT_FOUND,
        "TXN002",
    )


def test_a_customer_cannot_move_money_out_of_another_customers_account(
    rest: Rest, world: World
) -> None:
    alice = world.alice
    refused = transfer(alice.rest, world.bob_checking, world.alice_checking, 10)
    envelope.error(refused, 404, "TXN002", "fromAccountId")
    same_as_unknown(refused, transfer(alice.rest, unknown_account(), world.alice_checking, 10), 404)
    grpc_fails(
        txn_stub(alice).CreateTransfer,
        txn_pb.CreateTransferRequest(
            from_account_id=world.bob_checking, to_account_id=world.alice_checking, amount=10
        ),
        StatusCode.NOT_FOUND,
        "TXN002",
    )
    withdrawal = {
        "accountId": world.bob_checking,
        "amount": 10,
        "method": "BRANCH",
        "location": "Branch A",
    }
    envelope.error(
        alice.rest.post("/v1/transactions/withdrawal", json=withdrawal), 404, "TXN002", "accountId"
    )
    generic = {
        "type": "TRANSFER",
        "fromAccountId": world.bob_checking,
        "toAccountId": world.alice_checking,
        "amount": 10,
    }
    envelope.error(
        alice.rest.post("/v1/transactions", json=generic), 404, "TXN002", "fromAccountId"
    )
    # Deposits too go into one's own accounts only.
    envelope.error(
        alice.rest.post(
            "/v1/transactions/deposit",
            json={"accountId": world.bob_checking, "amount": 10, "method": "MOBILE_CHECK"},
        ),
        404,
        "TXN002",
        "accountId",
    )
    assert balance(rest, world.bob_checking) == 525
    assert balance(rest, world.alice_checking) == 1000


def test_a_customer_pays_another_customer_without_seeing_his_balance(
    rest: Rest, world: World
) -> None:
    before = balance(rest, world.bob_checking)
    response = transfer(world.alice.rest, world.alice_checking, world.bob_checking, 12.5)
    txn = envelope.success(response, 201)["transaction"]
    assert txn["fromAccount"]["balance"] == 987.5
    assert "balance" not in txn["toAccount"]
    assert txn["toAccount"]["accountNumber"].startswith("****")
    assert txn["balanceAfter"] == 987.5
    assert str(before + 12.5) not in response.text
    # Reading it back shows no balance of bob's either.
    again = envelope.success(world.alice.rest.get(f"/v1/transactions/{txn['id']}"))
    assert "balance" not in again["transaction"]["toAccount"]
    assert again["transaction"]["balanceAfter"] == 987.5
    # Over gRPC: the same.
    reply = txn_stub(world.alice).CreateTransfer(
        txn_pb.CreateTransferRequest(
            from_account_id=world.alice_checking, to_account_id=world.bob_checking, amount=2.5
        ),
        timeout=30,
    )
    assert not reply.transaction.to_account.HasField("balance")
    assert reply.transaction.from_account.balance == 985
    assert balance(rest, world.bob_checking) == before + 15
    # Bob sees the money arrive in his own history, with his balance.
    history = envelope.success(
        world.bob.rest.get("/v1/transactions", params={"accountId": world.bob_checking})
    )
    credited = [t for t in history["transactions"] if t["id"] == txn["id"]]
    assert credited and credited[0]["direction"] == "CREDIT"
    # ... and alice still cannot read bob's account.
    envelope.error(world.alice.rest.get(f"/v1/accounts/{world.bob_checking}"), 404, "NOT_FOUND")
    # Moving between her own accounts works too.
    envelope.success(transfer(world.alice.rest, world.alice_checking, world.alice_savings, 5), 201)


def test_lists_show_a_customer_only_herself(rest: Rest, world: World) -> None:
    alice = world.alice.rest
    mine = envelope.success(alice.get("/v1/accounts", params={"limit": 100}))["accounts"]
    assert {a["id"] for a in mine} == {world.alice_checking, world.alice_savings}
    assert {a["ownerId"] for a in mine} == {world.alice.user_id}
    asked_for_bob = alice.get("/v1/accounts", params={"ownerId": world.bob.user_id})
    assert envelope.success(asked_for_bob)["accounts"] == []
    users = envelope.success(alice.get("/v1/users", params={"limit": 100}))["users"]
    assert [u["id"] for u in users] == [world.alice.user_id]
    searched = alice.get("/v1/users", params={"search": "Bob Isolation"})
    assert envelope.success(searched)["users"] == []
    reply = accounts_stub(world.alice).ListAccounts(
        account_pb.ListAccountsRequest(limit=100), timeout=30
    )
    assert {a.id for a in reply.accounts} == {world.alice_checking, world.alice_savings}
    listed = users_stub(world.alice).ListUsers(user_pb.ListUsersRequest(limit=100), timeout=30)
    assert [u.id for u in listed.users] == [world.alice.user_id]
    # Staff see both customers.
    everyone = envelope.success(rest.get("/v1/users", params={"search": "Isolation"}))["users"]
    assert {world.alice.user_id, world.bob.user_id} <= {u["id"] for u in everyone}


def test_a_customer_cannot_act_as_staff(rest: Rest, world: World) -> None:
    alice = world.alice
    # Freezing, unfreezing and limits: not even on her own account.
    for where in ("freeze", "unfreeze"):
        forbidden(
            alice.rest.post(f"/v1/accounts/{world.alice_checking}/{where}", json={}), ADMIN_SCOPE
        )
    forbidden(alice.rest.put(f"/v1/accounts/{world.alice_checking}/limits", json={}))
    grpc_fails(
        accounts_stub(alice).FreezeAccount,
        account_pb.FreezeAccountRequest(account_id=world.bob_checking, reason="x"),
        StatusCode.PERMISSION_DENIED,
        "FORBIDDEN",
    )
    # Closing: her own only (the owner may close); bob's is not found.
    envelope.error(
        alice.rest.post(f"/v1/accounts/{world.bob_checking}/close", json={}), 404, "NOT_FOUND"
    )
    # Her role and status are staff business.
    for change in ({"role": "ADMIN"}, {"status": "LOCKED"}):
        field = next(iter(change))
        envelope.error(alice.rest.patch("/v1/users/me", json=change), 403, "FORBIDDEN", field)
    grpc_fails(
        users_stub(alice).UpdateUser,
        user_pb.UpdateUserRequest(user_id="me", role=user_pb2.UserRoleEnum.ADMIN),
        StatusCode.PERMISSION_DENIED,
        "FORBIDDEN",
    )
    # Other staff work.
    forbidden(alice.rest.delete(f"/v1/users/{alice.user_id}"), ADMIN_SCOPE)
    envelope.error(
        alice.rest.post(
            "/v1/users",
            json={"email": f"x{uuid.uuid4().hex[:8]}@example.com", "name": "X", "password": "p"},
        ),
        403,
        "FORBIDDEN",
    )
    forbidden(alice.rest.post(f"/v1/transactions/{world.bob_deposit}/reverse", json={}))
    forbidden(alice.rest.get("/v1/clients"), ADMIN_SCOPE)
    forbidden(alice.rest.post("/v1/sandbox/clock:advance", json={"seconds": 1}), ADMIN_SCOPE)
    # Opening an account for someone else.
    envelope.error(
        alice.rest.post("/v1/accounts", json={"type": "CHECKING", "ownerId": world.bob.user_id}),
        403,
        "FORBIDDEN",
    )
    assert account(rest, world.bob_checking)["status"] == "ACTIVE"
    me = envelope.success(rest.get(f"/v1/users/{alice.user_id}"))["user"]
    assert me["role"] == "CUSTOMER"


def test_a_customer_opens_and_closes_her_own_account(world: World) -> None:
    alice = world.alice.rest
    opened = envelope.success(alice.post("/v1/accounts", json={"type": "SAVINGS"}), 201)
    assert opened["account"]["ownerId"] == world.alice.user_id
    closed = alice.post(f"/v1/accounts/{opened['account']['id']}/close", json={})
    assert envelope.success(closed)["account"]["status"] == "CLOSED"


def test_sandbox_alice_sees_her_seeded_accounts_and_not_bobs(
    stack: Stack, raw_channel: grpc.Channel
) -> None:
    alice = user_caller(stack, raw_channel, "alice", sandbox.user_id("alice"), CUSTOMER_SCOPES)
    try:
        mine = envelope.success(alice.rest.get("/v1/accounts", params={"limit": 100}))
        ids = {a["id"] for a in mine["accounts"]}
        assert sandbox.account_id("alice", "CHECKING") in ids
        assert not ids & {sandbox.account_id("bob", kind) for kind in ("CHECKING", "SAVINGS")}
        same_as_unknown(
            alice.rest.get(f"/v1/accounts/{sandbox.account_id('bob', 'CHECKING')}"),
            alice.rest.get(f"/v1/accounts/{unknown_account()}"),
            404,
        )
    finally:
        alice.close()


# --- staff roles --------------------------------------------------------------------------


def test_an_auditor_reads_everything(world: World) -> None:
    auditor = world.auditor
    bobs = account(auditor.rest, world.bob_checking)
    assert "*" not in bobs["accountNumber"]
    assert envelope.success(auditor.rest.get(f"/v1/users/{world.bob.user_id}"))
    assert envelope.success(auditor.rest.get(f"/v1/transactions/{world.bob_deposit}"))
    history = auditor.rest.get("/v1/transactions", params={"accountId": world.alice_checking})
    assert envelope.success(history)["transactions"]
    listed = envelope.success(auditor.rest.get("/v1/users", params={"search": "Isolation"}))
    assert {world.alice.user_id, world.bob.user_id} <= {u["id"] for u in listed["users"]}
    reply = accounts_stub(auditor).GetAccountBalance(
        account_pb.GetAccountBalanceRequest(account_id=world.alice_checking), timeout=30
    )
    assert reply.balance.account_id == world.alice_checking


def test_every_write_of_an_auditor_is_forbidden(stack: Stack, rest: Rest, world: World) -> None:
    auditor = world.auditor
    writes = [
        m
        for m in NON_OAUTH
        if WRITE in authz.required_scopes(path(m))
        and short(m) != "ReportService/CreateCustomReport"
    ]
    assert len(writes) > 20
    for method in writes:
        for route in http_routes(method):
            forbidden(send(auditor.rest, route))
        info = grpc_fails(
            lambda request, timeout, m=method: raw_call(auditor.channel, m),
            None,
            StatusCode.PERMISSION_DENIED,
            "FORBIDDEN",
        )
        assert info.metadata["role"] == "AUDITOR", short(method)
    # And with real bodies, nothing moved or changed.
    forbidden(transfer(auditor.rest, world.alice_checking, world.bob_checking, 1))
    forbidden(auditor.rest.post(f"/v1/accounts/{world.bob_checking}/freeze", json={}))
    forbidden(auditor.rest.patch(f"/v1/users/{world.bob.user_id}", json={"name": "Audited"}))
    assert account(rest, world.bob_checking)["status"] == "ACTIVE"
    assert envelope.success(rest.get(f"/v1/users/{world.bob.user_id}"))["user"]["name"] == (
        "Bob Isolation"
    )
    # The audit log is an auditor's to read (the service may not be built yet).
    response = auditor.rest.get("/v1/audit-events")
    assert response.status_code in (200, 501), response.text


def test_a_teller_serves_customers_but_does_not_administer(rest: Rest, world: World) -> None:
    teller = world.teller
    # Cash at the counter, and moving a customer's money on her behalf.
    slip = {"accountId": world.alice_checking, "amount": 40, "method": "CASH", "location": "B1"}
    envelope.success(teller.rest.post("/v1/transactions/deposit", json=slip), 201)
    envelope.success(transfer(teller.rest, world.alice_checking, world.alice_savings, 40), 201)
    # Customers: created and edited by tellers; staff users and roles are an ADMIN's.
    customer = envelope.success(
        teller.rest.post(
            "/v1/users",
            json={
                "email": f"walkin.{uuid.uuid4().hex[:8]}@example.com",
                "name": "Walk In",
                "password": "Vault-Lamp-Orbit-93",
            },
        ),
        201,
    )["user"]
    assert customer["role"] == "CUSTOMER"
    envelope.error(
        teller.rest.post(
            "/v1/users",
            json={
                "email": f"staff.{uuid.uuid4().hex[:8]}@example.com",
                "name": "New Staff",
                "password": "Vault-Lamp-Orbit-93",
                "role": "TELLER",
            },
        ),
        403,
        "FORBIDDEN",
    )
    envelope.error(
        teller.rest.patch(f"/v1/users/{customer['id']}", json={"role": "ADMIN"}),
        403,
        "FORBIDDEN",
    )
    envelope.error(
        teller.rest.patch(f"/v1/users/{world.ops.user_id}", json={"name": "Renamed"}),
        403,
        "FORBIDDEN",
    )
    # Freezing, closing and limits belong to OPERATIONS and ADMIN.
    for where in ("freeze", "close"):
        envelope.error(
            teller.rest.post(f"/v1/accounts/{world.bob_checking}/{where}", json={"reason": "x"}),
            403,
            "FORBIDDEN",
        )
    limits = {"dailyAtmWithdrawalLimit": 10, "reason": "test"}
    envelope.error(
        teller.rest.put(f"/v1/accounts/{world.bob_checking}/limits", json=limits),
        403,
        "FORBIDDEN",
    )
    # Administration services are closed to tellers even with backoffice.admin.
    for where in ("/v1/clients", "/v1/audit-events", "/v1/webhooks", "/v1/sandbox/clock"):
        refused = envelope.error(teller.rest.get(where), 403, "FORBIDDEN")
        assert refused["message"] == "This operation is reserved to administrators"
    grpc_fails(
        accounts_stub(teller).FreezeAccount,
        account_pb.FreezeAccountRequest(account_id=world.bob_checking, reason="x"),
        StatusCode.PERMISSION_DENIED,
        "FORBIDDEN",
    )
    assert account(rest, world.bob_checking)["status"] == "ACTIVE"


def test_operations_freeze_and_unfreeze_but_do_not_administer(world: World) -> None:
    ops = world.ops
    target = world.bob_checking
    frozen = ops.rest.post(f"/v1/accounts/{target}/freeze", json={"reason": "review"})
    assert envelope.success(frozen)["account"]["status"] == "FROZEN"
    try:
        # A frozen account refuses bob's own movements.
        envelope.error(transfer(world.bob.rest, target, world.alice_checking, 1), 422, "TXN003")
    finally:
        reply = accounts_stub(ops).UnfreezeAccount(
            account_pb.UnfreezeAccountRequest(account_id=target, reason="cleared"), timeout=30
        )
    assert reply.account.status == account_resource_pb.AccountStatusEnum.ACTIVE
    envelope.error(
        ops.rest.patch(f"/v1/users/{world.bob.user_id}", json={"role": "TELLER"}),
        403,
        "FORBIDDEN",
    )
    for where in ("/v1/clients", "/v1/sandbox/clock"):
        envelope.error(ops.rest.get(where), 403, "FORBIDDEN")


def test_a_staff_admin_administers(world: World) -> None:
    boss = world.boss
    assert envelope.success(boss.rest.get("/v1/sandbox/clock"))["clock"]["now"]
    clients = boss.rest.get("/v1/clients")
    assert clients.status_code in (200, 501), clients.text
    created = create_user(boss.rest, "AUDITOR")
    assert envelope.success(boss.rest.get(f"/v1/users/{created}"))["user"]["role"] == "AUDITOR"


# --- production rules -------------------------------------------------------------------


@pytest.fixture(scope="module")
def production_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack in production mode (SQLite, no sandbox data), for this module only."""
    tmp = tmp_path_factory.mktemp("stack-production-authz")
    with started(stack_settings(tmp, mode="production")) as stack:
        yield stack


def test_in_production_customers_deposit_only_mobile_checks(production_stack: Stack) -> None:
    """transaction_service.proto: other methods are posted by tellers or the bank."""
    client = create_client(production_stack.settings)
    admin_token = str(token_over_rest(production_stack.http_url, client)["access_token"])
    with Rest(production_stack.http_url) as bank:
        bank.headers["Authorization"] = f"Bearer {admin_token}"
        customer_id = create_user(bank, "CUSTOMER")
        account_id = open_account(bank, owner=customer_id)
        token = user_token(production_stack, customer_id, CUSTOMER_SCOPES, client_id=client[0])
        with Rest(production_stack.http_url) as customer:
            customer.headers["Authorization"] = f"Bearer {token}"
            for method in ("CASH", "CHECK", "WIRE", "DIRECT_DEPOSIT"):
                slip = {"accountId": account_id, "amount": 100, "method": method}
                refused = customer.post("/v1/transactions/deposit", json=slip)
                envelope.error(refused, 403, "FORBIDDEN", "method")
            generic = {"type": "DEPOSIT", "accountId": account_id, "amount": 100, "method": "CASH"}
            envelope.error(customer.post("/v1/transactions", json=generic), 403, "FORBIDDEN")
            assert balance(bank, account_id) == 0
            mobile = {"accountId": account_id, "amount": 100, "method": "MOBILE_CHECK"}
            envelope.success(customer.post("/v1/transactions/deposit", json=mobile), 201)
        # The bank (acting as staff) posts cash.
        deposit(bank, account_id, 50)
        assert balance(bank, account_id) == 150
