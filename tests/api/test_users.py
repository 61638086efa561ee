"""UserService end to end: REST through Envoy and gRPC, on SQLite and PostgreSQL.

Authentication is not built yet, so every caller is the internal ADMIN
principal; the customer, auditor and teller rules are tested in
tests/domain/test_users.py with hand-made principals.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import grpc
import pytest
import requests
from argon2 import PasswordHasher
from google.protobuf import json_format

from backoffice.v1 import user_pb2
from backoffice.v1 import user_service_pb2 as pb
from server.api import paging
from server.domain.requests import camel
from server.keys import key_file
from server.run import Stack
from tests.common import envelope, users
from tests.common.auth import authenticated, create_client, token_over_grpc
from tests.common.stack import stack_settings, started
from tests.conftest import Rest

ROLE = user_pb2.UserRoleEnum
STATUS = user_pb2.UserStatusEnum


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _list(rest: Rest, **params: Any) -> dict[str, Any]:
    return envelope.success(rest.get("/v1/users", params=params))


def _ids(rest: Rest, **params: Any) -> list[str]:
    return [user["id"] for user in _list(rest, **params)["users"]]


# -- CreateUser ------------------------------------------------------------------------
def test_create_user_rest(rest: Rest, stack: Stack) -> None:
    email = users.unique_email("grace")
    body = {
        "email": f"  {email.upper()}  ",
        "name": "  Grace Hopper ",
        "password": users.PASSWORD,
        "phone": "+14155550123",
        "dateOfBirth": "1990-05-17",
        "taxId": "123-45-6789",
        "address": users.ADDRESS,
    }
    response = rest.post("/v1/users", json=body)
    user = envelope.success(response, 201)["user"]
    assert response.json()["message"] == "User created successfully"
    assert user["id"].startswith("usr_")
    assert user["email"] == email
    assert user["name"] == "Grace Hopper"
    assert (user["role"], user["status"]) == ("CUSTOMER", "ACTIVE")
    # The internal caller is staff: phone and date of birth in full.
    assert user["phone"] == "+14155550123"
    assert user["dateOfBirth"] == "1990-05-17"
    # Write-only in full, for everyone.
    assert user["taxId"] == "***-**-6789"
    assert user["address"] == users.ADDRESS
    assert user["createdAt"].endswith("Z") and user["updatedAt"] == user["createdAt"]
    assert "lastLoginAt" not in user
    # Never the password, nor its hash, in the answer.
    assert "password" not in json.dumps(user).lower()
    assert users.PASSWORD not in response.text and "$argon2" not in response.text

    stored = users.stored_user(stack, user["id"])
    assert stored["password_hash"].startswith("$argon2id$")
    assert PasswordHasher().verify(stored["password_hash"], users.PASSWORD)
    assert "123456789" not in stored["tax_id"] and stored["tax_id"].startswith("enc:v1:")
    assert stored["tax_id_last4"] == "6789"

    events = users.outbox_events(stack, user["id"], "user.created")
    assert len(events) == 1
    assert events[0]["data"] == {
        "user_id": user["id"],
        "email": email,
        "role": "CUSTOMER",
        "status": "ACTIVE",
    }
    raw = users.raw_outbox_payloads(stack, user["id"])
    for secret in (
        users.PASSWORD,
        "4155550123",
        "1990-05-17",
        "123-45-6789",
        "123456789",
        "Market",
    ):
        assert secret not in raw


def test_create_user_accepts_snake_case_and_backoffice_path(rest: Rest) -> None:
    body = users.user_body(date_of_birth="1985-01-31", tax_id="987654321")
    user = envelope.success(rest.post("/backoffice/v1/users", json=body), 201)["user"]
    assert user["dateOfBirth"] == "1985-01-31"
    assert user["taxId"] == "***-**-4321"
    assert "phone" not in user and "address" not in user


def test_create_staff_user_grpc(grpc_channel: grpc.Channel) -> None:
    email = users.unique_email("teller")
    reply, call = users.stub(grpc_channel).CreateUser.with_call(
        pb.CreateUserRequest(
            email=email.upper(),
            name="Tom Teller",
            password=users.PASSWORD,
            role=ROLE.TELLER,
            address=user_pb2.PostalAddress(line1="2 Bank St", city="Boston", country="us"),
        ),
        timeout=30,
    )
    user = reply.user
    assert user.email == email
    assert user.role == ROLE.TELLER and user.status == STATUS.ACTIVE
    assert user.address.country == "US" and not user.address.HasField("line2")
    assert user.created_at.seconds > 0 and not user.HasField("last_login_at")
    assert ("x-bank-http-status", "201") in call.initial_metadata()


def test_create_honours_idempotency_key(rest: Rest, stack: Stack) -> None:
    body = users.user_body()
    headers = {"Idempotency-Key": f"create-{users.tag()}"}
    first = rest.post("/v1/users", json=body, headers=headers)
    second = rest.post("/v1/users", json=body, headers=headers)
    created = envelope.success(first, 201)["user"]
    assert envelope.success(second, 201)["user"] == created
    assert second.headers.get("Idempotent-Replayed") == "true"
    rows = users.db_rows(stack, "SELECT COUNT(*) FROM users WHERE email = %s", (body["email"],))
    assert rows[0][0] == 1
    assert len(users.outbox_events(stack, created["id"], "user.created")) == 1


def test_duplicate_email_is_a_conflict_rest(rest: Rest, stack: Stack) -> None:
    user = users.create_rest(rest)
    for variant in (user["email"], user["email"].upper(), f"  {user['email'].title()} "):
        response = rest.post("/v1/users", json=users.user_body(email=variant))
        envelope.error(response, 409, "CONFLICT", "email")
    rows = users.db_rows(stack, "SELECT COUNT(*) FROM users WHERE email = %s", (user["email"],))
    assert rows[0][0] == 1


def test_duplicate_email_is_already_exists_grpc(grpc_channel: grpc.Channel) -> None:
    user = users.create_grpc(grpc_channel)
    with pytest.raises(grpc.RpcError) as caught:
        users.create_grpc(grpc_channel, email=user.email.upper())
    info = envelope.grpc_error(caught.value, grpc.StatusCode.ALREADY_EXISTS, "CONFLICT")
    assert info.metadata["field"] == "email"


def test_concurrent_creates_with_one_email_make_one_user(
    grpc_channel: grpc.Channel, stack: Stack
) -> None:
    email = users.unique_email("race")

    def attempt(index: int) -> str:
        variant = email if index % 2 else email.upper()
        try:
            users.create_grpc(grpc_channel, email=variant)
        except grpc.RpcError as exc:
            envelope.grpc_error(exc, grpc.StatusCode.ALREADY_EXISTS, "CONFLICT")
            return "CONFLICT"
        return "OK"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    assert outcomes.count("OK") == 1, outcomes
    assert outcomes.count("CONFLICT") == 5
    rows = users.db_rows(stack, "SELECT COUNT(*) FROM users WHERE email = %s", (email,))
    assert rows[0][0] == 1


INVALID_CREATE = [
    pytest.param({"email": ""}, "email", id="email-missing"),
    pytest.param({"email": "not-an-email"}, "email", id="email-no-at"),
    pytest.param({"email": "two@@example.com"}, "email", id="email-two-at"),
    pytest.param({"email": "a b@example.com"}, "email", id="email-space"),
    pytest.param({"email": "user@localhost"}, "email", id="email-no-tld"),
    pytest.param({"email": "user@exa_mple.com"}, "email", id="email-bad-domain"),
    pytest.param({"email": ".user@example.com"}, "email", id="email-leading-dot"),
    pytest.param({"email": "jürgen@example.com"}, "email", id="email-non-ascii"),
    pytest.param({"email": "x" * 60 + "@" + "d" * 190 + ".com"}, "email", id="email-too-long"),
    pytest.param({"name": ""}, "name", id="name-missing"),
    pytest.param({"name": "   "}, "name", id="name-blank"),
    pytest.param({"name": "n" * 201}, "name", id="name-too-long"),
    pytest.param({"password": ""}, "password", id="password-missing"),
    pytest.param({"password": "Short-pw-1"}, "password", id="password-short"),
    pytest.param({"password": "Ab1!" * 32 + "x"}, "password", id="password-too-long"),
    pytest.param({"password": "Password1234"}, "password", id="password-common"),
    pytest.param({"password": "abababababababab"}, "password", id="password-simple"),
    pytest.param({"phone": "4155550123"}, "phone", id="phone-no-plus"),
    pytest.param({"phone": "+0155550123"}, "phone", id="phone-zero-country"),
    pytest.param({"phone": "+1 415 555 0123"}, "phone", id="phone-spaces"),
    pytest.param({"phone": "+12345"}, "phone", id="phone-short"),
    pytest.param({"phone": "+1234567890123456"}, "phone", id="phone-long"),
    pytest.param({"dateOfBirth": "1990-13-01"}, "date_of_birth", id="dob-month"),
    pytest.param({"dateOfBirth": "1990-02-30"}, "date_of_birth", id="dob-day"),
    pytest.param({"dateOfBirth": "01/02/1990"}, "date_of_birth", id="dob-format"),
    pytest.param({"dateOfBirth": "19900102"}, "date_of_birth", id="dob-compact"),
    pytest.param({"dateOfBirth": "yesterday"}, "date_of_birth", id="dob-word"),
    pytest.param({"dateOfBirth": "2999-01-01"}, "date_of_birth", id="dob-future"),
    pytest.param({"dateOfBirth": "1800-01-01"}, "date_of_birth", id="dob-too-old"),
    pytest.param({"taxId": "12345678"}, "tax_id", id="tax-short"),
    pytest.param({"taxId": "1234567890"}, "tax_id", id="tax-long"),
    pytest.param({"taxId": "12345678a"}, "tax_id", id="tax-letter"),
    pytest.param({"taxId": "123 45 6789"}, "tax_id", id="tax-spaces"),
    pytest.param(
        {"address": {"city": "Springfield", "country": "US"}}, "address.line1", id="addr-line1"
    ),
    pytest.param({"address": {"line1": "1 Main", "country": "US"}}, "address.city", id="addr-city"),
    pytest.param(
        {"address": {"line1": "1 Main", "city": "X", "country": "USA"}},
        "address.country",
        id="addr-country",
    ),
    pytest.param(
        {"address": {"line1": "l" * 101, "city": "X", "country": "US"}},
        "address.line1",
        id="addr-line1-long",
    ),
    pytest.param(
        {"address": {"line1": "1 Main", "city": "X", "country": "US", "postalCode": "9" * 21}},
        "address.postal_code",
        id="addr-postal-long",
    ),
]


@pytest.mark.parametrize(("override", "field"), INVALID_CREATE)
def test_create_validation_rest(
    rest: Rest, stack: Stack, override: dict[str, Any], field: str
) -> None:
    body = users.user_body(**override)
    response = rest.post("/v1/users", json=body)
    envelope.error(response, 422, "VALIDATION_ERROR", camel(field))  # the key sent
    assert users.PASSWORD not in response.text
    # Nothing half-written.
    rows = users.db_rows(
        stack, "SELECT COUNT(*) FROM users WHERE email = %s", (body["email"].strip().lower(),)
    )
    assert rows[0][0] == 0


@pytest.mark.parametrize(("override", "field"), INVALID_CREATE)
def test_create_validation_grpc(
    grpc_channel: grpc.Channel, override: dict[str, Any], field: str
) -> None:
    request = json_format.ParseDict(users.user_body(**override), pb.CreateUserRequest())
    with pytest.raises(grpc.RpcError) as caught:
        users.stub(grpc_channel).CreateUser(request, timeout=30)
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == field


def test_password_may_not_contain_the_email(rest: Rest, grpc_channel: grpc.Channel) -> None:
    email = users.unique_email("mallory")
    local = email.partition("@")[0]
    body = users.user_body(email=email, password=f"{local.upper()}-rocks!")
    envelope.error(rest.post("/v1/users", json=body), 422, "VALIDATION_ERROR", "password")
    with pytest.raises(grpc.RpcError) as caught:
        users.create_grpc(grpc_channel, email=email, password=f"my-{local}-pass")
    envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")


def test_unknown_role_is_refused(rest: Rest, grpc_channel: grpc.Channel) -> None:
    # An enum word the API does not know never reaches the server (transcoder).
    response = rest.post("/v1/users", json=users.user_body(role="KING"))
    envelope.error(response, 400, "INVALID_REQUEST")
    with pytest.raises(grpc.RpcError) as caught:
        users.create_grpc(grpc_channel, role=99)
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == "role"


# -- GetUser -----------------------------------------------------------------------------
def test_get_user_rest(rest: Rest) -> None:
    created = users.create_rest(rest, phone="+447700900123", dateOfBirth="1970-01-01")
    for prefix in ("/v1", "/backoffice/v1"):
        response = rest.get(f"{prefix}/users/{created['id']}")
        assert envelope.success(response)["user"] == created
        assert response.json()["message"] == "User retrieved successfully"


def test_get_user_grpc(grpc_channel: grpc.Channel) -> None:
    created = users.create_grpc(grpc_channel, tax_id="111-22-3333")
    reply = users.stub(grpc_channel).GetUser(pb.GetUserRequest(user_id=created.id), timeout=30)
    assert reply.user == created
    assert reply.user.tax_id == "***-**-3333"


@pytest.mark.parametrize("user_id", ["usr_doesnotexist000000", "acc_notauser0000000000", "me"])
def test_unknown_user_is_not_found(rest: Rest, grpc_channel: grpc.Channel, user_id: str) -> None:
    envelope.error(rest.get(f"/v1/users/{user_id}"), 404, "NOT_FOUND")
    with pytest.raises(grpc.RpcError) as caught:
        users.stub(grpc_channel).GetUser(pb.GetUserRequest(user_id=user_id), timeout=30)
    envelope.grpc_error(caught.value, grpc.StatusCode.NOT_FOUND, "NOT_FOUND")


def test_get_user_partial_response(rest: Rest, grpc_channel: grpc.Channel) -> None:
    created = users.create_rest(rest, phone="+14155550100", dateOfBirth="1980-02-29")
    user = envelope.success(rest.get(f"/v1/users/{created['id']}?fields=name,email"))["user"]
    assert (user["id"], user["name"], user["email"]) == (
        created["id"],
        created["name"],
        created["email"],
    )
    # Fields not asked for are left out of the JSON.
    assert set(user) == {"id", "name", "email"}

    reply = users.stub(grpc_channel).GetUser(
        pb.GetUserRequest(user_id=created["id"], fields=" dateOfBirth , phone,created_at"),
        timeout=30,
    )
    assert reply.user.id == created["id"]
    assert (reply.user.phone, reply.user.date_of_birth) == ("+14155550100", "1980-02-29")
    assert reply.user.HasField("created_at")
    assert not reply.user.HasField("email") and not reply.user.HasField("name")
    assert not reply.user.HasField("role")
    assert not reply.user.HasField("updated_at")


def test_unknown_field_in_fields_is_a_validation_error(
    rest: Rest, grpc_channel: grpc.Channel
) -> None:
    created = users.create_rest(rest)
    response = rest.get(f"/v1/users/{created['id']}", params={"fields": "name,password"})
    envelope.error(response, 422, "VALIDATION_ERROR", "fields")
    envelope.error(
        rest.get("/v1/users", params={"fields": "email,balance"}), 422, "VALIDATION_ERROR", "fields"
    )
    for call in (
        lambda: users.stub(grpc_channel).GetUser(
            pb.GetUserRequest(user_id=created["id"], fields="passwordHash"), timeout=30
        ),
        lambda: users.stub(grpc_channel).ListUsers(
            pb.ListUsersRequest(fields="name,address.city"), timeout=30
        ),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            call()
        info = envelope.grpc_error(
            caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR"
        )
        assert info.metadata["field"] == "fields"


# -- ListUsers ---------------------------------------------------------------------------
def test_search_is_case_insensitive_on_email_and_name(rest: Rest) -> None:
    word = users.tag()
    by_name = [
        users.create_rest(rest, name=f"Ann {word.upper()} Smith"),
        users.create_rest(rest, name=f"{word} Jones"),
    ]
    by_email = users.create_rest(rest, email=f"{word}.mail@example.com")
    users.create_rest(rest, name="Unrelated Person")
    found = _ids(rest, search=word.upper())
    assert sorted(found) == sorted([u["id"] for u in [*by_name, by_email]])
    assert _ids(rest, search=f"{word}.mail@EXAMPLE") == [by_email["id"]]
    assert _list(rest, search=word)["pagination"]["totalCount"] == 3


def test_search_treats_like_wildcards_literally(rest: Rest) -> None:
    word = users.tag()
    users.create_rest(rest, name=f"{word} Percent")
    assert _ids(rest, search=f"{word}%") == []
    assert _ids(rest, search=f"{word[:3]}_{word[4:]}") == []
    assert len(_ids(rest, search=word)) == 1


def test_list_partial_response(rest: Rest) -> None:
    word = users.tag()
    users.create_rest(rest, name=f"{word} One", phone="+14155550111")
    listed = _list(rest, search=word, fields="email")["users"]
    assert len(listed) == 1
    assert listed[0]["email"] and listed[0]["id"]
    assert set(listed[0]) == {"id", "email"}


def test_role_and_status_filters(rest: Rest, grpc_channel: grpc.Channel) -> None:
    word = users.tag()
    teller = users.create_rest(rest, name=f"{word} Teller", role="TELLER")
    customer = users.create_rest(rest, name=f"{word} Customer")
    gone = users.create_rest(rest, name=f"{word} Gone")
    envelope.success(rest.delete(f"/v1/users/{gone['id']}"))
    assert _ids(rest, search=word, role="TELLER") == [teller["id"]]
    assert _ids(rest, search=word, role="teller") == [teller["id"]]
    assert sorted(_ids(rest, search=word, role="CUSTOMER")) == sorted([customer["id"], gone["id"]])
    assert _ids(rest, search=word, status="INACTIVE") == [gone["id"]]
    assert _ids(rest, search=word, status="ACTIVE", role="CUSTOMER") == [customer["id"]]
    reply = users.stub(grpc_channel).ListUsers(
        pb.ListUsersRequest(search=word, status=STATUS.INACTIVE), timeout=30
    )
    assert [u.id for u in reply.users] == [gone["id"]]
    envelope.error(rest.get("/v1/users", params={"role": "KING"}), 400, "INVALID_REQUEST")
    with pytest.raises(grpc.RpcError) as caught:
        users.stub(grpc_channel).ListUsers(pb.ListUsersRequest(role=42), timeout=30)
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == "role"


def _seven(rest: Rest) -> tuple[str, list[str]]:
    """Seven users sharing a search word; ids newest first."""
    word = users.tag()
    made = [users.create_rest(rest, name=f"{word} Pager {index}") for index in range(7)]
    return word, [user["id"] for user in reversed(made)]


def test_paging_by_page_has_no_duplicates_or_gaps(rest: Rest) -> None:
    word, newest_first = _seven(rest)
    seen: list[str] = []
    expected = [
        (1, True, False),
        (2, True, True),
        (3, False, True),
    ]
    for page, has_next, has_previous in expected:
        response = rest.get("/v1/users", params={"search": word, "page": page, "limit": 3})
        data = envelope.success(response)
        pagination = data["pagination"]
        assert pagination["currentPage"] == page
        assert pagination["perPage"] == pagination["itemsPerPage"] == 3
        assert pagination["totalCount"] == pagination["totalItems"] == 7
        assert pagination["totalPages"] == 3
        assert (pagination["hasNext"], pagination["hasPrevious"]) == (has_next, has_previous)
        assert bool(pagination.get("nextPageToken")) == has_next
        # Seed 000 also reads pagination at the top level.
        assert response.json()["pagination"]["totalCount"] == 7
        seen.extend(user["id"] for user in data["users"])
    assert seen == newest_first
    assert _list(rest, search=word, page=4, limit=3)["users"] == []


def test_paging_by_token_has_no_duplicates_or_gaps(rest: Rest) -> None:
    word, newest_first = _seven(rest)
    seen: list[str] = []
    token = ""
    for _ in range(5):
        params: dict[str, Any] = {"search": word, "limit": 3}
        if token:
            params["page_token"] = token
        data = _list(rest, **params)
        seen.extend(user["id"] for user in data["users"])
        token = data["pagination"].get("nextPageToken", "")
        if not token:
            break
    assert seen == newest_first


@pytest.mark.parametrize(
    ("sort", "order"), [("name", "asc"), ("name", "desc"), ("email", "asc"), ("created_at", "asc")]
)
def test_paging_by_token_in_every_sort(rest: Rest, sort: str, order: str) -> None:
    word, _ = _seven(rest)
    everything = _ids(rest, search=word, sort=sort, order=order, limit=100)
    seen: list[str] = []
    token = ""
    for _ in range(5):
        params: dict[str, Any] = {"search": word, "limit": 2, "sort": sort, "order": order}
        if token:
            params["pageToken"] = token
        data = _list(rest, **params)
        seen.extend(user["id"] for user in data["users"])
        token = data["pagination"].get("nextPageToken", "")
        if not token:
            break
    assert seen == everything and len(set(seen)) == 7


def test_paging_by_token_grpc(grpc_channel: grpc.Channel) -> None:
    word = users.tag()
    made = [users.create_grpc(grpc_channel, name=f"{word} G{index}").id for index in range(5)]
    seen: list[str] = []
    request = pb.ListUsersRequest(search=word, limit=2)
    while True:
        reply = users.stub(grpc_channel).ListUsers(request, timeout=30)
        seen.extend(user.id for user in reply.users)
        assert reply.pagination.total_count == 5
        if not reply.pagination.next_page_token:
            break
        request.page_token = reply.pagination.next_page_token
    assert seen == list(reversed(made))


def test_page_token_is_bound_to_its_filters(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack
) -> None:
    word, _ = _seven(rest)
    token = _list(rest, search=word, limit=3)["pagination"]["nextPageToken"]
    for params in (
        {"search": word + "x", "page_token": token},
        {"search": word, "sort": "name", "page_token": token},
        {"search": word, "page_token": "not-a-token"},
        {"search": word, "page_token": token[:-4]},
    ):
        envelope.error(rest.get("/v1/users", params=params), 422, "VALIDATION_ERROR", "page_token")
    # A well-formed token holding a nonsense position is refused, never a 500
    # (signed with the server's key, so that it gets past the signature check).
    paging.configure(key_file(stack.settings.data_dir / "keys" / "paging.key"))
    filters = {"search": word, "role": None, "status": None, "sort": "created_at", "order": "desc"}
    for key in (["not-a-time", "usr_x"], [17, "usr_x"], ["2025-01-01 00:00:00"]):
        forged = paging.encode_token(key, filters)
        response = rest.get("/v1/users", params={"search": word, "page_token": forged})
        envelope.error(response, 422, "VALIDATION_ERROR", "page_token")
    with pytest.raises(grpc.RpcError) as caught:
        users.stub(grpc_channel).ListUsers(
            pb.ListUsersRequest(search=word, page_token=base64.b64encode(b"{}").decode()),
            timeout=30,
        )
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == "page_token"


def test_sort_orders_and_aliases(rest: Rest) -> None:
    word = users.tag()
    charlie = users.create_rest(rest, name=f"{word} Charlie", email=f"a.{word}@example.com")
    alpha = users.create_rest(rest, name=f"{word} alpha", email=f"c.{word}@example.com")
    bravo = users.create_rest(rest, name=f"{word} Bravo", email=f"b.{word}@example.com")
    by_name = [alpha["id"], bravo["id"], charlie["id"]]
    assert _ids(rest, search=word, sort="name", order="asc") == by_name
    assert _ids(rest, search=word, sort="name", order="DESC") == by_name[::-1]
    assert _ids(rest, search=word, sort_by="name", sort_order="asc") == by_name
    assert _ids(rest, search=word, sortBy="name", sortOrder="asc") == by_name
    assert _ids(rest, search=word, sort="email", order="asc") == [
        charlie["id"],
        bravo["id"],
        alpha["id"],
    ]
    created = [charlie["id"], alpha["id"], bravo["id"]]
    assert _ids(rest, search=word) == created[::-1]  # newest first by default
    assert _ids(rest, search=word, sort="createdAt", order="asc") == created
    assert _ids(rest, search=word, sort="last_login_at", order="asc") == sorted(created)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "name", "sort_by": "email"}, "sort_by"),
        ({"sort": "balance"}, "sort_by"),
        ({"order": "asc", "sort_order": "desc"}, "sort_order"),
        ({"order": "sideways"}, "sort_order"),
        ({"limit": -1}, "limit"),
        ({"page": -1}, "page"),
        ({"page": 101, "limit": 100}, "page"),
        ({"search": "s" * 101}, "search"),
    ],
)
def test_list_parameter_errors(
    rest: Rest, grpc_channel: grpc.Channel, params: dict[str, Any], field: str
) -> None:
    # REST names the parameter as sent, else in lowerCamelCase; gRPC the proto field.
    sent = field if field in params else camel(field)
    envelope.error(rest.get("/v1/users", params=params), 422, "VALIDATION_ERROR", sent)
    with pytest.raises(grpc.RpcError) as caught:
        users.stub(grpc_channel).ListUsers(pb.ListUsersRequest(**params), timeout=30)
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == field


def test_limit_defaults_and_is_capped(rest: Rest) -> None:
    response = rest.get("/backoffice/v1/users")
    assert envelope.success(response)["pagination"]["perPage"] == 20
    assert response.json()["message"] == "Users retrieved successfully"
    assert _list(rest, limit=500)["pagination"]["perPage"] == 100
    assert _list(rest, page=100, limit=100)["pagination"]["currentPage"] == 100


def test_sandbox_users_are_listed(rest: Rest) -> None:
    found = _list(rest, search="@example.com", sort="email", order="asc", limit=100)["users"]
    emails = {user["email"] for user in found}
    assert {"alice@example.com", "bob@example.com", "admin@example.com"} <= emails
    admin = next(user for user in found if user["email"] == "admin@example.com")
    assert admin["role"] == "ADMIN"


# -- UpdateUser ----------------------------------------------------------------------------
def test_update_leaves_absent_fields_unchanged(rest: Rest, stack: Stack) -> None:
    created = users.create_rest(
        rest,
        phone="+14155550199",
        dateOfBirth="1975-06-01",
        taxId="555-44-3333",
        address=users.ADDRESS,
    )
    response = rest.put(f"/v1/users/{created['id']}", json={"name": "Renamed Person"})
    updated = envelope.success(response)["user"]
    assert response.json()["message"] == "User updated successfully"
    assert updated["name"] == "Renamed Person"
    for field in ("email", "phone", "dateOfBirth", "taxId", "address", "role", "status"):
        assert updated[field] == created[field], field
    assert updated["createdAt"] == created["createdAt"]
    assert _parse_time(updated["updatedAt"]) > _parse_time(created["updatedAt"])
    events = users.outbox_events(stack, created["id"], "user.updated")
    assert [event["data"]["changed_fields"] for event in events] == [["name"]]

    # PATCH is the same partial update; an empty string clears phone and tax id.
    patched = envelope.success(
        rest.patch(f"/v1/users/{created['id']}", json={"phone": "", "taxId": ""})
    )["user"]
    assert "phone" not in patched and "taxId" not in patched
    assert patched["dateOfBirth"] == "1975-06-01" and patched["name"] == "Renamed Person"
    assert users.stored_user(stack, created["id"])["tax_id"] is None
    events = users.outbox_events(stack, created["id"], "user.updated")
    assert events[-1]["data"]["changed_fields"] == ["phone", "tax_id"]


def test_update_replaces_address_and_tax_id(rest: Rest, stack: Stack) -> None:
    created = users.create_rest(rest, taxId="123456789", address=users.ADDRESS)
    new_address = {"line1": "9 Elm", "city": "Austin", "country": "us"}
    updated = envelope.success(
        rest.put(
            f"/backoffice/v1/users/{created['id']}",
            json={"address": new_address, "taxId": "987-65-4321"},
        )
    )["user"]
    assert updated["address"] == {"line1": "9 Elm", "city": "Austin", "country": "US"}
    assert updated["taxId"] == "***-**-4321"
    # The same tax id again (other punctuation) is no change: no event.
    before = len(users.outbox_events(stack, created["id"], "user.updated"))
    again = envelope.success(rest.put(f"/v1/users/{created['id']}", json={"taxId": "987654321"}))
    assert again["user"]["updatedAt"] == updated["updatedAt"]
    assert len(users.outbox_events(stack, created["id"], "user.updated")) == before


def test_update_with_unchanged_values_changes_nothing(rest: Rest, stack: Stack) -> None:
    created = users.create_rest(rest, phone="+14155550142")
    body = {
        "email": created["email"].upper(),
        "name": created["name"],
        "phone": created["phone"],
        "role": "CUSTOMER",
        "status": "ACTIVE",
    }
    updated = envelope.success(rest.put(f"/v1/users/{created['id']}", json=body))["user"]
    assert updated == created
    assert envelope.success(rest.put(f"/v1/users/{created['id']}", json={}))["user"] == created
    assert users.outbox_events(stack, created["id"], "user.updated") == []


def test_update_email_uniqueness(rest: Rest, grpc_channel: grpc.Channel, stack: Stack) -> None:
    first = users.create_rest(rest)
    second = users.create_rest(rest)
    response = rest.put(f"/v1/users/{second['id']}", json={"email": first["email"].upper()})
    envelope.error(response, 409, "CONFLICT", "email")
    with pytest.raises(grpc.RpcError) as caught:
        users.stub(grpc_channel).UpdateUser(
            pb.UpdateUserRequest(user_id=second["id"], email=first["email"]), timeout=30
        )
    info = envelope.grpc_error(caught.value, grpc.StatusCode.ALREADY_EXISTS, "CONFLICT")
    assert info.metadata["field"] == "email"
    assert envelope.success(rest.get(f"/v1/users/{second['id']}"))["user"] == second
    # A new, free email is normalised and taken.
    fresh = users.unique_email("moved")
    moved = envelope.success(
        rest.put(f"/v1/users/{second['id']}", json={"email": f" {fresh.upper()} "})
    )["user"]
    assert moved["email"] == fresh
    events = users.outbox_events(stack, second["id"], "user.updated")
    assert events[-1]["data"] == {
        "user_id": second["id"],
        "email": fresh,
        "changed_fields": ["email"],
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"email": ""}, "email"),
        ({"email": "nobody"}, "email"),
        ({"phone": "555-0100"}, "phone"),
        ({"dateOfBirth": "2999-12-31"}, "date_of_birth"),
        ({"taxId": "***-**-6789"}, "tax_id"),
        ({"address": {"line1": "1 Main"}}, "address.city"),
        ({"status": "INACTIVE"}, "status"),
        ({"status": "USER_STATUS_UNSPECIFIED"}, "status"),
        ({"role": "USER_ROLE_UNSPECIFIED"}, "role"),
    ],
)
def test_update_validation(
    rest: Rest, grpc_channel: grpc.Channel, body: dict[str, Any], field: str
) -> None:
    created = users.create_rest(rest)
    response = rest.put(f"/v1/users/{created['id']}", json=body)
    envelope.error(response, 422, "VALIDATION_ERROR", camel(field))  # the key sent
    request = json_format.ParseDict({"userId": created["id"], **body}, pb.UpdateUserRequest())
    with pytest.raises(grpc.RpcError) as caught:
        users.stub(grpc_channel).UpdateUser(request, timeout=30)
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == field
    assert envelope.success(rest.get(f"/v1/users/{created['id']}"))["user"] == created


def test_update_unknown_user_is_not_found(rest: Rest, grpc_channel: grpc.Channel) -> None:
    response = rest.put("/v1/users/usr_doesnotexist000000", json={"name": "Ghost"})
    envelope.error(response, 404, "NOT_FOUND")
    with pytest.raises(grpc.RpcError) as caught:
        users.stub(grpc_channel).UpdateUser(
            pb.UpdateUserRequest(user_id="usr_doesnotexist000000", name="Ghost"), timeout=30
        )
    envelope.grpc_error(caught.value, grpc.StatusCode.NOT_FOUND, "NOT_FOUND")


def test_admin_changes_role_and_status(
    rest: Rest, grpc_channel: grpc.Channel, stack: Stack
) -> None:
    created = users.create_rest(rest)
    promoted = envelope.success(
        rest.put(f"/v1/users/{created['id']}", json={"role": "OPERATIONS"})
    )["user"]
    assert promoted["role"] == "OPERATIONS"
    locked = users.stub(grpc_channel).UpdateUser(
        pb.UpdateUserRequest(user_id=created["id"], status=STATUS.LOCKED), timeout=30
    )
    assert locked.user.status == STATUS.LOCKED
    unlocked = envelope.success(rest.patch(f"/v1/users/{created['id']}", json={"status": "active"}))
    assert unlocked["user"]["status"] == "ACTIVE"
    changed = [
        e["data"]["changed_fields"]
        for e in users.outbox_events(stack, created["id"], "user.updated")
    ]
    assert changed == [["role"], ["status"], ["status"]]


# -- DeleteUser ------------------------------------------------------------------------------
def test_deactivate_is_idempotent(rest: Rest, stack: Stack) -> None:
    created = users.create_rest(rest)
    # %20, not requests' "+": the transcoder keeps "+" as is in query strings.
    response = rest.delete(f"/v1/users/{created['id']}?reason=Customer%20request")
    gone = envelope.success(response)["user"]
    assert response.json()["message"] == "User deactivated successfully"
    assert gone["status"] == "INACTIVE"
    assert {k: v for k, v in gone.items() if k not in ("status", "updatedAt")} == {
        k: v for k, v in created.items() if k not in ("status", "updatedAt")
    }
    stored = users.stored_user(stack, created["id"])
    assert stored["status"] == "INACTIVE" and stored["deactivated_at"] is not None

    again = envelope.success(rest.delete(f"/backoffice/v1/users/{created['id']}"))["user"]
    assert again == gone
    events = users.outbox_events(stack, created["id"], "user.updated")
    assert len(events) == 1
    assert events[0]["data"]["changed_fields"] == ["status"]
    assert events[0]["data"]["status"] == "INACTIVE"
    reasons = users.db_rows(
        stack, "SELECT reason FROM user_deactivations WHERE user_id = %s", (created["id"],)
    )
    assert reasons == [("Customer request",)]
    # Nothing is erased: the user is still there, and an ADMIN can reactivate.
    assert envelope.success(rest.get(f"/v1/users/{created['id']}"))["user"] == gone
    back = envelope.success(rest.put(f"/v1/users/{created['id']}", json={"status": "ACTIVE"}))
    assert back["user"]["status"] == "ACTIVE"
    assert users.stored_user(stack, created["id"])["deactivated_at"] is None


def test_deactivate_grpc_and_errors(rest: Rest, grpc_channel: grpc.Channel) -> None:
    created = users.create_grpc(grpc_channel)
    reply = users.stub(grpc_channel).DeleteUser(
        pb.DeleteUserRequest(user_id=created.id), timeout=30
    )
    assert reply.user.status == STATUS.INACTIVE
    envelope.error(rest.delete("/v1/users/usr_doesnotexist000000"), 404, "NOT_FOUND")
    with pytest.raises(grpc.RpcError) as caught:
        users.stub(grpc_channel).DeleteUser(
            pb.DeleteUserRequest(user_id="usr_doesnotexist000000"), timeout=30
        )
    envelope.grpc_error(caught.value, grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    other = users.create_rest(rest)
    response = rest.delete(f"/v1/users/{other['id']}", params={"reason": "r" * 501})
    envelope.error(response, 422, "VALIDATION_ERROR", "reason")
    assert envelope.success(rest.get(f"/v1/users/{other['id']}"))["user"]["status"] == "ACTIVE"


# -- Password resets --------------------------------------------------------------------------
def _request_reset(rest: Rest, email: str) -> dict[str, Any]:
    response = rest.post("/v1/password-resets", json={"email": email})
    return envelope.success(response, 202)


def _confirm(rest: Rest, token: str, password: str) -> Any:
    return rest.post("/v1/password-resets:confirm", json={"token": token, "newPassword": password})


def test_password_reset_flow(rest: Rest, stack: Stack) -> None:
    created = users.create_rest(rest)
    ticket = _request_reset(rest, f" {created['email'].upper()} ")
    assert ticket["resetToken"]
    clock = envelope.success(rest.get("/v1/sandbox/clock"))["clock"]["now"]
    lifetime = _parse_time(ticket["resetTokenExpiresAt"]) - _parse_time(clock)
    assert timedelta(minutes=29) < lifetime <= timedelta(minutes=30)

    response = _confirm(rest, ticket["resetToken"], users.OTHER_PASSWORD)
    assert envelope.success(response) == {}
    assert users.OTHER_PASSWORD not in response.text
    stored = users.stored_user(stack, created["id"])["password_hash"]
    assert PasswordHasher().verify(stored, users.OTHER_PASSWORD)
    events = users.outbox_events(stack, created["id"], "user.updated")
    assert events[-1]["data"]["changed_fields"] == ["password"]
    assert users.OTHER_PASSWORD not in users.raw_outbox_payloads(stack, created["id"])
    # Single use.
    again = _confirm(rest, ticket["resetToken"], "Another-Fine-Pass-1")
    envelope.error(again, 422, "VALIDATION_ERROR", "token")


def test_password_reset_does_not_reveal_unknown_emails(rest: Rest) -> None:
    known = users.create_rest(rest)
    unknown = _request_reset(rest, users.unique_email("nobody"))
    assert unknown == {}
    known_response = rest.post("/v1/password-resets", json={"email": known["email"]})
    unknown_response = rest.post("/v1/password-resets", json={"email": "x" + known["email"]})
    assert known_response.status_code == unknown_response.status_code == 202
    assert known_response.json()["message"] == unknown_response.json()["message"]
    envelope.error(
        rest.post("/v1/password-resets", json={"email": "not-an-email"}),
        422,
        "VALIDATION_ERROR",
        "email",
    )


@pytest.mark.parametrize("token", ["", "no-such-token", "t" * 201])
def test_confirm_with_bad_token(rest: Rest, grpc_channel: grpc.Channel, token: str) -> None:
    envelope.error(_confirm(rest, token, users.OTHER_PASSWORD), 422, "VALIDATION_ERROR", "token")
    with pytest.raises(grpc.RpcError) as caught:
        users.stub(grpc_channel).ConfirmPasswordReset(
            pb.ConfirmPasswordResetRequest(token=token, new_password=users.OTHER_PASSWORD),
            timeout=30,
        )
    info = envelope.grpc_error(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR")
    assert info.metadata["field"] == "token"


def test_weak_new_password_keeps_the_token(rest: Rest) -> None:
    created = users.create_rest(rest)
    token = _request_reset(rest, created["email"])["resetToken"]
    for weak in ("short", "password1234", created["email"].partition("@")[0] + "-and-more"):
        response = _confirm(rest, token, weak)
        envelope.error(response, 422, "VALIDATION_ERROR", "newPassword")
        assert weak not in response.text
    envelope.success(_confirm(rest, token, users.OTHER_PASSWORD))


def test_a_new_reset_supersedes_the_old_one(rest: Rest) -> None:
    created = users.create_rest(rest)
    first = _request_reset(rest, created["email"])["resetToken"]
    second = _request_reset(rest, created["email"])["resetToken"]
    assert first != second
    envelope.error(_confirm(rest, first, users.OTHER_PASSWORD), 422, "VALIDATION_ERROR", "token")
    envelope.success(_confirm(rest, second, users.OTHER_PASSWORD))


def test_expired_reset_token_is_refused(rest: Rest, stack: Stack) -> None:
    created = users.create_rest(rest)
    token = _request_reset(rest, created["email"])["resetToken"]
    users.expire_reset_token(stack, token)
    envelope.error(_confirm(rest, token, users.OTHER_PASSWORD), 422, "VALIDATION_ERROR", "token")


def test_reset_unlocks_a_locked_user(rest: Rest, grpc_channel: grpc.Channel) -> None:
    created = users.create_rest(rest)
    envelope.success(rest.put(f"/v1/users/{created['id']}", json={"status": "LOCKED"}))
    reply = users.stub(grpc_channel).RequestPasswordReset(
        pb.RequestPasswordResetRequest(email=created["email"]), timeout=30
    )
    assert reply.reset_token and reply.reset_token_expires_at.seconds > 0
    users.stub(grpc_channel).ConfirmPasswordReset(
        pb.ConfirmPasswordResetRequest(token=reply.reset_token, new_password=users.OTHER_PASSWORD),
        timeout=30,
    )
    assert envelope.success(rest.get(f"/v1/users/{created['id']}"))["user"]["status"] == "ACTIVE"


def test_inactive_users_cannot_reset(rest: Rest) -> None:
    created = users.create_rest(rest)
    token = _request_reset(rest, created["email"])["resetToken"]
    envelope.success(rest.delete(f"/v1/users/{created['id']}"))
    envelope.error(_confirm(rest, token, users.OTHER_PASSWORD), 422, "VALIDATION_ERROR", "token")
    assert _request_reset(rest, created["email"]) == {}


@pytest.fixture(scope="module")
def production_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack in production mode (SQLite, no sandbox data), for this module only."""
    tmp = tmp_path_factory.mktemp("stack-production")
    with started(stack_settings(tmp, mode="production")) as stack:
        yield stack


def test_production_never_returns_the_reset_token(production_stack: Stack) -> None:
    client = create_client(production_stack.settings)
    with grpc.insecure_channel(production_stack.grpc_target) as raw:
        token = token_over_grpc(raw, client)
        channel = authenticated(raw, token)
        user = users.create_grpc(channel)
        stub = users.stub(channel)
        known = stub.RequestPasswordReset(
            pb.RequestPasswordResetRequest(email=user.email), timeout=30
        )
        unknown = stub.RequestPasswordReset(
            pb.RequestPasswordResetRequest(email=users.unique_email("nobody")), timeout=30
        )
    assert known == unknown == pb.RequestPasswordResetResponse()
    # The token exists (for the email that is not sent yet); it is just not shown.
    rows = users.db_rows(
        production_stack,
        "SELECT COUNT(*) FROM password_reset_tokens WHERE user_id = %s",
        (user.id,),
    )
    assert rows[0][0] == 1
    response = requests.post(
        production_stack.http_url + "/v1/password-resets",
        json={"email": user.email},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert envelope.success(response, 202) == {}
