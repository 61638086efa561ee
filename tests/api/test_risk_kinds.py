"""Fraud screening of bill payments and external transfers (risk.proto): the
same rules and counters as internal transfers; a rule that would hold one
declines it (only internal transfers are held for review)."""

from __future__ import annotations

from datetime import timedelta

import grpc

from server.domain import risk
from server.run import Stack
from server.store.sandbox import payee_id as sandbox_payee_id
from tests.common import envelope, recurring
from tests.common import external as ext
from tests.common.risk import (
    alert_of,
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

ELECTRIC = sandbox_payee_id("elec")
VELOCITY = default_rule_id(risk.VELOCITY_COUNT)


def _pay(caller: Rest, source: str, payee: str, amount: float) -> object:
    body = {"fromAccountId": source, "payeeId": payee, "amount": amount}
    return caller.post("/v1/transactions/payment", json=body)


def test_payments_and_external_transfers_share_the_velocity_count(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with new_scene(stack, raw_channel, rest) as scene:
        customer = scene.customer.rest
        for _ in range(10):
            envelope.success(send(customer, scene.account, scene.payee, 1), 201)
        for _ in range(5):
            envelope.success(_pay(customer, scene.account, ELECTRIC, 1), 201)
        for _ in range(5):
            envelope.success(ext.send(customer, scene.account, 1), 201)
        envelope.error(_pay(customer, scene.account, ELECTRIC, 1), 422, "RISK_DECLINED")
        envelope.error(ext.send(customer, scene.account, 1), 422, "RISK_DECLINED")
        assert decisions(stack, scene.account) == [("DECLINE", VELOCITY)] * 2
        assert allowed(stack, scene.account) == 20


def test_a_payment_held_for_review_is_paid_once_approved(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, default_rule_id(risk.NEW_PAYEE_AMOUNT), enabled=True, amount=1_000),
    ):
        customer = scene.customer.rest
        response = _pay(customer, scene.account, ELECTRIC, 3_500)
        held = envelope.success(response, 202)["transaction"]  # type: ignore[arg-type]
        assert held["status"] == "PENDING_REVIEW"
        assert balances(rest, scene.account) == (10_000, 6_500)
        alert = alert_of(rest, held["id"])
        assert alert["transactionType"] == "PAYMENT"
        approved = envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:approve", json={}))
        assert approved["transaction"]["status"] == "SCHEDULED"
        envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": 1}))
        paid = envelope.success(customer.get(f"/v1/transactions/{held['id']}"))["transaction"]
        assert paid["status"] in {"PROCESSING", "COMPLETED"}
        assert balances(rest, scene.account) == (6_500, 6_500)
        # A payee paid before is no new payee.
        envelope.success(_pay(customer, scene.account, ELECTRIC, 1_200), 201)


def test_a_rejected_payment_gives_its_reservation_back(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, default_rule_id(risk.NEW_PAYEE_AMOUNT), enabled=True),
    ):
        response = _pay(scene.customer.rest, scene.account, ELECTRIC, 3_500)
        held = envelope.success(response, 202)["transaction"]  # type: ignore[arg-type]
        alert = alert_of(rest, held["id"])
        rejected = envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:reject", json={}))
        assert rejected["transaction"]["status"] == "CANCELLED"
        assert balances(rest, scene.account) == (10_000, 10_000)
        envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": 1}))
        assert balances(rest, scene.account) == (10_000, 10_000)


def test_an_external_transfer_to_a_new_beneficiary_is_declined_by_a_decline_rule(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with (
        new_scene(stack, raw_channel, rest) as scene,
        rule(rest, kind="NEW_PAYEE_AMOUNT", action="DECLINE", score=990, amount=1_000) as made,
    ):
        customer = scene.customer.rest
        known = ext.ach("1111222233")
        envelope.success(ext.send(customer, scene.account, 500, known), 201)
        envelope.success(ext.send(customer, scene.account, 1_500, known), 201)
        before = balances(rest, scene.account)
        refused = ext.send(customer, scene.account, 1_500, ext.ach("5555666677"))
        envelope.error(refused, 422, "RISK_DECLINED")
        assert balances(rest, scene.account) == before
        assert decisions(stack, scene.account)[-1] == ("DECLINE", made["id"])


def test_an_external_transfer_held_for_review_is_submitted_once_approved(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, default_rule_id(risk.NEW_PAYEE_AMOUNT), enabled=True),
    ):
        customer = scene.customer.rest
        response = ext.send(customer, scene.account, 4_000)
        held = envelope.success(response, 202)["transaction"]
        assert held["status"] == "PENDING_REVIEW"
        assert response.json()["message"] == "Held for review"
        # Amount and fee reserved, nothing posted.
        balance, available = balances(rest, scene.account)
        assert balance == 10_000 and available <= 6_000
        alert = alert_of(rest, held["id"])
        assert alert["transactionType"] == "EXTERNAL_TRANSFER"
        approved = envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:approve", json={}))
        assert approved["transaction"]["status"] == "PENDING"
        envelope.error(
            rest.post(f"/v1/risk/alerts/{alert['id']}:approve", json={}), 409, "CONFLICT"
        )
        settled = ext.settle(rest, held)
        assert settled["status"] == "COMPLETED"
        assert balances(rest, scene.account)[0] <= 6_000


def test_a_rejected_external_transfer_gives_its_reservation_back(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, default_rule_id(risk.NEW_PAYEE_AMOUNT), enabled=True),
    ):
        held = envelope.success(ext.send(scene.customer.rest, scene.account, 4_000), 202)
        alert = alert_of(rest, held["transaction"]["id"])
        rejected = envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:reject", json={}))
        assert rejected["transaction"]["status"] == "CANCELLED"
        assert balances(rest, scene.account) == (10_000, 10_000)
        # Its limit use was given back: the same amount is accepted again.
        again = ext.send(scene.customer.rest, scene.account, 4_000)
        assert again.status_code == 202, again.text


def test_a_recurring_schedule_is_screened_when_made(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with (
        new_scene(stack, raw_channel, rest) as scene,
        rule(rest, kind="NEW_PAYEE_AMOUNT", action="DECLINE", score=990, amount=1_000) as made,
    ):
        start = recurring.today(rest) + timedelta(days=3)
        body = recurring.body(scene.account, scene.payee, start, amount=1_500)
        refused = scene.customer.rest.post(recurring.PATH, json=body)
        envelope.error(refused, 422, "RISK_DECLINED")
        assert decisions(stack, scene.account)[-1] == ("DECLINE", made["id"])
        small = recurring.body(scene.account, scene.payee, start, amount=500)
        envelope.success(scene.customer.rest.post(recurring.PATH, json=small), 201)
