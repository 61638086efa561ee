"""Whole-RPC authorization: the scopes the protos declare, and the role gates.

No database and no network: the descriptors come from gen/, the principals
are made by hand. What depends on the resource (whose account) is tested in
tests/domain/test_accounts.py and test_users.py, and end to end in
tests/api/test_authorization.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.api import annotations_pb2 as http_annotations
from google.protobuf.descriptor import MethodDescriptor

from server.api import authz, call
from server.domain import errors
from server.domain.movements import check_deposit_method
from server.domain.principal import (
    ADMIN,
    ALL_SCOPES,
    AUDITOR,
    CUSTOMER,
    OPERATIONS,
    TELLER,
    Principal,
)
from tests.common.principals import METHODS, NON_OAUTH, path, short

READ, WRITE, ADMIN_SCOPE = "banking.read", "banking.write", "backoffice.admin"
SERVICES = {
    "AccountService",
    "AuditService",
    "ChallengeService",
    "ClientService",
    "DisputeService",
    "LedgerService",
    "OAuthService",
    "PayeeService",
    "RefundService",
    "ReportService",
    "RiskService",
    "SandboxService",
    "StatementService",
    "TransactionService",
    "UserService",
    "WebhookService",
}
ADMIN_SERVICES = {
    "AuditService",
    "ClientService",
    "RiskService",
    "SandboxService",
    "WebhookService",
}
# Staff-only RPCs on customers' money and accounts ("Staff only" in the protos).
STAFF_ONLY = {
    "AccountService/FreezeAccount",
    "AccountService/UnfreezeAccount",
    "AccountService/UpdateAccountLimits",
    "TransactionService/ReverseTransaction",
    "RefundService/ApproveRefundRequest",
    "RefundService/RejectRefundRequest",
    "DisputeService/ResolveDispute",
    "UserService/DeleteUser",
}
# Staff-only reads: the bank's own books (ledger_service.proto).
STAFF_ONLY_READS = {"LedgerService/GetTrialBalance"}

ALICE = Principal(client_id="app", role=CUSTOMER, user_id="usr_alice")
TELLER_TOM = Principal(client_id="app", role=TELLER, user_id="usr_tom")
OPS_OLGA = Principal(client_id="app", role=OPERATIONS, user_id="usr_olga")
AUDITOR_AL = Principal(client_id="app", role=AUDITOR, user_id="usr_al")
ADMIN_ADA = Principal(client_id="app", role=ADMIN, user_id="usr_ada")
ADMIN_CLIENT = Principal(client_id="ops-tool", role=ADMIN)


def http_verb(method: MethodDescriptor) -> str:
    rule = method.GetOptions().Extensions[http_annotations.http]
    return str(rule.WhichOneof("pattern"))


WRITES = [m for m in NON_OAUTH if WRITE in authz.required_scopes(path(m))]


@pytest.fixture(autouse=True)
def current_call() -> Iterator[call.CallInfo]:
    token = call.begin("/backoffice.v1.Test/Test", "req-test")
    try:
        yield call.current()
    finally:
        call.end(token)


def refused(method: str, principal: Principal) -> errors.Forbidden:
    with pytest.raises(errors.Forbidden) as caught:
        authz.authorize(method, principal)
    assert caught.value.reason == "FORBIDDEN"
    assert caught.value.http_status == 403
    assert caught.value.grpc_status == "PERMISSION_DENIED"
    return caught.value


# --- the declarations ---------------------------------------------------------------


def test_the_walk_sees_every_service() -> None:
    assert {m.containing_service.name for m in METHODS} == SERVICES
    assert len(NON_OAUTH) >= 60


@pytest.mark.parametrize("method", NON_OAUTH, ids=short)
def test_every_rpc_but_oauths_declares_known_scopes(method: MethodDescriptor) -> None:
    declared = authz.required_scopes(path(method))
    assert declared, f"{short(method)} declares no required_scopes"
    assert set(declared) <= ALL_SCOPES
    assert len(set(declared)) == len(declared)


def test_oauth_service_declares_none() -> None:
    oauth = [m for m in METHODS if m.containing_service.name == "OAuthService"]
    assert oauth
    assert all(authz.required_scopes(path(m)) == () for m in oauth)


@pytest.mark.parametrize("method", NON_OAUTH, ids=short)
def test_scopes_follow_the_convention(method: MethodDescriptor) -> None:
    """Reads banking.read; writes banking.write; staff-only writes also
    backoffice.admin; administration services backoffice.admin alone."""
    declared = authz.required_scopes(path(method))
    name = short(method)
    if path(method) in authz.OPEN_TO_EVERY_ROLE:
        # The sandbox inbox: a customer reads their own messages.
        assert declared == (READ,), name
    elif method.containing_service.name in ADMIN_SERVICES:
        assert declared == (ADMIN_SCOPE,), name
    elif name in STAFF_ONLY:
        assert declared == (WRITE, ADMIN_SCOPE), name
    elif name in STAFF_ONLY_READS:
        assert declared == (READ, ADMIN_SCOPE), name
    elif name == "ReportService/CreateCustomReport":
        # report_service.proto: reports need banking.read, creating one also banking.write.
        assert declared == (READ, WRITE), name
    elif http_verb(method) == "get" or name == "TransactionService/SearchTransactions":
        # SearchTransactions is a POST only because its filters are a body.
        assert declared == (READ,), name
    else:
        assert declared == (WRITE,), name


def test_unknown_and_foreign_methods_declare_nothing() -> None:
    assert authz.required_scopes("/backoffice.v1.AccountService/DropAccounts") == ()
    assert authz.required_scopes("/backoffice.v1.NoSuchService/GetAccount") == ()
    assert authz.required_scopes("/grpc.health.v1.Health/Check") == ()
    assert authz.required_scopes("garbage") == ()


def test_declarations_are_read_once_per_method() -> None:
    method = "/backoffice.v1.AccountService/GetAccount"
    authz.required_scopes(method)
    before = authz.required_scopes.cache_info().hits
    for _ in range(3):
        authz.authorize(method, ADMIN_CLIENT)
    assert authz.required_scopes.cache_info().hits == before + 3


# --- fail closed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "method",
    [
        "/backoffice.v1.OAuthService/Token",  # declares no scope
        "/backoffice.v1.AccountService/DropAccounts",
        "/backoffice.v1.NoSuchService/GetAccount",
    ],
)
def test_an_rpc_without_declared_scopes_is_refused_to_everyone(method: str) -> None:
    error = refused(method, ADMIN_CLIENT)
    assert error.metadata["method"] == method.removeprefix("/backoffice.v1.")


def test_an_unknown_role_is_refused() -> None:
    for role in ("", "SUPERUSER", "admin"):
        principal = Principal(client_id="app", role=role, user_id="usr_x")
        refused("/backoffice.v1.AccountService/GetAccount", principal)


# --- scopes -------------------------------------------------------------------------------


def test_a_missing_scope_is_forbidden_and_named(current_call: call.CallInfo) -> None:
    reader = Principal(client_id="partner", role=OPERATIONS, scopes=frozenset({READ}))
    error = refused("/backoffice.v1.TransactionService/CreateTransfer", reader)
    assert error.metadata == {
        "method": "TransactionService/CreateTransfer",
        "missing_scope": WRITE,
        "required_scopes": WRITE,
    }
    assert "banking.write" in error.message
    # RFC 6750 section 3.1: the challenge names the error and the scope needed.
    assert current_call.headers["www-authenticate"] == (
        'Bearer realm="backoffice", error="insufficient_scope", scope="banking.write"'
    )


def test_every_missing_scope_is_named() -> None:
    reader = Principal(client_id="partner", role=OPERATIONS, scopes=frozenset({READ}))
    error = refused("/backoffice.v1.AccountService/FreezeAccount", reader)
    assert error.metadata["missing_scope"] == f"{WRITE} {ADMIN_SCOPE}"
    assert error.metadata["required_scopes"] == f"{WRITE} {ADMIN_SCOPE}"


@pytest.mark.parametrize("method", NON_OAUTH, ids=short)
def test_each_declared_scope_is_needed(method: MethodDescriptor) -> None:
    declared = authz.required_scopes(path(method))
    for scope in declared:
        principal = Principal(client_id="app", role=ADMIN, scopes=ALL_SCOPES - {scope})
        assert refused(path(method), principal).metadata["missing_scope"] == scope
    authz.authorize(path(method), ADMIN_CLIENT)


def test_scopes_do_not_imply_each_other() -> None:
    admin_only = Principal(client_id="tool", role=ADMIN, scopes=frozenset({ADMIN_SCOPE}))
    authz.authorize("/backoffice.v1.SandboxService/GetClock", admin_only)
    refused("/backoffice.v1.AccountService/GetAccount", admin_only)
    writer = Principal(client_id="tool", role=OPERATIONS, scopes=frozenset({WRITE}))
    authz.authorize("/backoffice.v1.TransactionService/CreateTransfer", writer)
    assert refused("/backoffice.v1.AccountService/ListAccounts", writer).metadata[
        "missing_scope"
    ] == (READ)


def test_a_customer_never_holds_backoffice_admin() -> None:
    """Whatever a token says: customers cannot administer, nor act as staff."""
    assert ALICE.scopes == ALL_SCOPES
    assert authz.effective_scopes(ALICE) == ALL_SCOPES - {ADMIN_SCOPE}
    authz.authorize("/backoffice.v1.AccountService/GetAccount", ALICE)
    authz.authorize("/backoffice.v1.TransactionService/CreateTransfer", ALICE)
    for method in (
        "/backoffice.v1.AccountService/FreezeAccount",
        "/backoffice.v1.TransactionService/ReverseTransaction",
        "/backoffice.v1.ClientService/ListClients",
        "/backoffice.v1.SandboxService/AdvanceClock",
    ):
        assert refused(method, ALICE).metadata["missing_scope"] == ADMIN_SCOPE


# --- roles ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "allowed"),
    [
        ("ClientService", {ADMIN}),
        ("AuditService", {ADMIN, AUDITOR}),
        ("WebhookService", {ADMIN}),
        ("SandboxService", {ADMIN}),
    ],
)
def test_administration_services_need_their_roles(service: str, allowed: set[str]) -> None:
    methods = [path(m) for m in NON_OAUTH if m.containing_service.name == service]
    assert methods
    for principal in (ALICE, TELLER_TOM, OPS_OLGA, AUDITOR_AL, ADMIN_ADA, ADMIN_CLIENT):
        for method in authz.OPEN_TO_EVERY_ROLE.intersection(methods):
            authz.authorize(method, principal)
    methods = [method for method in methods if method not in authz.OPEN_TO_EVERY_ROLE]
    for principal in (TELLER_TOM, OPS_OLGA, AUDITOR_AL, ADMIN_ADA, ADMIN_CLIENT):
        for method in methods:
            if principal.role in allowed and (
                principal.role != AUDITOR or WRITE not in authz.required_scopes(method)
            ):
                authz.authorize(method, principal)
            else:
                error = refused(method, principal)
                assert error.metadata["role"] == principal.role


def test_a_client_without_backoffice_admin_is_not_an_administrator() -> None:
    """client_role: without backoffice.admin a client acts as OPERATIONS."""
    app = Principal(client_id="app", role=OPERATIONS, scopes=frozenset({READ, WRITE}))
    assert refused("/backoffice.v1.ClientService/ListClients", app).metadata["missing_scope"] == (
        ADMIN_SCOPE
    )


@pytest.mark.parametrize("method", WRITES, ids=short)
def test_an_auditor_calls_no_write(method: MethodDescriptor) -> None:
    if short(method) == "ReportService/CreateCustomReport":
        authz.authorize(path(method), AUDITOR_AL)  # a report is a read done later
        return
    error = refused(path(method), AUDITOR_AL)
    assert error.metadata["role"] == AUDITOR


def test_an_auditor_reads_everything_a_read_scope_opens() -> None:
    reads = [m for m in NON_OAUTH if authz.required_scopes(path(m)) == (READ,)]
    assert len(reads) >= 20
    for method in reads:
        authz.authorize(path(method), AUDITOR_AL)
    authz.authorize("/backoffice.v1.AuditService/ListAuditEvents", AUDITOR_AL)
    authz.authorize("/backoffice.v1.AuditService/VerifyAuditLog", AUDITOR_AL)


def test_staff_pass_the_gate_of_staff_only_rpcs() -> None:
    """Which staff job may freeze is the domain's rule (check_can_administer)."""
    for principal in (TELLER_TOM, OPS_OLGA, ADMIN_ADA):
        for name in STAFF_ONLY:
            authz.authorize(f"/backoffice.v1.{name}", principal)


# --- deposit methods ----------------------------------------------------------------


def test_customers_deposit_only_mobile_checks_in_production() -> None:
    check_deposit_method(ALICE, "MOBILE_CHECK", sandbox=False)
    for method in ("CASH", "CHECK", "WIRE", "DIRECT_DEPOSIT"):
        with pytest.raises(errors.Forbidden) as caught:
            check_deposit_method(ALICE, method, sandbox=False)
        assert caught.value.field == "method"
        assert caught.value.metadata["method"] == method


def test_sandbox_customers_and_staff_deposit_by_every_method() -> None:
    for method in ("CASH", "CHECK", "MOBILE_CHECK", "WIRE", "DIRECT_DEPOSIT"):
        check_deposit_method(ALICE, method, sandbox=True)
        for staff in (TELLER_TOM, OPS_OLGA, ADMIN_ADA, ADMIN_CLIENT):
            check_deposit_method(staff, method, sandbox=False)
