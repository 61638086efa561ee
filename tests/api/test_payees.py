"""PayeeService through the real server: REST via Envoy and gRPC, on both databases.

Each test's customers are fresh, so their lists hold only what the test made
(and the sandbox's two bank-wide billers).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest

from backoffice.v1 import payee_pb2 as resource_pb
from backoffice.v1 import payee_service_pb2 as pb
from backoffice.v1 import payee_service_pb2_grpc as pb_grpc
from server.run import Stack
from server.store.sandbox import payee_id as sandbox_payee_id
from tests.common import audit, envelope
from tests.common.accounts import Db
from tests.common.principals import (
    CUSTOMER_SCOPES,
    STAFF_SCOPES,
    Caller,
    create_user,
    user_caller,
)
from tests.conftest import Rest

StatusCode = grpc.StatusCode
ELECTRIC, WATER = "City Electric Company", "Metro Water Utility"
BILLERS = {sandbox_payee_id("elec"): ELECTRIC, sandbox_payee_id("water"): WATER}


@pytest.fixture(scope="module")
def db(stack: Stack) -> Iterator[Db]:
    database = Db(stack)
    try:
        yield database
    finally:
        database.close()


def _customer(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Caller:
    user_id = create_user(rest, "CUSTOMER", "Payee Tester")
    return user_caller(stack, raw_channel, "customer", user_id, CUSTOMER_SCOPES)


@pytest.fixture
def alice(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Caller]:
    who = _customer(stack, raw_channel, rest)
    yield who
    who.close()


@pytest.fixture
def bob(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Caller]:
    who = _customer(stack, raw_channel, rest)
    yield who
    who.close()


def _body(**overrides: Any) -> dict[str, Any]:
    body = {"name": "Acme Phone", "type": "UTILITY", "accountNumber": "AC-1234-7890"}
    return {**body, **overrides}


def _create(rest: Rest, **overrides: Any) -> dict[str, Any]:
    data = envelope.success(rest.post("/v1/payees", json=_body(**overrides)), 201)
    return data["payee"]  # type: ignore[no-any-return]


def _names(rest: Rest, query: str = "") -> list[str]:
    data = envelope.success(rest.get(f"/v1/payees?limit=100{query}"))
    return [payee["name"] for payee in data["payees"]]


def _stub(caller: Caller | grpc.Channel) -> pb_grpc.PayeeServiceStub:
    return pb_grpc.PayeeServiceStub(caller.channel if isinstance(caller, Caller) else caller)


def _grpc_fails(method: Any, request: Any, code: StatusCode, reason: str) -> Any:
    with pytest.raises(grpc.RpcError) as caught:
        method(request, timeout=30)
    return envelope.grpc_error(caught.value, code, reason)


# --- CreatePayee ----------------------------------------------------------------------------


def test_create_answers_201_with_the_number_masked_and_sealed(alice: Caller, db: Db) -> None:
    address = {"line1": "1 Main St", "city": "Springfield", "country": "us"}
    response = alice.rest.post(
        "/v1/payees",
        json=_body(category=" Phone ", nickname="Home line", address=address),
    )
    payee = envelope.success(response, 201)["payee"]
    assert response.json()["message"] == "Payee created successfully"
    assert payee["id"].startswith("payee_") and payee["ownerId"] == alice.user_id
    assert (payee["name"], payee["type"]) == ("Acme Phone", "UTILITY")
    assert payee["accountNumber"] == "****7890"
    assert (payee["category"], payee["nickname"]) == ("phone", "Home line")
    assert payee["address"] == {"line1": "1 Main St", "city": "Springfield", "country": "US"}
    assert payee["createdAt"].endswith("Z")
    assert envelope.success(alice.rest.get(f"/v1/payees/{payee['id']}"))["payee"] == payee
    stored, last4 = db.execute(
        "SELECT account_number, account_number_last4 FROM payees WHERE id = ?", (payee["id"],)
    )[0]
    assert stored.startswith("enc:v1:") and "AC12347890" not in stored and last4 == "7890"


def test_snake_case_input_and_optional_fields_left_out(alice: Caller) -> None:
    body = {"name": "Gas Co", "type": "UTILITY", "account_number": "g 55 66"}
    payee = envelope.success(alice.rest.post("/v1/payees", json=body), 201)["payee"]
    assert payee["accountNumber"] == "****5566"
    assert not {"category", "nickname", "address"} & set(payee)


def test_create_over_grpc(alice: Caller, grpc_channel: grpc.Channel) -> None:
    request = pb.CreatePayeeRequest(
        name="Card Co",
        type=resource_pb.PayeeTypeEnum.CREDIT_CARD,
        account_number="4000123412341234",
    )
    payee = _stub(alice).CreatePayee(request, timeout=30).payee
    assert (payee.owner_id, payee.account_number) == (alice.user_id, "****1234")
    assert not payee.HasField("category") and not payee.HasField("nickname")
    # Staff name the owner; without one the request is incomplete.
    info = _grpc_fails(
        _stub(grpc_channel).CreatePayee, request, StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR"
    )
    assert info.metadata["field"] == "owner_id"
    request.owner_id, request.name = alice.user_id or "", "Card Co 2"
    assert _stub(grpc_channel).CreatePayee(request, timeout=30).payee.owner_id == alice.user_id


def test_staff_must_name_an_active_customer(rest: Rest, alice: Caller) -> None:
    envelope.error(rest.post("/v1/payees", json=_body()), 422, "VALIDATION_ERROR", "ownerId")
    unknown = _body(ownerId="usr_nobody000000000000")
    envelope.error(rest.post("/v1/payees", json=unknown), 404, "NOT_FOUND", "ownerId")
    staff = create_user(rest, "TELLER")
    envelope.error(
        rest.post("/v1/payees", json=_body(ownerId=staff)), 422, "VALIDATION_ERROR", "ownerId"
    )
    payee = _create(rest, ownerId=alice.user_id)
    assert payee["ownerId"] == alice.user_id
    assert "Acme Phone" in _names(alice.rest)


def test_a_customer_adds_payees_for_themselves_only(alice: Caller, bob: Caller) -> None:
    response = alice.rest.post("/v1/payees", json=_body(ownerId=bob.user_id))
    envelope.error(response, 403, "FORBIDDEN")
    assert _create(alice.rest, ownerId=alice.user_id)["ownerId"] == alice.user_id
    assert _names(bob.rest) == [ELECTRIC, WATER]


def test_duplicates_are_409_ignoring_case_and_separators(alice: Caller) -> None:
    first = _create(alice.rest)
    again = alice.rest.post("/v1/payees", json=_body(name="ACME phone", accountNumber="ac12347890"))
    envelope.error(again, 409, "CONFLICT")
    request = pb.CreatePayeeRequest(
        name="acme PHONE", type=resource_pb.PayeeTypeEnum.UTILITY, account_number="AC 1234 7890"
    )
    info = _grpc_fails(_stub(alice).CreatePayee, request, StatusCode.ALREADY_EXISTS, "CONFLICT")
    assert info.metadata["payee_id"] == first["id"]
    # Another number, or another name, is another payee; so is one made after a delete.
    _create(alice.rest, accountNumber="AC12340000")
    _create(alice.rest, name="Acme Mobile")
    envelope.success(alice.rest.delete(f"/v1/payees/{first['id']}"))
    assert _create(alice.rest)["id"] != first["id"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"type": None}, "type"),
        ({"type": "PAYEE_TYPE_UNSPECIFIED"}, "type"),
        ({"accountNumber": ""}, "accountNumber"),
        ({"accountNumber": "12/34"}, "accountNumber"),
        ({"accountNumber": "9" * 35}, "accountNumber"),
        ({"category": "c" * 51}, "category"),
        ({"nickname": "k" * 51}, "nickname"),
        ({"address": {"line1": "1 Main St", "city": "X", "country": "USA"}}, "address.country"),
        ({"address": {"city": "X", "country": "US"}}, "address.line1"),
    ],
)
def test_invalid_fields_are_422_naming_them(
    alice: Caller, overrides: dict[str, Any], field: str
) -> None:
    body = {key: value for key, value in _body(**overrides).items() if value is not None}
    envelope.error(alice.rest.post("/v1/payees", json=body), 422, "VALIDATION_ERROR", field)
    assert _names(alice.rest) == [ELECTRIC, WATER]


def test_limits_are_inclusive(alice: Caller) -> None:
    payee = _create(alice.rest, name="n" * 100, accountNumber="9" * 34, nickname="k" * 50)
    assert payee["accountNumber"] == "****9999" and len(payee["name"]) == 100


def test_unknown_and_output_only_fields_are_400(alice: Caller) -> None:
    for extra in (
        {"acountNumber": "1"},
        {"id": "payee_mine"},
        {"createdAt": "2025-01-01T00:00:00Z"},
    ):
        response = alice.rest.post("/v1/payees", json={**_body(), **extra})
        envelope.error(response, 400, "INVALID_REQUEST", field=next(iter(extra)))
    assert _names(alice.rest) == [ELECTRIC, WATER]


def test_five_hundred_payees_per_owner(alice: Caller, db: Db) -> None:
    with db.transaction():
        for number in range(500):
            db.execute(
                "INSERT INTO payees (id, owner_id, name, type, account_number, created_at)"
                " VALUES (?, ?, ?, 'OTHER', '', CURRENT_TIMESTAMP)",
                (f"payee_cap{uuid.uuid4().hex[:16]}", alice.user_id, f"Payee {number}"),
            )
    envelope.error(alice.rest.post("/v1/payees", json=_body()), 422, "VALIDATION_ERROR")
    last = db.execute("SELECT id FROM payees WHERE owner_id = ? LIMIT 1", (alice.user_id,))
    envelope.success(alice.rest.delete(f"/v1/payees/{last[0][0]}"))
    _create(alice.rest)


def test_create_honours_idempotency_key(alice: Caller) -> None:
    headers = {"Idempotency-Key": f"payee-{uuid.uuid4().hex}"}
    first = alice.rest.post("/v1/payees", json=_body(), headers=headers)
    second = alice.rest.post("/v1/payees", json=_body(), headers=headers)
    assert envelope.success(second, 201)["payee"] == envelope.success(first, 201)["payee"]
    assert second.headers.get("Idempotent-Replayed") == "true"
    other = alice.rest.post("/v1/payees", json=_body(name="Other"), headers=headers)
    envelope.error(other, 409, "IDEMPOTENCY_KEY_REUSED")
    assert _names(alice.rest) == ["Acme Phone", ELECTRIC, WATER]


def test_concurrent_identical_creates_make_one_payee(alice: Caller) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: alice.rest.post("/v1/payees", json=_body()), range(4)))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert _names(alice.rest) == ["Acme Phone", ELECTRIC, WATER]


def test_calls_are_audited_without_the_number(alice: Caller, rest: Rest) -> None:
    rid = audit.request_id("payee")
    response = alice.rest.post("/v1/payees", json=_body(), headers={"X-Request-ID": rid})
    payee = envelope.success(response, 201)["payee"]
    event = audit.find(rest, rid, method="/backoffice.v1.PayeeService/CreatePayee")
    assert (event["outcomeCode"], event["actorId"]) == ("OK", alice.user_id)
    assert payee["id"] in event["resourceIds"]
    assert "12347890" not in json.dumps(event)
    rid = audit.request_id("payee-delete")
    alice.rest.delete(f"/v1/payees/{payee['id']}", headers={"X-Request-ID": rid})
    event = audit.find(rest, rid, method="/backoffice.v1.PayeeService/DeletePayee")
    assert event["resourceIds"] == [payee["id"]]


# --- ListPayees -----------------------------------------------------------------------------


def test_list_holds_own_payees_and_the_billers_by_name(alice: Caller, bob: Caller) -> None:
    for name, type_, category in [
        ("zeta gym", "MERCHANT", "Fitness"),
        ("acme card", "CREDIT_CARD", "cards"),
        ("Bright Phone", "UTILITY", "phone"),
    ]:
        _create(alice.rest, name=name, type=type_, category=category, nickname=f"my {type_}")
    _create(bob.rest, name="Bob's Landlord", type="INDIVIDUAL")
    data = envelope.success(alice.rest.get("/v1/payees"))
    names = [payee["name"] for payee in data["payees"]]
    assert names == ["acme card", "Bright Phone", ELECTRIC, WATER, "zeta gym"]
    billers = [payee for payee in data["payees"] if payee["id"] in BILLERS]
    assert [b["name"] for b in billers] == [ELECTRIC, WATER]
    assert all("ownerId" not in b and b["accountNumber"].startswith("****") for b in billers)
    assert data["pagination"]["totalCount"] == 5 and data["pagination"]["currentPage"] == 1
    assert _names(alice.rest, "&type=UTILITY") == ["Bright Phone", ELECTRIC, WATER]
    assert _names(alice.rest, "&category=FITNESS") == ["zeta gym"]
    assert _names(alice.rest, "&search=PHONE") == ["Bright Phone"]
    assert _names(alice.rest, "&search=my%20credit") == ["acme card"]  # the nickname
    assert _names(alice.rest, "&search=water") == [WATER]
    assert _names(alice.rest, "&search=%25") == []  # a wildcard is a plain character
    assert _names(alice.rest, f"&ownerId={bob.user_id}") == []
    assert _names(bob.rest) == ["Bob's Landlord", ELECTRIC, WATER]


def test_list_pages_by_number_and_by_token(alice: Caller) -> None:
    for name in ("A1", "A2", "A3"):
        _create(alice.rest, name=name)
    first = envelope.success(alice.rest.get("/v1/payees?limit=2"))
    assert [p["name"] for p in first["payees"]] == ["A1", "A2"]
    page = first["pagination"]
    assert (page["totalPages"], page["hasNext"], page["hasPrevious"]) == (3, True, False)
    second = envelope.success(alice.rest.get("/v1/payees?limit=2&page=2"))
    assert [p["name"] for p in second["payees"]] == ["A3", ELECTRIC]
    token = page["nextPageToken"]
    after = envelope.success(alice.rest.get(f"/v1/payees?limit=2&page_token={token}"))
    assert after["payees"] == second["payees"] and after["pagination"]["currentPage"] == 2
    last = envelope.success(
        alice.rest.get(f"/v1/payees?limit=2&pageToken={after['pagination']['nextPageToken']}")
    )
    assert [p["name"] for p in last["payees"]] == [WATER] and not last["pagination"]["hasNext"]
    # A token only resumes the query that made it.
    response = alice.rest.get(f"/v1/payees?limit=2&type=UTILITY&pageToken={token}")
    envelope.error(response, 422, "VALIDATION_ERROR", "pageToken")


def test_staff_list_an_owners_payees_over_grpc(alice: Caller, grpc_channel: grpc.Channel) -> None:
    _create(alice.rest, name="Acme Owned")
    reply = _stub(grpc_channel).ListPayees(
        pb.ListPayeesRequest(owner_id=alice.user_id or ""), timeout=30
    )
    assert [p.name for p in reply.payees] == ["Acme Owned", ELECTRIC, WATER]
    assert reply.pagination.total_count == 3


def test_list_filters_are_checked(alice: Caller) -> None:
    envelope.error(alice.rest.get("/v1/payees?search=" + "s" * 101), 422, "VALIDATION_ERROR")
    envelope.error(alice.rest.get("/v1/payees?limit=100&page=101"), 422, "VALIDATION_ERROR")


# --- GetPayee and DeletePayee ---------------------------------------------------------------


def test_another_customers_payee_is_not_found(alice: Caller, bob: Caller) -> None:
    payee = _create(alice.rest)
    url = f"/v1/payees/{payee['id']}"
    envelope.error(bob.rest.get(url), 404, "NOT_FOUND")
    envelope.error(bob.rest.delete(url), 404, "NOT_FOUND")
    request = pb.GetPayeeRequest(payee_id=payee["id"])
    _grpc_fails(_stub(bob).GetPayee, request, StatusCode.NOT_FOUND, "NOT_FOUND")
    delete = pb.DeletePayeeRequest(payee_id=payee["id"])
    _grpc_fails(_stub(bob).DeletePayee, delete, StatusCode.NOT_FOUND, "NOT_FOUND")
    assert envelope.success(alice.rest.get(url))["payee"]["id"] == payee["id"]


def test_delete_hides_the_payee_and_a_second_delete_is_404(alice: Caller, db: Db) -> None:
    payee = _create(alice.rest)
    url = f"/v1/payees/{payee['id']}"
    response = alice.rest.delete(url)
    assert envelope.success(response) == {}
    assert response.json()["message"] == "Payee deleted successfully"
    envelope.error(alice.rest.get(url), 404, "NOT_FOUND")
    envelope.error(alice.rest.delete(url), 404, "NOT_FOUND")
    assert _names(alice.rest) == [ELECTRIC, WATER]
    # The row stays for the payments that name it.
    assert db.execute("SELECT deleted_at IS NOT NULL FROM payees WHERE id = ?", (payee["id"],))[0][
        0
    ]


def test_delete_over_grpc_and_staff_delete_for_the_owner(
    alice: Caller, grpc_channel: grpc.Channel
) -> None:
    mine, theirs = _create(alice.rest), _create(alice.rest, name="Second")
    _stub(alice).DeletePayee(pb.DeletePayeeRequest(payee_id=mine["id"]), timeout=30)
    _stub(grpc_channel).DeletePayee(pb.DeletePayeeRequest(payee_id=theirs["id"]), timeout=30)
    again = pb.DeletePayeeRequest(payee_id=mine["id"])
    _grpc_fails(_stub(alice).DeletePayee, again, StatusCode.NOT_FOUND, "NOT_FOUND")
    assert _names(alice.rest) == [ELECTRIC, WATER]


def test_billers_are_read_by_all_and_deleted_by_none(
    alice: Caller, rest: Rest, grpc_channel: grpc.Channel, db: Db
) -> None:
    biller = sandbox_payee_id("elec")
    payee = envelope.success(alice.rest.get(f"/v1/payees/{biller}"))["payee"]
    assert (payee["name"], payee["type"], payee["category"]) == (ELECTRIC, "UTILITY", "electricity")
    assert payee["accountNumber"] == "****1187" and "ownerId" not in payee
    envelope.error(alice.rest.delete(f"/v1/payees/{biller}"), 403, "FORBIDDEN")
    envelope.error(rest.delete(f"/v1/payees/{biller}"), 403, "FORBIDDEN")
    request = pb.DeletePayeeRequest(payee_id=biller)
    _grpc_fails(_stub(grpc_channel).DeletePayee, request, StatusCode.PERMISSION_DENIED, "FORBIDDEN")
    assert ELECTRIC in _names(alice.rest)
    # `setup` sealed the sandbox's plaintext numbers too.
    stored = db.execute("SELECT account_number FROM payees WHERE id = ?", (biller,))[0][0]
    assert stored.startswith("enc:v1:")


def test_unknown_and_malformed_ids_are_not_found(alice: Caller) -> None:
    for payee_id in ("payee_nothing00000000000", "x" * 80):
        envelope.error(alice.rest.get(f"/v1/payees/{payee_id}"), 404, "NOT_FOUND")
        envelope.error(alice.rest.delete(f"/v1/payees/{payee_id}"), 404, "NOT_FOUND")
    request = pb.GetPayeeRequest(payee_id="")
    _grpc_fails(_stub(alice).GetPayee, request, StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")


def test_an_auditor_reads_but_does_not_write(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest, alice: Caller
) -> None:
    payee = _create(alice.rest)
    auditor_id = create_user(rest, "AUDITOR")
    auditor = user_caller(stack, raw_channel, "auditor", auditor_id, STAFF_SCOPES)
    try:
        url = f"/v1/payees/{payee['id']}"
        assert envelope.success(auditor.rest.get(url))["payee"]["id"] == payee["id"]
        body = _body(ownerId=alice.user_id, name="Audited")
        envelope.error(auditor.rest.post("/v1/payees", json=body), 403, "FORBIDDEN")
        envelope.error(auditor.rest.delete(url), 403, "FORBIDDEN")
    finally:
        auditor.close()
