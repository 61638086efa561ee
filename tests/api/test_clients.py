"""ClientService end to end: API clients and API keys, REST through Envoy and gRPC.

Every client made here is new (unique name); the sandbox clients are only
used as callers, and the calls that would change them are the refused ones.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import grpc
import pytest
import requests

from backoffice.v1 import auth_pb2
from backoffice.v1 import auth_service_pb2 as pb
from backoffice.v1 import auth_service_pb2_grpc as pb_grpc
from server.domain.requests import camel
from server.run import Stack
from tests.common import envelope, oauth
from tests.common.auth import LIMITED_CLIENT, SANDBOX_CLIENT, token_over_rest
from tests.conftest import Rest

TIMEOUT = 30
CLIENT_ID_RE = re.compile(r"^cli_[A-Za-z0-9]{20}$")
API_KEY_RE = re.compile(r"^bko_[A-Za-z0-9]{40}$")
GRANT = auth_pb2.GrantTypeEnum
STATUS = auth_pb2.ClientStatusEnum
SLOT = auth_pb2.ApiKeySlotEnum
KEY_STATUS = auth_pb2.ApiKeyStatusEnum


def _tag() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Test app {_tag()}",
        "scopes": ["banking.read", "banking.write"],
        "grantTypes": ["CLIENT_CREDENTIALS"],
    }
    body.update(overrides)
    return body


def _create(rest: Rest, **overrides: Any) -> dict[str, Any]:
    data = envelope.success(rest.post("/v1/clients", json=_body(**overrides)), 201)
    return data["client"]  # type: ignore[no-any-return]


def _stub(channel: grpc.Channel) -> pb_grpc.ClientServiceStub:
    return pb_grpc.ClientServiceStub(channel)


def _token(stack: Stack, client: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{stack.http_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["clientId"], client["clientSecret"]),
        timeout=TIMEOUT,
    )


def _with_key(stack: Stack, key: str) -> requests.Response:
    return requests.get(
        f"{stack.http_url}/v1/accounts", headers={"X-API-Key": key}, timeout=TIMEOUT
    )


def _with_token(stack: Stack, token: str) -> requests.Response:
    return requests.get(
        f"{stack.http_url}/v1/accounts", headers=oauth.bearer(token), timeout=TIMEOUT
    )


def _unauthorized(response: requests.Response) -> None:
    envelope.error(response, 401, "UNAUTHORIZED")
    assert "WWW-Authenticate" in response.headers


# -- CreateClient / GetClient ----------------------------------------------------------
def test_create_client_shows_the_secret_once(stack: Stack, rest: Rest) -> None:
    client = _create(rest, description="Payroll integration")
    assert CLIENT_ID_RE.match(client["clientId"])
    assert re.match(r"^[A-Za-z0-9_-]{43}$", client["clientSecret"])
    assert client["clientType"] == "CONFIDENTIAL"
    assert client["status"] == "ACTIVE"
    assert client["grantTypes"] == ["CLIENT_CREDENTIALS"]
    assert client["rateLimits"] == {
        "readPerHour": 1000,
        "writePerHour": 100,
        "accountCreatePerMinute": 10,
        "passwordResetPerMinute": 5,
    }
    assert client["createdAt"].endswith("Z") and "lastUsedAt" not in client
    read = envelope.success(rest.get(f"/v1/clients/{client['clientId']}"))["client"]
    assert "clientSecret" not in read
    assert read["description"] == "Payroll integration"
    # The secret works, and the client's use is recorded.
    response = _token(stack, client)
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    envelope.success(_with_token(stack, response.json()["access_token"]))
    read = envelope.success(rest.get(f"/v1/clients/{client['clientId']}"))["client"]
    assert read["lastUsedAt"].endswith("Z")


def test_create_client_over_grpc(grpc_channel: grpc.Channel) -> None:
    reply = _stub(grpc_channel).CreateClient(
        pb.CreateClientRequest(
            name=f"gRPC app {_tag()}",
            scopes=["banking.read"],
            grant_types=[GRANT.AUTHORIZATION_CODE, GRANT.REFRESH_TOKEN],
            redirect_uris=["https://app.example.com/cb", "http://127.0.0.1:9000/cb"],
            rate_limits=auth_pb2.RateLimits(read_per_hour=5000),
            ip_allowlist=["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"],
            require_request_signing=True,
        ),
        timeout=TIMEOUT,
    )
    client = reply.client
    assert client.client_secret
    assert list(client.grant_types) == [GRANT.AUTHORIZATION_CODE, GRANT.REFRESH_TOKEN]
    assert client.rate_limits.read_per_hour == 5000
    assert client.rate_limits.write_per_hour == 100
    assert list(client.ip_allowlist) == ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"]
    assert client.require_request_signing
    read = _stub(grpc_channel).GetClient(
        pb.GetClientRequest(client_id=client.client_id), timeout=TIMEOUT
    )
    assert read.client.client_secret == ""
    assert read.client.name == client.name


def test_public_client_uses_pkce_without_secret(stack: Stack, rest: Rest) -> None:
    client = _create(
        rest,
        clientType="PUBLIC",
        grantTypes=["AUTHORIZATION_CODE", "REFRESH_TOKEN"],
        redirectUris=[oauth.REDIRECT_URI],
    )
    assert "clientSecret" not in client
    assert client["clientType"] == "PUBLIC"
    # PKCE is required for it.
    no_pkce = oauth.authorize_params(client_id=client["clientId"], scope="banking.read")
    query = oauth.redirect_query(oauth.consent_page(stack.http_url, no_pkce))
    assert query["error"] == "invalid_request"
    verifier, challenge = oauth.pkce_pair()
    params = oauth.authorize_params(challenge, client_id=client["clientId"], scope="banking.read")
    code = oauth.redirect_query(oauth.sign_in(stack.http_url, params))["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": oauth.REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": client["clientId"],
    }
    tokens = requests.post(f"{stack.http_url}/oauth/token", data=form, timeout=TIMEOUT)
    assert tokens.status_code == 200, tokens.text
    envelope.success(_with_token(stack, tokens.json()["access_token"]))
    # It cannot use client credentials, nor present a secret.
    cc = requests.post(
        f"{stack.http_url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client["clientId"]},
        timeout=TIMEOUT,
    )
    assert cc.status_code == 400 and cc.json()["error"] == "unauthorized_client"
    with_secret = requests.post(
        f"{stack.http_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["clientId"], "made-up"),
        timeout=TIMEOUT,
    )
    assert with_secret.status_code == 401 and with_secret.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"description": "x" * 501}, "description"),
        ({"scopes": []}, "scopes"),
        ({"scopes": ["banking.everything"]}, "scopes"),
        ({"grantTypes": []}, "grant_types"),
        ({"clientType": "PUBLIC"}, "grant_types"),  # PUBLIC cannot use CLIENT_CREDENTIALS
        ({"grantTypes": ["AUTHORIZATION_CODE"]}, "redirect_uris"),
        ({"redirectUris": ["https://app.example.com/cb"]}, "redirect_uris"),
        (
            {"grantTypes": ["AUTHORIZATION_CODE"], "redirectUris": ["http://app.example.com/cb"]},
            "redirect_uris",
        ),
        (
            {"grantTypes": ["AUTHORIZATION_CODE"], "redirectUris": ["https://a.example/cb#x"]},
            "redirect_uris",
        ),
        ({"grantTypes": ["AUTHORIZATION_CODE"], "redirectUris": ["/relative"]}, "redirect_uris"),
        (
            {
                "grantTypes": ["AUTHORIZATION_CODE"],
                "redirectUris": [f"https://a.example/{n}" for n in range(11)],
            },
            "redirect_uris",
        ),
        ({"ipAllowlist": ["10.0.0.1/8"]}, "ip_allowlist"),
        ({"ipAllowlist": ["not-an-ip"]}, "ip_allowlist"),
        ({"ipAllowlist": [f"10.0.{n}.0/24" for n in range(51)]}, "ip_allowlist"),
        ({"rateLimits": {"readPerHour": 10_000_001}}, "rate_limits.read_per_hour"),
        ({"rateLimits": {"writePerHour": -1}}, "rate_limits.write_per_hour"),
    ],
)
def test_create_client_validation(
    rest: Rest, grpc_channel: grpc.Channel, overrides: dict[str, Any], field: str
) -> None:
    name = f"Invalid {_tag()}"
    body = _body(name=name)
    body.update(overrides)
    # REST names the JSON key (lowerCamelCase here); gRPC the proto field.
    envelope.error(rest.post("/v1/clients", json=body), 422, "VALIDATION_ERROR", camel(field))
    # Nothing was written.
    listed = envelope.success(rest.get("/v1/clients", params={"search": name}))
    assert listed["clients"] == []


def test_unknown_client_is_404(rest: Rest, grpc_channel: grpc.Channel) -> None:
    envelope.error(rest.get("/v1/clients/cli_nosuchclient0000000"), 404, "NOT_FOUND", "clientId")
    with pytest.raises(grpc.RpcError) as caught:
        _stub(grpc_channel).GetClient(pb.GetClientRequest(client_id="cli_x"), timeout=TIMEOUT)
    envelope.grpc_error(caught.value, grpc.StatusCode.NOT_FOUND, "NOT_FOUND")


# -- ListClients -----------------------------------------------------------------------
def test_list_clients_search_status_and_paging(rest: Rest) -> None:
    tag = _tag()
    made = [_create(rest, name=f"List {tag} {n}") for n in range(3)]
    found = envelope.success(rest.get("/v1/clients", params={"search": tag.upper()}))
    assert [c["clientId"] for c in found["clients"]] == [c["clientId"] for c in reversed(made)]
    assert all("clientSecret" not in c for c in found["clients"])
    assert found["pagination"]["totalCount"] == 3
    first = envelope.success(rest.get("/v1/clients", params={"search": tag, "limit": 2}))
    token = first["pagination"].get("nextPageToken", "")
    assert len(first["clients"]) == 2 and token
    rest_page = envelope.success(
        rest.get("/v1/clients", params={"search": tag, "limit": 2, "pageToken": token})
    )
    assert [c["clientId"] for c in rest_page["clients"]] == [made[0]["clientId"]]
    envelope.success(rest.patch(f"/v1/clients/{made[1]['clientId']}", json={"status": "DISABLED"}))
    disabled = envelope.success(
        rest.get("/v1/clients", params={"search": tag, "status": "DISABLED"})
    )
    assert [c["clientId"] for c in disabled["clients"]] == [made[1]["clientId"]]
    by_id = envelope.success(rest.get("/v1/clients", params={"search": made[2]["clientId"]}))
    assert [c["clientId"] for c in by_id["clients"]] == [made[2]["clientId"]]
    envelope.error(
        rest.get("/v1/clients", params={"search": "x" * 101}), 422, "VALIDATION_ERROR", "search"
    )


# -- UpdateClient ----------------------------------------------------------------------
def test_update_client_fields(rest: Rest) -> None:
    client = _create(rest, ipAllowlist=["203.0.113.0/24"])
    path = f"/v1/clients/{client['clientId']}"
    updated = envelope.success(
        rest.patch(
            path,
            json={
                "name": "Renamed app",
                "description": "now described",
                "rateLimits": {"writePerHour": 250},
                "requireRequestSigning": True,
                "grantTypes": ["CLIENT_CREDENTIALS", "AUTHORIZATION_CODE"],
                "redirectUris": ["https://renamed.example/cb"],
            },
        )
    )["client"]
    assert updated["name"] == "Renamed app"
    assert updated["description"] == "now described"
    assert updated["rateLimits"]["writePerHour"] == 250
    assert updated["rateLimits"]["readPerHour"] == 1000  # zero keeps it
    assert updated["requireRequestSigning"] is True
    assert updated["ipAllowlist"] == ["203.0.113.0/24"]  # absent list: unchanged
    assert updated["redirectUris"] == ["https://renamed.example/cb"]
    assert updated["updatedAt"] >= client["updatedAt"]
    cleared = envelope.success(rest.patch(path, json={"clearIpAllowlist": True}))["client"]
    assert cleared["ipAllowlist"] == []
    envelope.error(
        rest.patch(path, json={"clearIpAllowlist": True, "ipAllowlist": ["10.0.0.0/8"]}),
        422,
        "VALIDATION_ERROR",
        "clearIpAllowlist",
    )
    envelope.error(rest.patch(path, json={"ipAllowlist": ["300.1.1.1"]}), 422, "VALIDATION_ERROR")
    envelope.error(rest.patch(path, json={"scopes": ["nope"]}), 422, "VALIDATION_ERROR", "scopes")
    # The refused changes left the client as it was.
    read = envelope.success(rest.get(path))["client"]
    assert read["ipAllowlist"] == [] and read["scopes"] == ["banking.read", "banking.write"]


def test_a_client_cannot_lock_itself_out(rest: Rest, grpc_channel: grpc.Channel) -> None:
    path = f"/v1/clients/{SANDBOX_CLIENT[0]}"
    envelope.error(rest.patch(path, json={"status": "DISABLED"}), 409, "CONFLICT", "status")
    envelope.error(rest.patch(path, json={"scopes": ["banking.read"]}), 409, "CONFLICT", "scopes")
    with pytest.raises(grpc.RpcError) as caught:
        _stub(grpc_channel).UpdateClient(
            pb.UpdateClientRequest(client_id=SANDBOX_CLIENT[0], status=STATUS.DISABLED),
            timeout=TIMEOUT,
        )
    envelope.grpc_error(caught.value, grpc.StatusCode.FAILED_PRECONDITION, "CONFLICT")
    read = envelope.success(rest.get(path))["client"]
    assert read["status"] == "ACTIVE" and "backoffice.admin" in read["scopes"]


def test_disabling_a_client_revokes_its_tokens_and_keys(stack: Stack, rest: Rest) -> None:
    client = _create(rest)
    path = f"/v1/clients/{client['clientId']}"
    token = _token(stack, client).json()["access_token"]
    key = envelope.success(rest.post(f"{path}/api-keys", json={}), 201)["apiKey"]["key"]
    envelope.success(_with_token(stack, token))
    envelope.success(_with_key(stack, key))
    disabled = envelope.success(rest.patch(path, json={"status": "DISABLED"}))["client"]
    assert disabled["status"] == "DISABLED"
    _unauthorized(_with_token(stack, token))
    _unauthorized(_with_key(stack, key))
    refused = _token(stack, client)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    envelope.success(rest.patch(path, json={"status": "ACTIVE"}))
    # Enabled again: new tokens and the key work; the old token stays dead.
    envelope.success(_with_token(stack, _token(stack, client).json()["access_token"]))
    envelope.success(_with_key(stack, key))
    _unauthorized(_with_token(stack, token))


def test_taking_a_scope_away_revokes_live_tokens(stack: Stack, rest: Rest) -> None:
    client = _create(rest)
    token = _token(stack, client).json()["access_token"]
    path = f"/v1/clients/{client['clientId']}"
    # Widening revokes nothing...
    envelope.success(
        rest.patch(path, json={"scopes": ["banking.read", "banking.write", "backoffice.admin"]})
    )
    envelope.success(_with_token(stack, token))
    # ...narrowing does.
    envelope.success(rest.patch(path, json={"scopes": ["banking.read"]}))
    _unauthorized(_with_token(stack, token))
    fresh = _token(stack, client).json()
    assert fresh["scope"] == "banking.read"


def test_only_administrators_may_manage_clients(stack: Stack, rest: Rest) -> None:
    operations = token_over_rest(stack.http_url, LIMITED_CLIENT)["access_token"]
    no_admin_scope = token_over_rest(stack.http_url, scope="banking.read")["access_token"]
    customer = oauth.user_tokens(stack.http_url, oauth.ALICE)["access_token"]
    staff_without_scope = oauth.user_tokens(stack.http_url, oauth.ADMIN, scope="banking.read")[
        "access_token"
    ]
    for token in (operations, no_admin_scope, customer, staff_without_scope):
        headers = oauth.bearer(token)
        listed = requests.get(f"{stack.http_url}/v1/clients", headers=headers, timeout=TIMEOUT)
        envelope.error(listed, 403, "FORBIDDEN")
        made = requests.post(
            f"{stack.http_url}/v1/clients", json=_body(), headers=headers, timeout=TIMEOUT
        )
        envelope.error(made, 403, "FORBIDDEN")
    # An ADMIN user with backoffice.admin may.
    admin = oauth.user_tokens(stack.http_url, oauth.ADMIN, scope="backoffice.admin")
    envelope.success(
        requests.get(
            f"{stack.http_url}/v1/clients",
            headers=oauth.bearer(admin["access_token"]),
            timeout=TIMEOUT,
        )
    )


# -- API keys --------------------------------------------------------------------------
def _key(rest: Rest, client_id: str, **body: Any) -> dict[str, Any]:
    response = rest.post(f"/v1/clients/{client_id}/api-keys", json=body)
    return envelope.success(response, 201)["apiKey"]  # type: ignore[no-any-return]


def test_api_keys_create_list_and_authenticate(stack: Stack, rest: Rest) -> None:
    client = _create(rest)
    cid = client["clientId"]
    primary = _key(rest, cid, description="daily")
    assert API_KEY_RE.match(primary["key"])
    assert primary["prefix"] == primary["key"][:8]
    assert primary["last4"] == primary["key"][-4:]
    assert primary["slot"] == "PRIMARY" and primary["status"] == "ACTIVE"
    assert primary["id"].startswith("key_")
    envelope.success(_with_key(stack, primary["key"]))
    secondary = _key(rest, cid)  # PRIMARY is taken: SECONDARY
    assert secondary["slot"] == "SECONDARY"
    envelope.error(rest.post(f"/v1/clients/{cid}/api-keys", json={}), 409, "CONFLICT", "slot")
    envelope.error(
        rest.post(f"/v1/clients/{cid}/api-keys", json={"slot": "PRIMARY"}), 409, "CONFLICT"
    )
    listed = envelope.success(rest.get(f"/v1/clients/{cid}/api-keys"))["apiKeys"]
    assert [k["id"] for k in listed] == [secondary["id"], primary["id"]]
    assert all("key" not in k for k in listed)
    assert primary["key"] not in rest.get(f"/v1/clients/{cid}/api-keys").text
    used = next(k for k in listed if k["id"] == primary["id"])
    assert used["lastUsedAt"].endswith("Z")
    envelope.error(
        rest.post("/v1/clients/cli_nosuchclient0000000/api-keys", json={}), 404, "NOT_FOUND"
    )
    envelope.error(
        rest.post(f"/v1/clients/{cid}/api-keys", json={"description": "x" * 201}),
        422,
        "VALIDATION_ERROR",
        "description",
    )


def test_api_key_slot_taken_over_grpc(grpc_channel: grpc.Channel, rest: Rest) -> None:
    cid = _create(rest)["clientId"]
    stub = _stub(grpc_channel)
    stub.CreateApiKey(pb.CreateApiKeyRequest(client_id=cid, slot=SLOT.SECONDARY), timeout=TIMEOUT)
    with pytest.raises(grpc.RpcError) as caught:
        stub.CreateApiKey(
            pb.CreateApiKeyRequest(client_id=cid, slot=SLOT.SECONDARY), timeout=TIMEOUT
        )
    envelope.grpc_error(caught.value, grpc.StatusCode.ALREADY_EXISTS, "CONFLICT")


def test_rotate_needs_a_secondary_key(rest: Rest, grpc_channel: grpc.Channel) -> None:
    cid = _create(rest)["clientId"]
    _key(rest, cid)
    envelope.error(rest.post(f"/v1/clients/{cid}/api-keys:rotate", json={}), 409, "CONFLICT")
    with pytest.raises(grpc.RpcError) as caught:
        _stub(grpc_channel).RotateApiKeys(pb.RotateApiKeysRequest(client_id=cid), timeout=TIMEOUT)
    envelope.grpc_error(caught.value, grpc.StatusCode.FAILED_PRECONDITION, "CONFLICT")


def test_rotation_promotes_the_secondary_and_revokes_the_primary(stack: Stack, rest: Rest) -> None:
    cid = _create(rest)["clientId"]
    old_primary = _key(rest, cid)
    standby = _key(rest, cid)
    rotated = envelope.success(
        rest.post(f"/v1/clients/{cid}/api-keys:rotate", json={"description": "next"})
    )
    assert rotated["primary"]["id"] == standby["id"]
    assert rotated["primary"]["slot"] == "PRIMARY" and "key" not in rotated["primary"]
    assert rotated["revoked"]["id"] == old_primary["id"]
    assert rotated["revoked"]["status"] == "REVOKED"
    assert "slot" not in rotated["revoked"]
    assert rotated["revoked"]["revokedAt"].endswith("Z")
    new = rotated["secondary"]
    assert new["slot"] == "SECONDARY" and API_KEY_RE.match(new["key"])
    assert new["description"] == "next"
    _unauthorized(_with_key(stack, old_primary["key"]))
    envelope.success(_with_key(stack, standby["key"]))
    envelope.success(_with_key(stack, new["key"]))
    active = envelope.success(rest.get(f"/v1/clients/{cid}/api-keys"))["apiKeys"]
    assert {k["id"] for k in active} == {standby["id"], new["id"]}
    everything = envelope.success(
        rest.get(f"/v1/clients/{cid}/api-keys", params={"includeRevoked": "true"})
    )["apiKeys"]
    assert {k["id"] for k in everything} == {standby["id"], new["id"], old_primary["id"]}


def test_rotation_without_primary_simply_promotes(grpc_channel: grpc.Channel, rest: Rest) -> None:
    cid = _create(rest)["clientId"]
    stub = _stub(grpc_channel)
    standby = stub.CreateApiKey(
        pb.CreateApiKeyRequest(client_id=cid, slot=SLOT.SECONDARY), timeout=TIMEOUT
    ).api_key
    rotated = stub.RotateApiKeys(pb.RotateApiKeysRequest(client_id=cid), timeout=TIMEOUT)
    assert rotated.primary.id == standby.id and rotated.primary.slot == SLOT.PRIMARY
    assert rotated.secondary.key and rotated.secondary.slot == SLOT.SECONDARY
    assert not rotated.HasField("revoked")


def test_revoke_api_key(stack: Stack, rest: Rest) -> None:
    cid = _create(rest)["clientId"]
    key = _key(rest, cid)
    envelope.success(_with_key(stack, key["key"]))
    revoked = envelope.success(rest.delete(f"/v1/clients/{cid}/api-keys/{key['id']}"))["apiKey"]
    assert revoked["status"] == "REVOKED" and "key" not in revoked
    _unauthorized(_with_key(stack, key["key"]))
    again = envelope.success(rest.delete(f"/v1/clients/{cid}/api-keys/{key['id']}"))["apiKey"]
    assert again == revoked
    # The slot is free again.
    assert _key(rest, cid, slot="PRIMARY")["slot"] == "PRIMARY"
    envelope.error(
        rest.delete(f"/v1/clients/{cid}/api-keys/key_nosuchkey"), 404, "NOT_FOUND", "apiKeyId"
    )
    other = _create(rest)["clientId"]
    envelope.error(rest.delete(f"/v1/clients/{other}/api-keys/{key['id']}"), 404, "NOT_FOUND")


def test_unknown_api_key_is_401(stack: Stack) -> None:
    _unauthorized(_with_key(stack, "bko_" + "A" * 40))
    _unauthorized(_with_key(stack, "garbage"))
