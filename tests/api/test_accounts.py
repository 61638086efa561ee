"""AccountService through the real server: REST via Envoy and gRPC, on both databases.

Every caller is INTERNAL (ADMIN) until authentication exists; the customer
and role checks are unit-tested in tests/domain/test_accounts.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import grpc
import pytest

from backoffice.v1 import account_pb2 as resource_pb
from backoffice.v1 import account_service_pb2 as pb
from backoffice.v1 import account_service_pb2_grpc as pb_grpc
from server.run import Stack
from server.store.bootstrap import internal_account_id
from server.store.sandbox import account_id as sandbox_account_id
from tests.common import envelope
from tests.common.accounts import (
    Db,
    add_entry,
    add_hold,
    fund,
    make_user,
    open_account,
    outbox_events,
    release_hold,
    server_now,
    set_pending_debits,
)
from tests.conftest import Rest

StatusCode = grpc.StatusCode


@pytest.fixture(scope="module")
def db(stack: Stack) -> Iterator[Db]:
    database = Db(stack)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def owner(db: Db) -> str:
    """A fresh ACTIVE customer with no accounts."""
    return make_user(db)[0]


@pytest.fixture(scope="module")
def stub(grpc_channel: grpc.Channel) -> pb_grpc.AccountServiceStub:
    return pb_grpc.AccountServiceStub(grpc_channel)


def _grpc_fails(call: Any, request: Any, code: StatusCode, reason: str) -> Any:
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=10)
    return envelope.grpc_error(caught.value, code, reason)


def _accounts_of(rest: Rest, owner_id: str, query: str = "") -> list[dict[str, Any]]:
    data = envelope.success(rest.get(f"/v1/accounts?ownerId={owner_id}&limit=100{query}"))
    return data["accounts"]  # type: ignore[no-any-return]


# --- CreateAccount ---------------------------------------------------------


def test_create_account_answers_201_with_the_new_account(rest: Rest, db: Db) -> None:
    owner_id, name = make_user(db)
    response = rest.post(
        "/v1/accounts",
        json={"type": "CHECKING", "ownerId": owner_id, "nickname": "Rent", "overdraftLimit": 250},
    )
    data = envelope.success(response, 201)
    assert response.json()["message"] == "Account created successfully"
    account = data["account"]
    assert account["id"].startswith("acc_")
    assert re.fullmatch(r"[1-8]\d{9}", account["accountNumber"]), account["accountNumber"]
    assert account["type"] == "CHECKING"
    assert account["status"] == "ACTIVE"
    assert account["currency"] == "USD"
    assert account["ownerId"] == owner_id
    assert account["holder"] == name
    assert account["nickname"] == "Rent"
    assert account["balance"] == 0
    # available = balance - held - pending debits + overdraft line.
    assert account["availableBalance"] == account["overdraftLimit"]
    assert account["heldAmount"] == 0
    assert account["pendingDebits"] == 0
    assert account["overdraftLimit"] == 250
    assert "freezeReason" not in account and "closeReason" not in account
    assert "frozenAt" not in account and "closedAt" not in account
    assert account["createdAt"].endswith("Z") and account["updatedAt"].endswith("Z")
    limits = account["limits"]
    assert limits["dailyAtmWithdrawal"] == {
        "limit": 1500,
        "used": 0,
        "remaining": 1500,
        "overridden": False,
        "defaultLimit": 1500,
    }
    assert limits["dailyTransfer"]["limit"] == 10_000
    assert limits["dailyBillPayment"]["limit"] == 5_000
    assert limits["monthlyTransfer"]["limit"] == 50_000
    assert limits["monthlyExternalTransfer"]["limit"] == 25_000
    assert limits["perTransactionInternalTransferMax"] == 10_000
    assert limits["perTransactionExternalTransferMax"] == 5_000
    assert limits["perTransactionAtmWithdrawalMax"] == 500
    assert limits["perTransactionMin"] == 0.01
    assert limits["perTransactionInternalTransferMaxOverridden"] is False
    # The new account reads back the same.
    again = envelope.success(rest.get(f"/v1/accounts/{account['id']}"))["account"]
    assert again["accountNumber"] == account["accountNumber"]


@pytest.mark.parametrize(
    ("type_", "currency", "expected_currency", "atm", "transfer", "monthly_external"),
    [
        ("SAVINGS", "EUR", "EUR", 1_000, 5_000, 10_000),
        ("BUSINESS", "gbp", "GBP", 5_000, 50_000, 250_000),
        ("CHECKING", "", "USD", 1_500, 10_000, 25_000),
    ],
)
def test_create_each_type_with_its_default_limits(
    rest: Rest,
    owner: str,
    *,
    type_: str,
    currency: str,
    expected_currency: str,
    atm: int,
    transfer: int,
    monthly_external: int,
) -> None:
    account = open_account(rest, owner, type_, currency=currency)
    assert account["type"] == type_
    assert account["currency"] == expected_currency
    assert account["limits"]["dailyAtmWithdrawal"]["limit"] == atm
    assert account["limits"]["dailyTransfer"]["limit"] == transfer
    assert account["limits"]["monthlyExternalTransfer"]["limit"] == monthly_external


def test_create_lowercase_type_and_seed_000_path(rest: Rest, owner: str) -> None:
    response = rest.post("/backoffice/v1/accounts", json={"type": "savings", "owner_id": owner})
    assert envelope.success(response, 201)["account"]["type"] == "SAVINGS"


def test_account_numbers_are_unique_and_never_internal(rest: Rest, owner: str) -> None:
    numbers = {open_account(rest, owner, "SAVINGS")["accountNumber"] for _ in range(12)}
    assert len(numbers) == 12
    assert all(re.fullmatch(r"[1-8]\d{9}", n) for n in numbers)


_OVERDRAFT = "overdraftLimit"  # REST error fields are JSON names
_CREATE_FAILURES = [
    # (body without ownerId, owner kind, status, code, field)
    ({}, "active", 422, "VALIDATION_ERROR", "type"),
    ({"type": "CHECKING", "currency": "XYZ"}, "active", 422, "VALIDATION_ERROR", "currency"),
    ({"type": "CHECKING", "currency": "US"}, "active", 422, "VALIDATION_ERROR", "currency"),
    ({"type": "CHECKING"}, "none", 422, "VALIDATION_ERROR", "ownerId"),
    ({"type": "CHECKING"}, "unknown", 404, "NOT_FOUND", "ownerId"),
    ({"type": "CHECKING"}, "inactive", 422, "VALIDATION_ERROR", "ownerId"),
    ({"type": "CHECKING"}, "locked", 422, "VALIDATION_ERROR", "ownerId"),
    ({"type": "CHECKING", "nickname": "n" * 51}, "active", 422, "VALIDATION_ERROR", "nickname"),
    ({"type": "SAVINGS", "overdraftLimit": 100}, "active", 422, "VALIDATION_ERROR", _OVERDRAFT),
    ({"type": "CHECKING", "overdraftLimit": 100000.01}, "active", 422, "TXN005", _OVERDRAFT),
    ({"type": "CHECKING", "overdraftLimit": 1.001}, "active", 422, "TXN005", _OVERDRAFT),
    ({"type": "CHECKING", "overdraftLimit": -5}, "active", 422, "TXN005", _OVERDRAFT),
]


@pytest.mark.parametrize(("body", "who", "status", "code", "field"), _CREATE_FAILURES)
def test_create_account_failures_write_nothing(
    rest: Rest,
    db: Db,
    *,
    body: dict[str, Any],
    who: str,
    status: int,
    code: str,
    field: str,
) -> None:
    owner_status = {"active": "ACTIVE", "inactive": "INACTIVE", "locked": "LOCKED"}
    owner_id = make_user(db, status=owner_status.get(who, "ACTIVE"))[0]
    request = dict(body)
    if who == "unknown":
        request["ownerId"] = "usr_doesnotexist000000"
    elif who != "none":
        request["ownerId"] = owner_id
    response = rest.post("/v1/accounts", json=request)
    envelope.error(response, status, code, field)
    assert _accounts_of(rest, owner_id) == []


def test_create_account_with_an_unknown_type_word_is_a_400(rest: Rest, owner: str) -> None:
    response = rest.post("/v1/accounts", json={"type": "GOLD", "ownerId": owner})
    envelope.error(response, 400, "INVALID_REQUEST")
    assert _accounts_of(rest, owner) == []


def test_create_account_failures_over_grpc(
    stub: pb_grpc.AccountServiceStub, db: Db, owner: str
) -> None:
    inactive = make_user(db, status="INACTIVE")[0]
    checking = resource_pb.AccountTypeEnum.CHECKING
    cases = [
        (pb.CreateAccountRequest(owner_id=owner), StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR"),
        (
            pb.CreateAccountRequest(type=99, owner_id=owner),  # type: ignore[arg-type]
            StatusCode.INVALID_ARGUMENT,
            "VALIDATION_ERROR",
        ),
        (
            pb.CreateAccountRequest(type=checking, owner_id=owner, currency="XYZ"),
            StatusCode.INVALID_ARGUMENT,
            "VALIDATION_ERROR",
        ),
        (
            pb.CreateAccountRequest(type=checking, owner_id="usr_nobody"),
            StatusCode.NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            pb.CreateAccountRequest(type=checking, owner_id=inactive),
            StatusCode.FAILED_PRECONDITION,
            "VALIDATION_ERROR",
        ),
        (
            pb.CreateAccountRequest(type=checking, owner_id=owner, overdraft_limit=float("nan")),
            StatusCode.INVALID_ARGUMENT,
            "TXN005",
        ),
    ]
    for request, code, reason in cases:
        _grpc_fails(stub.CreateAccount, request, code, reason)
    info = _grpc_fails(
        stub.CreateAccount,
        pb.CreateAccountRequest(type=checking, owner_id=owner, currency="XYZ"),
        StatusCode.INVALID_ARGUMENT,
        "VALIDATION_ERROR",
    )
    assert info.metadata["field"] == "currency"
    assert info.metadata["currency"] == "XYZ"


def test_create_and_read_over_grpc(stub: pb_grpc.AccountServiceStub, owner: str) -> None:
    created = stub.CreateAccount(
        pb.CreateAccountRequest(
            type=resource_pb.AccountTypeEnum.BUSINESS, owner_id=owner, nickname="Shop"
        ),
        timeout=10,
    ).account
    assert created.status == resource_pb.AccountStatusEnum.ACTIVE
    assert created.limits.daily_transfer.limit == 50_000
    read = stub.GetAccount(pb.GetAccountRequest(account_id=created.id), timeout=10).account
    assert read == created
    listed = stub.ListAccounts(pb.ListAccountsRequest(owner_id=owner), timeout=10)
    assert [a.id for a in listed.accounts] == [created.id]
    assert listed.pagination.total_count == 1


# --- GetAccount, not found, internal accounts --------------------------------


_MISSING_IDS = [
    "acc_missing0000000000",
    internal_account_id("CASH_VAULT", "USD"),
    internal_account_id("OPENING_EQUITY", "USD"),
    "not-an-id",
]


@pytest.mark.parametrize("account_id", _MISSING_IDS)
def test_unknown_and_internal_accounts_are_404_everywhere(rest: Rest, account_id: str) -> None:
    envelope.error(rest.get(f"/v1/accounts/{account_id}"), 404, "NOT_FOUND")
    envelope.error(rest.get(f"/backoffice/v1/accounts/{account_id}"), 404, "NOT_FOUND")
    envelope.error(rest.get(f"/v1/accounts/{account_id}/balance"), 404, "NOT_FOUND")
    envelope.error(rest.get(f"/v1/accounts/{account_id}/holds"), 404, "NOT_FOUND")
    envelope.error(rest.put(f"/v1/accounts/{account_id}", json={"nickname": "x"}), 404, "NOT_FOUND")
    envelope.error(rest.post(f"/v1/accounts/{account_id}/close", json={}), 404, "NOT_FOUND")
    body = {"reason": "test"}
    envelope.error(rest.post(f"/v1/accounts/{account_id}/freeze", json=body), 404, "NOT_FOUND")
    envelope.error(rest.post(f"/v1/accounts/{account_id}/unfreeze", json=body), 404, "NOT_FOUND")
    limits = {"dailyAtmWithdrawalLimit": 10, "reason": "test"}
    envelope.error(rest.put(f"/v1/accounts/{account_id}/limits", json=limits), 404, "NOT_FOUND")


def test_unknown_and_internal_accounts_are_not_found_over_grpc(
    stub: pb_grpc.AccountServiceStub,
) -> None:
    for account_id in _MISSING_IDS:
        _grpc_fails(
            stub.GetAccount,
            pb.GetAccountRequest(account_id=account_id),
            StatusCode.NOT_FOUND,
            "NOT_FOUND",
        )
        _grpc_fails(
            stub.CloseAccount,
            pb.CloseAccountRequest(account_id=account_id),
            StatusCode.NOT_FOUND,
            "NOT_FOUND",
        )


def test_internal_accounts_are_never_listed(rest: Rest) -> None:
    internal = {
        internal_account_id(code, "USD") for code in ("CASH_VAULT", "OPENING_EQUITY", "FEE_INCOME")
    }
    seen: list[dict[str, Any]] = []
    token = ""
    for _ in range(1000):
        data = envelope.success(rest.get(f"/v1/accounts?limit=100&pageToken={token}"))
        seen.extend(data["accounts"])
        token = data["pagination"].get("nextPageToken", "")
        if not token:
            break
    ids = {a["id"] for a in seen}
    assert sandbox_account_id("alice", "CHECKING") in ids
    assert not ids & internal
    assert not any(a["accountNumber"].startswith("9") for a in seen)
    assert {a["type"] for a in seen} <= {"SAVINGS", "CHECKING", "BUSINESS"}


def test_staff_read_the_full_account_number_of_sandbox_accounts(rest: Rest) -> None:
    account = envelope.success(rest.get(f"/v1/accounts/{sandbox_account_id('alice', 'CHECKING')}"))[
        "account"
    ]
    assert re.fullmatch(r"\d{10}", account["accountNumber"])
    assert account["holder"] == "Alice Anderson"
    assert account["overdraftLimit"] == 500
    # available_balance includes the overdraft line (account.proto).
    expected = (
        account["balance"]
        - account["heldAmount"]
        - account["pendingDebits"]
        + account["overdraftLimit"]
    )
    assert account["availableBalance"] == pytest.approx(expected)


# --- ListAccounts ------------------------------------------------------------


def test_list_filters(rest: Rest, db: Db, owner: str) -> None:
    checking = open_account(rest, owner, "CHECKING")
    savings = open_account(rest, owner, "SAVINGS", currency="EUR")
    business = open_account(rest, owner, "BUSINESS")
    rest.post(f"/v1/accounts/{business['id']}/freeze", json={"reason": "review"})

    def ids(query: str) -> set[str]:
        return {a["id"] for a in _accounts_of(rest, owner, query)}

    assert ids("") == {checking["id"], savings["id"], business["id"]}
    assert ids("&type=SAVINGS") == {savings["id"]}
    assert ids("&type=checking") == {checking["id"]}
    assert ids("&status=FROZEN") == {business["id"]}
    assert ids("&status=ACTIVE") == {checking["id"], savings["id"]}
    assert ids("&currency=EUR") == {savings["id"]}
    assert ids("&currency=usd&status=ACTIVE") == {checking["id"]}
    assert ids("&currency=JPY") == set()
    other = make_user(db)[0]
    assert _accounts_of(rest, other) == []
    # Seed 000's path works too.
    data = envelope.success(rest.get(f"/backoffice/v1/accounts?owner_id={owner}&type=SAVINGS"))
    assert [a["id"] for a in data["accounts"]] == [savings["id"]]


def test_list_default_order_is_newest_first(rest: Rest, owner: str) -> None:
    opened = [open_account(rest, owner, "SAVINGS")["id"] for _ in range(3)]
    assert [a["id"] for a in _accounts_of(rest, owner)] == opened[::-1]
    asc = _accounts_of(rest, owner, "&sort=created_at&order=asc")
    assert [a["id"] for a in asc] == opened


def test_list_pages_by_number_and_by_token_without_gaps_or_duplicates(
    rest: Rest, owner: str
) -> None:
    opened = [open_account(rest, owner, "SAVINGS")["id"] for _ in range(5)]
    expected = opened[::-1]
    by_page: list[str] = []
    for page in (1, 2, 3):
        response = rest.get(f"/v1/accounts?ownerId={owner}&page={page}&limit=2")
        data = envelope.success(response)
        pagination = data["pagination"]
        assert pagination["currentPage"] == page
        assert pagination["perPage"] == pagination["itemsPerPage"] == 2
        assert pagination["totalCount"] == pagination["totalItems"] == 5
        assert pagination["totalPages"] == 3
        assert pagination["hasNext"] is (page < 3)
        assert pagination["hasPrevious"] is (page > 1)
        # Seed 000 also reads the pagination at the top level.
        assert response.json()["pagination"]["totalCount"] == 5
        by_page.extend(a["id"] for a in data["accounts"])
    assert by_page == expected
    empty = envelope.success(rest.get(f"/v1/accounts?ownerId={owner}&page=4&limit=2"))
    assert empty["accounts"] == [] and empty["pagination"]["hasNext"] is False

    by_token: list[str] = []
    token = ""
    for _ in range(10):
        data = envelope.success(
            rest.get(f"/v1/accounts?ownerId={owner}&limit=2&page_token={token}")
        )
        by_token.extend(a["id"] for a in data["accounts"])
        token = data["pagination"].get("nextPageToken", "")
        if not token:
            assert data["pagination"]["hasNext"] is False
            break
    assert by_token == expected


def test_list_sorts_by_balance_both_ways_and_pages_through_ties(
    rest: Rest, db: Db, owner: str
) -> None:
    now = server_now(rest)
    amounts = [30_00, 10_00, 20_00, 0, 0]
    opened = []
    for amount in amounts:
        account = open_account(rest, owner, "CHECKING")
        if amount:
            fund(db, account["id"], amount, now)
        opened.append(account["id"])
    asc = _accounts_of(rest, owner, "&sort=balance&order=asc")
    assert [a["balance"] for a in asc] == [0, 0, 10, 20, 30]
    desc = _accounts_of(rest, owner, "&sortBy=balance&sortOrder=DESC")
    assert [a["balance"] for a in desc] == [30, 20, 10, 0, 0]
    seed_000 = _accounts_of(rest, owner, "&sort=balance&order=desc")
    assert [a["id"] for a in seed_000] == [a["id"] for a in desc]
    for query in ("&sort=balance&order=asc", "&sort_by=balance&sort_order=desc"):
        whole = [a["id"] for a in _accounts_of(rest, owner, query)]
        walked: list[str] = []
        token = ""
        for _ in range(10):
            data = envelope.success(
                rest.get(f"/v1/accounts?ownerId={owner}&limit=1&pageToken={token}{query}")
            )
            walked.extend(a["id"] for a in data["accounts"])
            token = data["pagination"].get("nextPageToken", "")
            if not token:
                break
        assert walked == whole
        assert sorted(walked) == sorted(opened)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=balance&sortBy=created_at", "sortBy"),
        ("sort=name", "sortBy"),
        ("order=up", "sortOrder"),
        ("order=asc&sortOrder=desc", "sortOrder"),
        ("status=OPEN", None),
        ("currency=DOLLARS", "currency"),
        ("page=101&limit=100", "page"),
        ("page=-1", "page"),
        ("limit=-5", "limit"),
        ("pageToken=not-a-token", "pageToken"),
    ],
)
def test_list_refuses_bad_parameters(rest: Rest, query: str, field: str | None) -> None:
    response = rest.get(f"/v1/accounts?{query}")
    if field is None:  # an unknown enum word never reaches the server
        envelope.error(response, 400, "INVALID_REQUEST")
    else:
        envelope.error(response, 422, "VALIDATION_ERROR", field)


def test_list_page_token_is_bound_to_its_query(rest: Rest, owner: str) -> None:
    for _ in range(3):
        open_account(rest, owner, "SAVINGS")
    data = envelope.success(rest.get(f"/v1/accounts?ownerId={owner}&limit=1"))
    token = data["pagination"].get("nextPageToken", "")
    assert token
    response = rest.get(f"/v1/accounts?ownerId={owner}&limit=1&sort=balance&pageToken={token}")
    envelope.error(response, 422, "VALIDATION_ERROR", "pageToken")
    response = rest.get(f"/v1/accounts?ownerId={owner}&type=SAVINGS&pageToken={token}")
    envelope.error(response, 422, "VALIDATION_ERROR", "pageToken")


def test_list_page_size_defaults_and_maximum(rest: Rest, owner: str) -> None:
    open_account(rest, owner, "SAVINGS")
    data = envelope.success(rest.get(f"/v1/accounts?ownerId={owner}"))
    assert data["pagination"]["perPage"] == 20
    data = envelope.success(rest.get(f"/v1/accounts?ownerId={owner}&limit=500"))
    assert data["pagination"]["perPage"] == 100


def test_list_errors_over_grpc(stub: pb_grpc.AccountServiceStub) -> None:
    info = _grpc_fails(
        stub.ListAccounts,
        pb.ListAccountsRequest(sort="balance", sort_by="created_at"),
        StatusCode.INVALID_ARGUMENT,
        "VALIDATION_ERROR",
    )
    assert info.metadata["field"] == "sort_by"
    info = _grpc_fails(
        stub.ListAccounts,
        pb.ListAccountsRequest(status=42),  # type: ignore[arg-type]
        StatusCode.INVALID_ARGUMENT,
        "VALIDATION_ERROR",
    )
    assert info.metadata["field"] == "status"


# --- UpdateAccount ------------------------------------------------------------


def test_update_nickname_and_overdraft(rest: Rest, db: Db, owner: str) -> None:
    account = open_account(rest, owner, "CHECKING", nickname="Old")
    path = f"/v1/accounts/{account['id']}"
    updated = envelope.success(rest.put(path, json={"nickname": "New"}))["account"]
    assert updated["nickname"] == "New"
    assert updated["overdraftLimit"] == 0
    patched = envelope.success(rest.patch(path, json={"overdraftLimit": 1200.5}))["account"]
    assert patched["nickname"] == "New"  # absent: unchanged
    assert patched["overdraftLimit"] == 1200.5
    cleared = envelope.success(rest.put(f"/backoffice{path}", json={"nickname": ""}))["account"]
    assert "nickname" not in cleared
    assert cleared["overdraftLimit"] == 1200.5
    assert [kind for kind, _ in outbox_events(db, account["id"])] == [
        "account.created",
        "account.updated",
        "account.updated",
        "account.updated",
    ]


def test_overdraft_may_drop_below_what_is_overdrawn(rest: Rest, db: Db, owner: str) -> None:
    account = open_account(rest, owner, "CHECKING", overdraftLimit=100)
    fund(db, account["id"], -50_00, server_now(rest))
    path = f"/v1/accounts/{account['id']}"
    updated = envelope.success(rest.put(path, json={"overdraftLimit": 10}))["account"]
    assert updated["balance"] == -50
    assert updated["overdraftLimit"] == 10
    fund(db, account["id"], 50_00, server_now(rest))


@pytest.mark.parametrize(
    ("type_", "body", "code", "field"),
    [
        ("CHECKING", {"nickname": "x" * 51}, "VALIDATION_ERROR", "nickname"),
        ("SAVINGS", {"overdraftLimit": 10}, "VALIDATION_ERROR", "overdraftLimit"),
        ("CHECKING", {"overdraftLimit": 100_000.01}, "TXN005", "overdraftLimit"),
        ("CHECKING", {"overdraftLimit": 0.005}, "TXN005", "overdraftLimit"),
        ("CHECKING", {"overdraftLimit": -1}, "TXN005", "overdraftLimit"),
    ],
)
def test_update_refuses_bad_values_and_changes_nothing(
    rest: Rest, owner: str, *, type_: str, body: dict[str, Any], code: str, field: str
) -> None:
    account = open_account(rest, owner, type_, nickname="Keep")
    path = f"/v1/accounts/{account['id']}"
    envelope.error(rest.put(path, json=body), 422, code, field)
    after = envelope.success(rest.get(path))["account"]
    assert after["nickname"] == "Keep"
    assert after["overdraftLimit"] == 0
    assert after["updatedAt"] == account["updatedAt"]


def test_update_of_a_closed_account_is_a_conflict(
    rest: Rest, stub: pb_grpc.AccountServiceStub, owner: str
) -> None:
    account = open_account(rest, owner, "CHECKING")
    envelope.success(rest.post(f"/v1/accounts/{account['id']}/close", json={}))
    envelope.error(
        rest.put(f"/v1/accounts/{account['id']}", json={"nickname": "x"}), 409, "CONFLICT"
    )
    _grpc_fails(
        stub.UpdateAccount,
        pb.UpdateAccountRequest(account_id=account["id"], nickname="x"),
        StatusCode.FAILED_PRECONDITION,
        "CONFLICT",
    )


# --- Freeze, unfreeze, close ------------------------------------------------


def test_freeze_unfreeze_state_machine(
    rest: Rest, stub: pb_grpc.AccountServiceStub, db: Db, owner: str
) -> None:
    account = open_account(rest, owner, "CHECKING")
    base = f"/v1/accounts/{account['id']}"
    envelope.error(rest.post(f"{base}/freeze", json={}), 422, "VALIDATION_ERROR", "reason")
    envelope.error(
        rest.post(f"{base}/freeze", json={"reason": "r" * 501}), 422, "VALIDATION_ERROR", "reason"
    )
    assert envelope.success(rest.get(base))["account"]["status"] == "ACTIVE"

    response = rest.post(f"{base}/freeze", json={"reason": "Fraud review"})
    frozen = envelope.success(response)["account"]
    assert response.json()["message"] == "Account frozen successfully"
    assert frozen["status"] == "FROZEN"
    assert frozen["freezeReason"] == "Fraud review"
    assert frozen["frozenAt"].endswith("Z")
    # Freezing a FROZEN account answers it unchanged.
    again = envelope.success(rest.post(f"{base}/freeze", json={"reason": "Other"}))["account"]
    assert again == frozen

    envelope.error(rest.post(f"{base}/unfreeze", json={}), 422, "VALIDATION_ERROR", "reason")
    active = envelope.success(rest.post(f"{base}/unfreeze", json={"reason": "Cleared"}))["account"]
    assert active["status"] == "ACTIVE"
    assert "freezeReason" not in active
    assert "frozenAt" not in active
    assert (
        envelope.success(rest.post(f"{base}/unfreeze", json={"reason": "x"}))["account"] == active
    )

    envelope.success(rest.post(f"{base}/freeze", json={"reason": "Before closing"}))
    closed = envelope.success(rest.post(f"{base}/close", json={"reason": "Customer left"}))
    assert closed["account"]["status"] == "CLOSED"
    assert "freezeReason" not in closed["account"]
    for action in ("freeze", "unfreeze"):
        envelope.error(rest.post(f"{base}/{action}", json={"reason": "x"}), 409, "CONFLICT")
    _grpc_fails(
        stub.FreezeAccount,
        pb.FreezeAccountRequest(account_id=account["id"], reason="x"),
        StatusCode.FAILED_PRECONDITION,
        "CONFLICT",
    )
    _grpc_fails(
        stub.UnfreezeAccount,
        pb.UnfreezeAccountRequest(account_id=account["id"], reason="x"),
        StatusCode.FAILED_PRECONDITION,
        "CONFLICT",
    )
    _grpc_fails(
        stub.FreezeAccount,
        pb.FreezeAccountRequest(account_id=account["id"]),
        StatusCode.INVALID_ARGUMENT,
        "VALIDATION_ERROR",
    )
    events = outbox_events(db, account["id"])
    assert [kind for kind, _ in events] == [
        "account.created",
        "account.updated",
        "account.updated",
        "account.updated",
        "account.closed",
    ]
    assert json.loads(events[1][1])["data"]["status"] == "FROZEN"


def test_close_an_empty_account(rest: Rest, db: Db, owner: str) -> None:
    account = open_account(rest, owner, "SAVINGS")
    response = rest.post(f"/v1/accounts/{account['id']}/close", json={"reason": "Moving abroad"})
    closed = envelope.success(response)["account"]
    assert response.json()["message"] == "Account closed successfully"
    assert closed["status"] == "CLOSED"
    assert closed["closeReason"] == "Moving abroad"
    assert closed["closedAt"].endswith("Z")
    # Closing again answers it unchanged; the account stays readable and listed.
    again = envelope.success(rest.post(f"/v1/accounts/{account['id']}/close", json={}))
    assert again["account"] == closed
    assert envelope.success(rest.get(f"/v1/accounts/{account['id']}"))["account"] == closed
    assert [a["id"] for a in _accounts_of(rest, owner, "&status=CLOSED")] == [account["id"]]
    events = outbox_events(db, account["id"])
    assert [kind for kind, _ in events] == ["account.created", "account.closed"]
    created = json.loads(events[0][1])["data"]
    assert created["account_number"] == "****" + account["accountNumber"][-4:]
    assert created["customer_id"] == owner
    assert json.loads(events[1][1])["data"]["close_reason"] == "Moving abroad"


def test_close_is_refused_while_money_remains(
    rest: Rest, stub: pb_grpc.AccountServiceStub, db: Db, owner: str
) -> None:
    account = open_account(rest, owner, "CHECKING", overdraftLimit=100)
    fund(db, account["id"], 25_00, server_now(rest))
    error = envelope.error(
        rest.post(f"/v1/accounts/{account['id']}/close", json={}), 409, "CONFLICT"
    )
    assert "25.00" in error["message"]
    info = _grpc_fails(
        stub.CloseAccount,
        pb.CloseAccountRequest(account_id=account["id"]),
        StatusCode.FAILED_PRECONDITION,
        "CONFLICT",
    )
    assert info.metadata["balance"] == "25.00"
    assert info.metadata["currency"] == "USD"
    # Overdrawn is not empty either.
    fund(db, account["id"], -75_00, server_now(rest))
    info = _grpc_fails(
        stub.CloseAccount,
        pb.CloseAccountRequest(account_id=account["id"]),
        StatusCode.FAILED_PRECONDITION,
        "CONFLICT",
    )
    assert info.metadata["balance"] == "-50.00"
    after = envelope.success(rest.get(f"/v1/accounts/{account['id']}"))["account"]
    assert after["status"] == "ACTIVE" and "closedAt" not in after
    assert [kind for kind, _ in outbox_events(db, account["id"])] == ["account.created"]
    # Once the money is out, it closes.
    fund(db, account["id"], 50_00, server_now(rest))
    closed = envelope.success(rest.post(f"/v1/accounts/{account['id']}/close", json={}))
    assert closed["account"]["status"] == "CLOSED"


def test_close_is_refused_while_a_hold_is_pending(rest: Rest, db: Db, owner: str) -> None:
    account = open_account(rest, owner, "SAVINGS")
    now = server_now(rest)
    fund(db, account["id"], 40_00, now)
    hold_id = add_hold(db, account["id"], 40_00, now)
    fund(db, account["id"], -40_00, now)  # balance 0, the hold remains
    envelope.error(rest.post(f"/v1/accounts/{account['id']}/close", json={}), 409, "CONFLICT")
    release_hold(db, hold_id, now)
    closed = envelope.success(rest.post(f"/v1/accounts/{account['id']}/close", json={}))
    assert closed["account"]["status"] == "CLOSED"


def test_close_is_refused_while_debits_are_pending(rest: Rest, db: Db, owner: str) -> None:
    account = open_account(rest, owner, "CHECKING")
    set_pending_debits(db, account["id"], 5_00)
    envelope.error(rest.post(f"/v1/accounts/{account['id']}/close", json={}), 409, "CONFLICT")
    set_pending_debits(db, account["id"], 0)
    add_entry(
        db,
        account["id"],
        amount_minor=1_00,
        limit_class="",
        at=server_now(rest),
        status="PENDING",
        direction="CREDIT",
    )
    envelope.error(rest.post(f"/v1/accounts/{account['id']}/close", json={}), 409, "CONFLICT")
    assert envelope.success(rest.get(f"/v1/accounts/{account['id']}"))["account"]["status"] == (
        "ACTIVE"
    )


def test_close_reason_is_limited(rest: Rest, owner: str) -> None:
    account = open_account(rest, owner, "CHECKING")
    response = rest.post(f"/v1/accounts/{account['id']}/close", json={"reason": "x" * 501})
    envelope.error(response, 422, "VALIDATION_ERROR", "reason")


# --- Balance and holds -------------------------------------------------------


def test_balance_figures(rest: Rest, db: Db, owner: str) -> None:
    account = open_account(rest, owner, "CHECKING", overdraftLimit=50)
    now = server_now(rest)
    fund(db, account["id"], 100_00, now)
    add_hold(db, account["id"], 30_00, now)
    set_pending_debits(db, account["id"], 10_00)
    add_entry(
        db,
        account["id"],
        amount_minor=5_00,
        limit_class="",
        at=now,
        status="PENDING",
        direction="CREDIT",
    )
    response = rest.get(f"/v1/accounts/{account['id']}/balance")
    balance = envelope.success(response)["balance"]
    assert balance["accountId"] == account["id"]
    assert balance["currency"] == "USD"
    assert balance["balance"] == 100
    assert balance["heldAmount"] == 30
    assert balance["pendingDebits"] == 10
    assert balance["availableBalance"] == 110  # 100 - 30 held - 10 pending + 50 overdraft
    assert balance["pendingCredits"] == 5
    assert balance["overdraftLimit"] == 50
    assert balance["spendableAmount"] == 110
    assert balance["asOf"].endswith("Z")
    read = envelope.success(rest.get(f"/v1/accounts/{account['id']}"))["account"]
    assert read["availableBalance"] == 110
    assert read["heldAmount"] == 30
    set_pending_debits(db, account["id"], 0)


def test_holds_newest_first_with_filter_and_paging(
    rest: Rest, stub: pb_grpc.AccountServiceStub, db: Db, owner: str
) -> None:
    account = open_account(rest, owner, "SAVINGS")
    now = server_now(rest)
    first = add_hold(db, account["id"], 1_00, now - timedelta(minutes=3))
    second = add_hold(db, account["id"], 2_00, now - timedelta(minutes=2), status="RELEASED")
    third = add_hold(db, account["id"], 3_00, now - timedelta(minutes=1), reason="LEGAL_ORDER")
    base = f"/v1/accounts/{account['id']}/holds"
    data = envelope.success(rest.get(base))
    assert [h["id"] for h in data["holds"]] == [third, second, first]
    assert data["pagination"]["totalCount"] == 3
    hold = data["holds"][0]
    assert hold["accountId"] == account["id"]
    assert hold["amount"] == 3
    assert hold["currency"] == "USD"
    assert hold["reason"] == "LEGAL_ORDER"
    assert hold["status"] == "PENDING"
    assert hold["description"] == "Check #1042"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", hold["releaseDate"])
    assert "resolvedAt" not in hold
    assert data["holds"][1]["resolvedAt"].endswith("Z")
    pending = envelope.success(rest.get(f"{base}?status=PENDING"))["holds"]
    assert [h["id"] for h in pending] == [third, first]
    walked: list[str] = []
    token = ""
    for _ in range(5):
        page = envelope.success(rest.get(f"{base}?limit=1&pageToken={token}"))
        walked.extend(h["id"] for h in page["holds"])
        token = page["pagination"].get("nextPageToken", "")
        if not token:
            break
    assert walked == [third, second, first]
    page2 = envelope.success(rest.get(f"{base}?limit=2&page=2"))["holds"]
    assert [h["id"] for h in page2] == [first]
    reply = stub.ListAccountHolds(
        pb.ListAccountHoldsRequest(
            account_id=account["id"], status=resource_pb.AccountHoldStatusEnum.RELEASED
        ),
        timeout=10,
    )
    assert [h.id for h in reply.holds] == [second]
    envelope.error(rest.get(f"{base}?pageToken=garbage"), 422, "VALIDATION_ERROR", "pageToken")


# --- Limits ------------------------------------------------------------------


def test_limits_show_todays_and_this_months_use(rest: Rest, db: Db, owner: str) -> None:
    account = open_account(rest, owner, "CHECKING")
    now = server_now(rest)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)

    def entry(amount: int, limit_class: str, at: datetime, **kw: Any) -> None:
        add_entry(db, account["id"], amount_minor=amount, limit_class=limit_class, at=at, **kw)

    entry(100_00, "ATM", now)
    entry(200_00, "TRANSFER", now)
    entry(300_00, "EXTERNAL_TRANSFER", now, status="PENDING")
    entry(40_00, "BILL_PAYMENT", now)
    entry(999_00, "BILL_PAYMENT", now, status="FAILED")
    entry(999_00, "ATM", now, status="CANCELLED")
    entry(999_00, "TRANSFER", now, direction="CREDIT")
    entry(999_00, "TRANSFER", month_start - timedelta(seconds=1))  # last month
    earlier_this_month = 0
    if day_start > month_start:
        earlier_this_month = 400_00
        entry(earlier_this_month, "TRANSFER", month_start + timedelta(seconds=1))
    limits = envelope.success(rest.get(f"/v1/accounts/{account['id']}"))["account"]["limits"]
    assert limits["dailyAtmWithdrawal"]["used"] == 100
    assert limits["dailyAtmWithdrawal"]["remaining"] == 1400
    assert limits["dailyTransfer"]["used"] == 500
    assert limits["dailyTransfer"]["remaining"] == 9500
    assert limits["dailyBillPayment"]["used"] == 40
    assert limits["monthlyTransfer"]["used"] == (500_00 + earlier_this_month) / 100
    assert limits["monthlyExternalTransfer"]["used"] == 300
    next_midnight = day_start + timedelta(days=1)
    assert limits["dailyResetAt"] == next_midnight.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert limits["monthlyResetAt"].endswith("-01T00:00:00Z")


def test_limit_overrides_and_reset(
    rest: Rest, stub: pb_grpc.AccountServiceStub, db: Db, owner: str
) -> None:
    account = open_account(rest, owner, "SAVINGS")
    path = f"/v1/accounts/{account['id']}/limits"
    response = rest.put(
        path,
        json={
            "dailyAtmWithdrawalLimit": 2500,
            "daily_transfer_limit": 8000,
            "perTransactionInternalTransferMax": 7500.5,
            "monthlyExternalTransferLimit": 0,
            "reason": "Customer request",
        },
    )
    limits = envelope.success(response)["limits"]
    assert response.json()["message"] == "Account limits updated successfully"
    assert limits["dailyAtmWithdrawal"] == {
        "limit": 2500,
        "used": 0,
        "remaining": 2500,
        "overridden": True,
        "defaultLimit": 1000,
    }
    assert limits["dailyTransfer"]["limit"] == 8000
    assert limits["monthlyExternalTransfer"]["limit"] == 0
    assert limits["monthlyExternalTransfer"]["overridden"] is True
    assert limits["dailyBillPayment"]["overridden"] is False
    assert limits["perTransactionInternalTransferMax"] == 7500.5
    assert limits["perTransactionInternalTransferMaxOverridden"] is True
    read = envelope.success(rest.get(f"/v1/accounts/{account['id']}"))["account"]["limits"]
    assert read == limits

    reply = stub.UpdateAccountLimits(
        pb.UpdateAccountLimitsRequest(
            account_id=account["id"],
            reset_to_default=[
                resource_pb.AccountLimitKindEnum.DAILY_ATM_WITHDRAWAL,
                resource_pb.AccountLimitKindEnum.PER_TRANSACTION_INTERNAL_TRANSFER_MAX,
            ],
            reason="Back to normal",
        ),
        timeout=10,
    )
    assert reply.limits.daily_atm_withdrawal.limit == 1000
    assert not reply.limits.daily_atm_withdrawal.overridden
    assert reply.limits.per_transaction_internal_transfer_max == 10_000
    assert not reply.limits.per_transaction_internal_transfer_max_overridden
    assert reply.limits.daily_transfer.limit == 8000  # untouched
    body = {"resetToDefault": ["DAILY_TRANSFER", "monthly_external_transfer"], "reason": "x"}
    limits = envelope.success(rest.put(path, json=body))["limits"]
    assert limits["dailyTransfer"] == {
        "limit": 5000,
        "used": 0,
        "remaining": 5000,
        "overridden": False,
        "defaultLimit": 5000,
    }
    assert limits["monthlyExternalTransfer"]["limit"] == 10_000
    kinds = [kind for kind, _ in outbox_events(db, account["id"])]
    assert kinds == ["account.created"] + ["account.updated"] * 3


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"dailyAtmWithdrawalLimit": 10}, 422, "VALIDATION_ERROR", "reason"),
        ({"reason": "nothing to do"}, 422, "VALIDATION_ERROR", None),
        (
            {"dailyAtmWithdrawalLimit": -1, "reason": "x"},
            422,
            "TXN005",
            "dailyAtmWithdrawalLimit",
        ),
        ({"dailyTransferLimit": 10.001, "reason": "x"}, 422, "TXN005", "dailyTransferLimit"),
        ({"monthlyTransferLimit": 10_000_000.01, "reason": "x"}, 422, "TXN005", None),
        (
            {"monthlyExternalTransferLimit": 20_000.01, "reason": "x"},
            422,
            "VALIDATION_ERROR",
            "monthlyExternalTransferLimit",
        ),
        (
            {"perTransactionInternalTransferMax": 6000, "reason": "x"},
            422,
            "VALIDATION_ERROR",
            "perTransactionInternalTransferMax",
        ),
        (
            {
                "dailyAtmWithdrawalLimit": 10,
                "resetToDefault": ["DAILY_ATM_WITHDRAWAL"],
                "reason": "x",
            },
            422,
            "VALIDATION_ERROR",
            "dailyAtmWithdrawalLimit",
        ),
        (
            {"resetToDefault": ["DAILY_TRANSFER", "DAILY_TRANSFER"], "reason": "x"},
            422,
            "VALIDATION_ERROR",
            "resetToDefault",
        ),
        (
            {"resetToDefault": ["ACCOUNT_LIMIT_KIND_UNSPECIFIED"], "reason": "x"},
            422,
            "VALIDATION_ERROR",
            "resetToDefault",
        ),
        ({"resetToDefault": ["WEEKLY"], "reason": "x"}, 400, "INVALID_REQUEST", None),
    ],
)
def test_limit_updates_refuse_bad_input_and_change_nothing(
    rest: Rest, owner: str, *, body: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    account = open_account(rest, owner, "SAVINGS")
    response = rest.put(f"/v1/accounts/{account['id']}/limits", json=body)
    envelope.error(response, status, code, field)
    after = envelope.success(rest.get(f"/v1/accounts/{account['id']}"))["account"]
    assert after["limits"] == account["limits"]


def test_limits_of_a_closed_account_cannot_change(
    rest: Rest, stub: pb_grpc.AccountServiceStub, owner: str
) -> None:
    account = open_account(rest, owner, "CHECKING")
    envelope.success(rest.post(f"/v1/accounts/{account['id']}/close", json={}))
    body = {"dailyAtmWithdrawalLimit": 10, "reason": "x"}
    envelope.error(rest.put(f"/v1/accounts/{account['id']}/limits", json=body), 409, "CONFLICT")
    _grpc_fails(
        stub.UpdateAccountLimits,
        pb.UpdateAccountLimitsRequest(
            account_id=account["id"], daily_atm_withdrawal_limit=10, reason="x"
        ),
        StatusCode.FAILED_PRECONDITION,
        "CONFLICT",
    )


# --- Concurrency ---------------------------------------------------------------


def test_concurrent_opens_get_distinct_numbers(rest: Rest, owner: str) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(
                lambda _: rest.post("/v1/accounts", json={"type": "SAVINGS", "ownerId": owner}),
                range(16),
            )
        )
    accounts = [envelope.success(r, 201)["account"] for r in responses]
    assert len({a["accountNumber"] for a in accounts}) == 16
    assert len(_accounts_of(rest, owner)) == 16


def test_concurrent_freezes_change_the_account_once(rest: Rest, db: Db, owner: str) -> None:
    account = open_account(rest, owner, "CHECKING")
    path = f"/v1/accounts/{account['id']}/freeze"
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda i: rest.post(path, json={"reason": f"r{i}"}), range(8)))
    frozen = [envelope.success(r)["account"] for r in responses]
    assert {a["status"] for a in frozen} == {"FROZEN"}
    assert len({a["frozenAt"] for a in frozen}) == 1
    assert [kind for kind, _ in outbox_events(db, account["id"])] == [
        "account.created",
        "account.updated",
    ]
