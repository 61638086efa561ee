"""Fraud screening's REVIEW and DECLINE, each rule kind, and the staff API's
refusals (risk.proto, risk_service.proto), over REST through Envoy and gRPC."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from backoffice.v1 import risk_pb2, transaction_pb2
from backoffice.v1 import risk_service_pb2 as risk_pb
from backoffice.v1 import risk_service_pb2_grpc as risk_grpc
from backoffice.v1 import transaction_service_pb2 as tx_pb
from backoffice.v1 import transaction_service_pb2_grpc as tx_grpc
from server.domain import risk
from server.run import Stack
from tests.common import challenges, envelope
from tests.common.money import BOB, open_account
from tests.common.risk import (
    alert_of,
    balances,
    changed,
    decisions,
    default_rule_id,
    new_scene,
    rule,
    send,
)
from tests.conftest import Rest

NEW_PAYEE = default_rule_id(risk.NEW_PAYEE_AMOUNT)
PENDING_REVIEW = transaction_pb2.TransactionStatusEnum.PENDING_REVIEW
CANCELLED = transaction_pb2.TransactionStatusEnum.CANCELLED


def _held(response: object) -> dict[str, object]:
    data = envelope.success(response, 202)  # type: ignore[arg-type]
    transaction = data["transaction"]
    assert transaction["status"] == "PENDING_REVIEW"
    return transaction  # type: ignore[no-any-return]


def test_review_holds_the_funds_and_approval_posts_once(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest, grpc_channel: grpc.Channel
) -> None:
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
    ):
        response = send(scene.customer.rest, scene.account, scene.payee, 3_500)
        assert response.json()["message"] == "Held for review"
        held = _held(response)
        assert balances(rest, scene.account) == (10_000, 6_500)
        assert balances(rest, scene.payee) == (0, 0)
        shown = envelope.success(scene.customer.rest.get(f"/v1/transactions/{held['id']}"))
        assert shown["transaction"]["status"] == "PENDING_REVIEW"
        alert = alert_of(rest, str(held["id"]))
        assert alert["status"] == "OPEN" and alert["ruleKind"] == "NEW_PAYEE_AMOUNT"
        assert alert["amount"] == 3_500 and alert["accountId"] == scene.account
        # Nothing moves before review: the reserved money cannot be spent twice.
        other = open_account(rest, owner=scene.customer.user_id or "", funded=0)
        envelope.success(send(scene.customer.rest, scene.account, other, 4_000), 201)
        envelope.error(send(scene.customer.rest, scene.account, other, 2_600), 422, "TXN001")
        envelope.success(send(scene.customer.rest, other, scene.account, 4_000), 201)

        stub = risk_grpc.RiskServiceStub(grpc_channel)
        start = threading.Barrier(6)

        def approve(index: int) -> str:
            start.wait()
            if index % 2:
                answer = rest.post(f"/v1/risk/alerts/{alert['id']}:approve", json={"note": "ok"})
                return str(answer.status_code)
            try:
                stub.ApproveRiskAlert(risk_pb.ApproveRiskAlertRequest(alert_id=alert["id"]))
            except grpc.RpcError as error:
                return str(error.code())
            return "200"

        with ThreadPoolExecutor(6) as pool:
            outcomes = sorted(pool.map(approve, range(6)))
        assert outcomes.count("200") == 1, outcomes
        assert set(outcomes) - {"200"} <= {"409", str(grpc.StatusCode.ABORTED)}, outcomes
        assert balances(rest, scene.payee) == (3_500, 3_500)
        assert balances(rest, scene.account) == (6_500, 6_500)
        decided = envelope.success(rest.get(f"/v1/risk/alerts/{alert['id']}"))["alert"]
        assert decided["status"] == "APPROVED" and decided["decidedBy"]
        shown = envelope.success(scene.customer.rest.get(f"/v1/transactions/{held['id']}"))
        assert shown["transaction"]["status"] == "COMPLETED"
        for verb in ("approve", "reject"):
            envelope.error(
                rest.post(f"/v1/risk/alerts/{alert['id']}:{verb}", json={}), 409, "CONFLICT"
            )


def test_rejection_releases_the_hold(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest, grpc_channel: grpc.Channel
) -> None:
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
    ):
        stub = tx_grpc.TransactionServiceStub(scene.customer.channel)
        reply, call = stub.CreateTransfer.with_call(
            tx_pb.CreateTransferRequest(
                from_account_id=scene.account, to_account_id=scene.payee, amount=4_000
            )
        )
        assert dict(call.initial_metadata())["x-bank-http-status"] == "202"
        assert reply.transaction.status == PENDING_REVIEW
        assert balances(rest, scene.account) == (10_000, 6_000)
        # The customer cannot cancel it: staff decide.
        held_id = reply.transaction.id
        cancel = scene.customer.rest.post(f"/v1/transactions/{held_id}/cancel", json={})
        envelope.error(cancel, 409, "TXN007")
        # Nor can staff reverse what has not posted.
        reverse = rest.post(f"/v1/transactions/{held_id}/reverse", json={"reason": "POSTING_ERROR"})
        assert reverse.status_code in {409, 422}, reverse.text
        alert = alert_of(rest, reply.transaction.id)
        rejected = risk_grpc.RiskServiceStub(grpc_channel).RejectRiskAlert(
            risk_pb.RejectRiskAlertRequest(alert_id=alert["id"], note="not the customer")
        )
        assert rejected.alert.status == risk_pb2.RiskAlertStatusEnum.REJECTED
        assert rejected.alert.note == "not the customer"
        assert rejected.transaction.status == CANCELLED
        assert balances(rest, scene.account) == (10_000, 10_000)
        assert balances(rest, scene.payee) == (0, 0)
        shown = envelope.success(
            scene.customer.rest.get(f"/v1/transactions/{alert['transactionId']}")
        )
        assert shown["transaction"]["status"] == "CANCELLED"
        assert shown["transaction"]["failureCode"] == "RISK_REJECTED"
        envelope.error(
            rest.post(f"/v1/risk/alerts/{alert['id']}:approve", json={}), 409, "CONFLICT"
        )
        listed = envelope.success(rest.get("/v1/risk/alerts", params={"status": "REJECTED"}))
        assert all(found["status"] == "REJECTED" for found in listed["alerts"])


def test_a_decline_moves_nothing_and_is_stored(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        rule(rest, kind="NEW_PAYEE_AMOUNT", action="DECLINE", score=990, amount=3_000) as made,
    ):
        key = {"Idempotency-Key": f"risk-{uuid.uuid4().hex}"}
        first = send(scene.customer.rest, scene.account, scene.payee, 3_500, **key)
        refusal = envelope.error(first, 422, "RISK_DECLINED")
        assert refusal["message"] == "Declined by fraud screening"  # no rule named
        again = send(scene.customer.rest, scene.account, scene.payee, 3_500, **key)
        envelope.error(again, 422, "RISK_DECLINED")
        # The key keeps the refusal (on PostgreSQL too, where screening runs
        # before the micro-batch claims the key).
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert balances(rest, scene.account) == (10_000, 10_000)
        assert balances(rest, scene.payee) == (0, 0)
        assert ("DECLINE", made["id"]) in decisions(stack, scene.account)
        # Below the rule's amount it does not fire.
        envelope.success(send(scene.customer.rest, scene.account, scene.payee, 100), 201)


def test_velocity_amount(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> None:
    with (
        new_scene(stack, raw_channel, rest) as scene,
        rule(rest, kind="VELOCITY_AMOUNT", action="DECLINE", windowSeconds=60, amount=300) as made,
    ):
        envelope.success(send(scene.customer.rest, scene.account, scene.payee, 200), 201)
        envelope.error(
            send(scene.customer.rest, scene.account, scene.payee, 200), 422, "RISK_DECLINED"
        )
        assert decisions(stack, scene.account)[-1] == ("DECLINE", made["id"])


def test_amount_far_above_history(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> None:
    with new_scene(stack, raw_channel, rest) as scene:
        for _ in range(5):
            envelope.success(send(scene.customer.rest, scene.account, scene.payee, 10), 201)
        envelope.success(send(scene.customer.rest, scene.account, scene.payee, 99), 201)
        held = _held(send(scene.customer.rest, scene.account, scene.payee, 1_500))
        alert = alert_of(rest, str(held["id"]))
        assert alert["ruleKind"] == "AMOUNT_VS_HISTORY"
        envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:reject", json={}))


def test_a_new_device(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> None:
    with (
        new_scene(stack, raw_channel, rest) as scene,
        changed(rest, default_rule_id(risk.NEW_DEVICE), enabled=True),
    ):
        customer = scene.customer.rest
        envelope.success(
            send(customer, scene.account, scene.payee, 10, **{"X-Device-Id": "dev-a"}), 201
        )
        envelope.success(
            send(customer, scene.account, scene.payee, 2_500, **{"X-Device-Id": "dev-a"}), 201
        )
        held = _held(send(customer, scene.account, scene.payee, 2_500, **{"X-Device-Id": "dev-b"}))
        alert = alert_of(rest, str(held["id"]))
        assert alert["ruleKind"] == "NEW_DEVICE"
        envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:reject", json={}))
        reply, _ = tx_grpc.TransactionServiceStub(scene.customer.channel).CreateTransfer.with_call(
            tx_pb.CreateTransferRequest(
                from_account_id=scene.account, to_account_id=scene.payee, amount=2_500
            ),
            metadata=[("x-device-id", "dev-c")],
        )
        assert reply.transaction.status == PENDING_REVIEW
        assert alert_of(rest, reply.transaction.id)["ruleKind"] == "NEW_DEVICE"
        # Without a device id the person is on a device never seen with them.
        _held(send(customer, scene.account, scene.payee, 2_500))


def test_a_scheduled_transfer_that_would_be_held_is_declined(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with (
        new_scene(stack, raw_channel, rest) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
    ):
        body = {
            "fromAccountId": scene.account,
            "toAccountId": open_account(rest, owner=BOB),
            "amount": 3_500,
            "scheduled": True,
            "scheduledDate": "2099-01-02",
        }
        response = scene.customer.rest.post("/v1/transactions/transfer", json=body)
        envelope.error(response, 422, "RISK_DECLINED")


def test_customers_cannot_reach_the_risk_api(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with new_scene(stack, raw_channel, rest, funded=0) as scene:
        customer = scene.customer.rest
        envelope.error(customer.get("/v1/risk/rules"), 403, "FORBIDDEN")
        envelope.error(
            customer.patch(f"/v1/risk/rules/{NEW_PAYEE}", json={"score": 1}), 403, "FORBIDDEN"
        )
        envelope.error(customer.get("/v1/risk/alerts", params={"status": "OPEN"}), 403, "FORBIDDEN")
        envelope.error(customer.post("/v1/risk/alerts/alr_x:approve", json={}), 403, "FORBIDDEN")
        with pytest.raises(grpc.RpcError) as caught:
            risk_grpc.RiskServiceStub(scene.customer.channel).ListRiskRules(
                risk_pb.ListRiskRulesRequest()
            )
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"windowSeconds": 5}, "VALIDATION_ERROR", "windowSeconds"),
        ({"maxCount": 3}, "VALIDATION_ERROR", "maxCount"),
        ({"score": 5000}, "VALIDATION_ERROR", "score"),
        ({"name": ""}, "VALIDATION_ERROR", "name"),
        ({"amount": -5}, "TXN005", "amount"),
        ({"amount": 0.001}, "TXN005", "amount"),
    ],
)
def test_bad_rule_changes_are_refused(
    rest: Rest, body: dict[str, object], code: str, field: str
) -> None:
    before = envelope.success(rest.get(f"/v1/risk/rules/{NEW_PAYEE}"))["rule"]
    envelope.error(rest.patch(f"/v1/risk/rules/{NEW_PAYEE}", json=body), 422, code, field)
    assert envelope.success(rest.get(f"/v1/risk/rules/{NEW_PAYEE}"))["rule"] == before


def test_staff_change_rules_and_bad_requests_are_refused(
    rest: Rest, grpc_channel: grpc.Channel
) -> None:
    stub = risk_grpc.RiskServiceStub(grpc_channel)
    before = stub.GetRiskRule(risk_pb.GetRiskRuleRequest(rule_id=NEW_PAYEE)).rule
    try:
        changed = stub.UpdateRiskRule(risk_pb.UpdateRiskRuleRequest(rule_id=NEW_PAYEE, score=401))
        assert changed.rule.score == 401 and changed.rule.amount == before.amount
        shown = envelope.success(rest.get(f"/v1/risk/rules/{NEW_PAYEE}"))["rule"]
        assert shown["score"] == 401
    finally:
        stub.UpdateRiskRule(risk_pb.UpdateRiskRuleRequest(rule_id=NEW_PAYEE, score=before.score))
    envelope.error(
        rest.post("/v1/risk/rules", json={"name": "x", "action": "REVIEW"}),
        422,
        "VALIDATION_ERROR",
        "kind",
    )
    envelope.error(
        rest.post("/v1/risk/rules", json={"name": "x", "kind": "NEW_DEVICE", "action": "REVIEW"}),
        422,
        "VALIDATION_ERROR",
        "amount",
    )
    envelope.error(
        rest.post("/v1/risk/rules", json={"id": "rsk_x", "kind": "NEW_DEVICE"}),
        400,
        "INVALID_REQUEST",
    )
    envelope.error(rest.get("/v1/risk/rules/rsk_nosuchrule"), 404, "NOT_FOUND")
    envelope.error(rest.get("/v1/risk/alerts/alr_nosuchalert"), 404, "NOT_FOUND")
    envelope.error(rest.post("/v1/risk/alerts/alr_nosuchalert:approve", json={}), 404, "NOT_FOUND")
    envelope.error(
        rest.post("/v1/risk/alerts/alr_nosuchalert:reject", json={"note": "x" * 501}),
        422,
        "VALIDATION_ERROR",
        "note",
    )
    envelope.error(rest.get("/v1/risk/alerts", params={"status": "BOGUS"}), 400, "INVALID_REQUEST")
    envelope.error(
        rest.post("/v1/risk/alerts/alr_x:approve", json={"bogus": 1}), 400, "INVALID_REQUEST"
    )


def test_a_transfer_verified_by_step_up_is_screened_too(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    who = challenges.person(stack, rest, raw_channel)
    try:
        source = challenges.funded_account(rest, who.user_id)
        with rule(rest, kind="NEW_PAYEE_AMOUNT", action="DECLINE", amount=3_000) as made:
            held = envelope.success(
                send(who.rest, source, open_account(rest, owner=BOB), 6_000), 202
            )
            challenge_id = held["challenge"]["id"]
            answer = challenges.verify(
                who, challenge_id, challenges.emailed_code(who, challenge_id)
            )
            envelope.error(answer, 422, "RISK_DECLINED")
        assert decisions(stack, source)[-1] == ("DECLINE", made["id"])
        assert balances(rest, source) == (20_000, 20_000)
    finally:
        who.close()


def test_a_held_transfer_with_an_idempotency_key_replays_its_202(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
    ):
        key = {"Idempotency-Key": f"risk-{uuid.uuid4().hex}"}
        first = send(scene.customer.rest, scene.account, scene.payee, 3_500, **key)
        held = _held(first)
        again = send(scene.customer.rest, scene.account, scene.payee, 3_500, **key)
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert _held(again)["id"] == held["id"]
        assert balances(rest, scene.account) == (10_000, 6_500)  # reserved once
        alert = alert_of(rest, str(held["id"]))
        envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:reject", json={}))
