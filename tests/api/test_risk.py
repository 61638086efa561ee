"""Fraud screening end to end (risk.proto): the sandbox's defaults, each rule
kind, DECLINE (422 RISK_DECLINED, nothing moved), REVIEW (202
PENDING_REVIEW, funds reserved) and its approval or rejection, exactly once.

Customers are fresh users with their own tokens (never trusted); `rest` and
`grpc_channel` are the sandbox client, which the sandbox trusts.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from backoffice.v1 import risk_service_pb2 as risk_pb
from backoffice.v1 import risk_service_pb2_grpc as risk_grpc
from backoffice.v1 import transaction_service_pb2 as tx_pb
from backoffice.v1 import transaction_service_pb2_grpc as tx_grpc
from server.domain import risk
from server.run import Stack
from tests.common import envelope
from tests.common.auth import token_over_rest
from tests.common.money import BOB, open_account
from tests.common.risk import (
    allowed,
    balances,
    changed,
    decisions,
    default_rule_id,
    new_scene,
    rule,
    send,
)
from tests.conftest import Rest

VELOCITY = default_rule_id(risk.VELOCITY_COUNT)
NEW_PAYEE = default_rule_id(risk.NEW_PAYEE_AMOUNT)


def test_the_sandbox_loads_the_default_rules(rest: Rest, grpc_channel: grpc.Channel) -> None:
    listed = envelope.success(rest.get("/v1/risk/rules"))["rules"]
    by_id = {found["id"]: found for found in listed}
    velocity = by_id[VELOCITY]
    assert velocity["kind"] == "VELOCITY_COUNT" and velocity["action"] == "DECLINE"
    assert velocity["windowSeconds"] == 60 and velocity["maxCount"] == 20
    assert velocity["enabled"] is True
    kinds = {found["kind"] for found in listed if found["id"] == default_rule_id(found["kind"])}
    assert kinds == set(risk.KINDS)
    # Loaded off: step-up verification already waits for large payments of a person.
    assert not by_id[default_rule_id(risk.NEW_PAYEE_AMOUNT)]["enabled"]
    reply = risk_grpc.RiskServiceStub(grpc_channel).ListRiskRules(risk_pb.ListRiskRulesRequest())
    assert VELOCITY in {found.id for found in reply.rules}


def test_25_transfers_within_a_minute_are_caught(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with new_scene(stack, raw_channel, rest) as scene:
        answers = [send(scene.customer.rest, scene.account, scene.payee, 1) for _ in range(25)]
        assert [answer.status_code for answer in answers] == [201] * 20 + [422] * 5
        refusal = envelope.error(answers[-1], 422, "RISK_DECLINED")
        assert refusal["message"] == "Declined by fraud screening"  # no rule named
        assert balances(rest, scene.payee)[0] == 20
        assert decisions(stack, scene.account) == [("DECLINE", VELOCITY)] * 5
        assert allowed(stack, scene.account) == 20


def test_25_concurrent_transfers_are_counted_one_by_one(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with new_scene(stack, raw_channel, rest) as scene:
        stub = tx_grpc.TransactionServiceStub(scene.customer.channel)
        start = threading.Barrier(25)

        def one(_: int) -> str:
            request = tx_pb.CreateTransferRequest(
                from_account_id=scene.account, to_account_id=scene.payee, amount=2
            )
            start.wait()
            try:
                stub.CreateTransfer(request, timeout=60)
            except grpc.RpcError as error:
                return _reason(error)
            return "OK"

        with ThreadPoolExecutor(25) as pool:
            outcomes = list(pool.map(one, range(25)))
        assert sorted(outcomes) == ["OK"] * 20 + ["RISK_DECLINED"] * 5
        assert balances(rest, scene.payee)[0] == 40
        assert decisions(stack, scene.account) == [("DECLINE", VELOCITY)] * 5
        assert allowed(stack, scene.account) == 20


def test_a_batch_is_screened_item_by_item(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with new_scene(stack, raw_channel, rest) as scene:
        body = {
            "requests": [
                {"fromAccountId": scene.account, "toAccountId": scene.payee, "amount": 1}
                for _ in range(25)
            ]
        }
        response = scene.customer.rest.post("/v1/transactions/transfers:batchCreate", json=body)
        results = envelope.success(response)["results"]
        codes = [item.get("error", {}).get("code", "OK") for item in results]
        assert codes == ["OK"] * 20 + ["RISK_DECLINED"] * 5
        assert balances(rest, scene.payee)[0] == 20


def test_a_trusted_client_skips_velocity_and_reviews_not_declines_on_amount(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    trust = envelope.success(rest.get("/v1/risk/clients/sandbox-client"))
    assert trust == {"clientId": "sandbox-client", "trusted": True}
    with new_scene(stack, raw_channel, rest) as scene:
        answers = [send(rest, scene.account, scene.payee, 1) for _ in range(25)]
        assert {answer.status_code for answer in answers} == {201}
        # A REVIEW rule on a new payee does not hold its work...
        with changed(rest, default_rule_id(risk.NEW_PAYEE_AMOUNT), enabled=True):
            envelope.success(send(rest, scene.account, open_account(rest, owner=BOB), 3_500), 201)
        # ...a DECLINE rule on the amount applies to it too.
        with rule(rest, kind="NEW_PAYEE_AMOUNT", action="DECLINE", amount=3_000) as made:
            refused = send(rest, scene.account, open_account(rest, owner=BOB), 3_500)
            envelope.error(refused, 422, "RISK_DECLINED")
        assert decisions(stack, scene.account)[-1] == ("DECLINE", made["id"])


def test_an_untrusted_client_is_screened_and_trust_is_set_by_staff(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    made = envelope.success(
        rest.post(
            "/v1/clients",
            json={
                "name": "Risk batch app",
                "scopes": ["banking.read", "banking.write"],
                "grantTypes": ["CLIENT_CREDENTIALS"],
            },
        ),
        201,
    )["client"]
    client = (made["clientId"], made["clientSecret"])
    token = token_over_rest(stack.http_url, client)["access_token"]
    with new_scene(stack, raw_channel, rest) as scene, Rest(stack.http_url) as app:
        app.headers["Authorization"] = f"Bearer {token}"
        codes = [send(app, scene.account, scene.payee, 1).status_code for _ in range(21)]
        assert codes == [201] * 20 + [422]
        envelope.success(
            rest.post(f"/v1/risk/clients/{client[0]}:setTrust", json={"trusted": True})
        )
        assert envelope.success(send(app, scene.account, scene.payee, 1), 201)
        stub = risk_grpc.RiskServiceStub(raw_channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetClientTrust(
                risk_pb.GetClientTrustRequest(client_id=client[0]),
                metadata=[("authorization", f"Bearer {token}")],
            )
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    envelope.error(
        rest.post("/v1/risk/clients/cli_nosuchclient0000000:setTrust", json={"trusted": True}),
        404,
        "NOT_FOUND",
    )


def _reason(error: grpc.RpcError) -> str:
    """The contract code of a gRPC error (ErrorInfo.reason)."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    return str(info.reason)
    return str(error.code())
