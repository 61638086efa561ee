"""Red-team review of fraud screening: rules an attacker steps around, and
staff's decisions on held movements (REST through Envoy and gRPC, SQLite and
PostgreSQL). A test marked xfail(strict) shows a hole that is still open; it
flips when the hole is fixed."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import grpc
import pytest

from backoffice.v1 import transaction_service_pb2 as tx_pb
from backoffice.v1 import transaction_service_pb2_grpc as tx_grpc
from server.domain import risk
from server.run import Stack
from tests.common import envelope
from tests.common.money import BOB, assert_ledger_consistent, deposit
from tests.common.principals import CUSTOMER_SCOPES, create_user, user_caller
from tests.common.risk import (
    alert_of,
    balances,
    changed,
    default_rule_id,
    new_scene,
    send,
)
from tests.conftest import Rest

NEW_DEVICE = default_rule_id(risk.NEW_DEVICE)
NEW_PAYEE = default_rule_id(risk.NEW_PAYEE_AMOUNT)


def _account(rest: Rest, owner: str, currency: str, funded: float = 0) -> str:
    body = {
        "type": "CHECKING",
        "currency": currency,
        "ownerId": owner,
        "nickname": f"review {uuid.uuid4().hex[:6]}",
    }
    made = envelope.success(rest.post("/v1/accounts", json=body), 201)["account"]["id"]
    if funded:
        deposit(rest, made, funded)
    return str(made)


def _status(response: Any) -> str:
    data = envelope.success(response, response.status_code)
    return str(data["transaction"]["status"])


# -- NEW_DEVICE: the caller says which device it is --------------------------------------------
def test_leaving_out_the_device_id_does_not_skip_the_new_device_rule(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: a person who sends no X-Device-Id is on a new device: the rule,
    once enabled, is not skipped by leaving the header out."""
    with (
        new_scene(stack, raw_channel, rest) as scene,
        changed(rest, NEW_DEVICE, enabled=True),
    ):
        customer = scene.customer.rest
        known = {"X-Device-Id": f"dev-{uuid.uuid4().hex[:8]}"}
        envelope.success(send(customer, scene.account, scene.payee, 10, **known), 201)
        # Control: another device is held for review.
        other = {"X-Device-Id": f"dev-{uuid.uuid4().hex[:8]}"}
        held = send(customer, scene.account, scene.payee, 2_500, **other)
        assert _status(held) == "PENDING_REVIEW"
        held_id = held.json()["data"]["transaction"]["id"]
        alert_id = alert_of(rest, held_id)["id"]
        envelope.success(rest.post(f"/v1/risk/alerts/{alert_id}:reject", json={}))
        # No device id at all: the attacker's choice.
        anonymous = send(customer, scene.account, scene.payee, 2_500)
        assert anonymous.status_code != 201 or _status(anonymous) == "PENDING_REVIEW"


# -- Rules in one currency ---------------------------------------------------------------------
def test_an_account_in_euros_is_screened_by_the_amount_rules(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: the sandbox loads its amount rules in every currency the bank holds."""
    user_id = create_user(rest, "CUSTOMER", "Risk Tester")
    customer = user_caller(stack, raw_channel, "customer", user_id, CUSTOMER_SCOPES)
    try:
        source = _account(rest, user_id, "EUR", funded=20_000)
        target = _account(rest, BOB, "EUR")
        for _ in range(5):
            envelope.success(send(customer.rest, source, target, 10), 201)
        # 150x the largest debit: a USD account is held for review here
        # (tests/api/test_risk_reviews.py::test_amount_far_above_history).
        response = send(customer.rest, source, target, 1_500)
        assert _status(response) == "PENDING_REVIEW", response.text
    finally:
        customer.close()


def test_the_same_pattern_in_dollars_is_held(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Control for the test above."""
    with new_scene(stack, raw_channel, rest) as scene:
        for _ in range(5):
            envelope.success(send(scene.customer.rest, scene.account, scene.payee, 10), 201)
        held = send(scene.customer.rest, scene.account, scene.payee, 1_500)
        assert _status(held) == "PENDING_REVIEW"
        alert = alert_of(rest, held.json()["data"]["transaction"]["id"])
        envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:reject", json={}))


# -- A fresh account has no history to compare with -------------------------------------------
def test_a_fresh_account_draining_in_one_large_debit_is_reviewed(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: with too little history AMOUNT_VS_HISTORY compares with its floor (4,000.00)."""
    with new_scene(stack, raw_channel, rest) as scene:
        envelope.success(send(scene.customer.rest, scene.account, scene.payee, 10), 201)
        # 499x the only debit: with 5 debits of history this is held.
        response = send(scene.customer.rest, scene.account, scene.payee, 4_990)
        assert _status(response) == "PENDING_REVIEW", response.text


# -- Staff's decisions --------------------------------------------------------------------------
def _held_transfer(scene: Any, rest: Rest) -> tuple[str, dict[str, Any]]:
    response = send(scene.customer.rest, scene.account, scene.payee, 3_500)
    transaction = envelope.success(response, 202)["transaction"]
    assert transaction["status"] == "PENDING_REVIEW"
    return str(transaction["id"]), alert_of(rest, str(transaction["id"]))


def _decided(rest: Rest, alert_id: str, action: str) -> None:
    response = rest.post(f"/v1/risk/alerts/{alert_id}:{action}", json={})
    envelope.error(response, 409, "CONFLICT")


def test_an_alert_is_decided_once_whatever_the_order(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: approve after reject, reject after approve, approve twice: 409;
    the reservation released or posted exactly once."""
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
    ):
        _, first = _held_transfer(scene, rest)
        envelope.success(rest.post(f"/v1/risk/alerts/{first['id']}:reject", json={}))
        assert balances(rest, scene.account) == (10_000, 10_000)
        _decided(rest, first["id"], "approve")
        _decided(rest, first["id"], "reject")
        assert balances(rest, scene.account) == (10_000, 10_000)
        _, second = _held_transfer(scene, rest)
        envelope.success(rest.post(f"/v1/risk/alerts/{second['id']}:approve", json={}))
        _decided(rest, second["id"], "approve")
        _decided(rest, second["id"], "reject")
        assert balances(rest, scene.account) == (6_500, 6_500)


def test_concurrent_approvals_and_rejections_decide_once(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
    ):
        _, alert = _held_transfer(scene, rest)
        callers = 10
        start = threading.Barrier(callers)
        answers: list[tuple[str, int]] = []
        lock = threading.Lock()

        def run(index: int) -> None:
            action = "approve" if index % 2 else "reject"
            with Rest(stack.http_url) as session:
                session.headers["Authorization"] = rest.headers["Authorization"]
                start.wait()
                response = session.post(f"/v1/risk/alerts/{alert['id']}:{action}", json={})
                with lock:
                    answers.append((action, response.status_code))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(callers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        won = [answer for answer in answers if answer[1] == 200]
        assert len(won) == 1, answers
        assert all(status == 409 for _, status in answers if (_, status) not in won), answers
        expected = (6_500, 6_500) if won[0][0] == "approve" else (10_000, 10_000)
        assert balances(rest, scene.account) == expected
        assert_ledger_consistent(stack)


def test_a_customer_cannot_decide_their_own_alert(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
    ):
        _, alert = _held_transfer(scene, rest)
        for action in ("approve", "reject"):
            response = scene.customer.rest.post(f"/v1/risk/alerts/{alert['id']}:{action}", json={})
            assert response.status_code in (403, 404), response.text
            assert response.json()["success"] is False
        assert balances(rest, scene.account) == (10_000, 6_500)
        envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:reject", json={}))


def test_a_held_transfer_cannot_be_cancelled_refunded_or_reversed(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: PENDING_REVIEW is never cancellable, refundable or reversible;
    the reservation stays until staff decide."""
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
    ):
        transaction_id, alert = _held_transfer(scene, rest)
        customer = scene.customer.rest
        for caller, path, body in (
            (customer, f"/v1/transactions/{transaction_id}/cancel", {}),
            (rest, f"/v1/transactions/{transaction_id}/cancel", {}),
            (rest, f"/v1/transactions/{transaction_id}/refund", {"reason": "CUSTOMER_REQUEST"}),
            (rest, f"/v1/transactions/{transaction_id}/reverse", {"reason": "DUPLICATE"}),
        ):
            response = caller.post(path, json=body)
            assert 400 <= response.status_code < 500, (path, response.text)
        assert balances(rest, scene.account) == (10_000, 6_500)
        envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:approve", json={}))
        assert balances(rest, scene.account) == (6_500, 6_500)
        assert_ledger_consistent(stack)


# -- Bad input on the staff API -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/v1/risk/alerts?status=BOGUS", None),
        ("get", "/v1/risk/alerts?limit=100000&page=-3", None),
        ("get", "/v1/risk/alerts/" + "x" * 300, None),
        ("post", "/v1/risk/alerts/alr_nope:approve", {"note": "n" * 501}),
        ("post", "/v1/risk/alerts/%20:approve", {}),
        ("post", "/v1/risk/rules", {"kind": "VELOCITY_COUNT", "action": "DECLINE"}),
        (
            "post",
            "/v1/risk/rules",
            {
                "name": "x",
                "kind": "AMOUNT_VS_HISTORY",
                "action": "REVIEW",
                "amount": 1e300,
                "historyMultiple": 2,
                "historySize": 2,
                "currency": "ZZZ",
            },
        ),
        (
            "post",
            "/v1/risk/rules",
            {
                "name": "x",
                "kind": "VELOCITY_AMOUNT",
                "action": "DECLINE",
                "amount": 0.001,
                "windowSeconds": 60,
            },
        ),
        ("patch", "/v1/risk/rules/rsk_nope", {"enabled": True}),
        ("patch", f"/v1/risk/rules/{NEW_DEVICE}", {"amount": -1}),
        ("patch", f"/v1/risk/rules/{NEW_DEVICE}", {"windowSeconds": 60}),
        ("post", "/v1/risk/clients/nope:setTrust", {"trusted": True}),
        ("get", "/v1/risk/clients/" + "%2F" * 40, None),
    ],
)
def test_bad_input_on_the_risk_api_is_a_4xx_envelope(
    rest: Rest, method: str, path: str, body: Any
) -> None:
    response = getattr(rest, method)(path, json=body) if body is not None else rest.get(path)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    data = response.json()
    assert data["success"] is False and data["error"]["code"], data
    assert "Traceback" not in response.text and "psycopg" not in response.text


# -- What a customer learns about the rules ------------------------------------------------------
def test_a_decline_does_not_tell_the_customer_which_rule_fired(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: RISK_DECLINED names no rule, kind or score (REST message, gRPC ErrorInfo)."""
    with new_scene(stack, raw_channel, rest) as scene:
        refused = None
        for _ in range(25):
            response = send(scene.customer.rest, scene.account, scene.payee, 1)
            if response.status_code == 422:
                refused = response
                break
        assert refused is not None
        envelope.error(refused, 422, "RISK_DECLINED")
        stub = tx_grpc.TransactionServiceStub(scene.customer.channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.CreateTransfer(
                tx_pb.CreateTransferRequest(
                    from_account_id=scene.account, to_account_id=scene.payee, amount=1
                ),
                timeout=30,
            )
        info = envelope.grpc_error(
            caught.value, grpc.StatusCode.FAILED_PRECONDITION, "RISK_DECLINED"
        )
        told = f"{refused.text} {caught.value.details()} {dict(info.metadata)}"
        for secret in ("VELOCITY_COUNT", default_rule_id(risk.VELOCITY_COUNT), "900"):
            assert secret not in told, told


def test_a_held_transfer_shows_the_customer_no_alert_or_rule(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: the customer sees PENDING_REVIEW, not the alert or the rule."""
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
    ):
        transaction_id, alert = _held_transfer(scene, rest)
        shown = scene.customer.rest.get(f"/v1/transactions/{transaction_id}")
        assert envelope.success(shown)["transaction"]["status"] == "PENDING_REVIEW"
        for secret in (alert["id"], NEW_PAYEE, "NEW_PAYEE_AMOUNT", "risk"):
            assert secret not in shown.text, shown.text
        envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:reject", json={}))


def test_approving_when_an_account_was_frozen_meanwhile_moves_nothing(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: the approval re-checks the accounts; refused, the alert stays OPEN
    and a rejection gives the reservation back."""
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
    ):
        _, alert = _held_transfer(scene, rest)
        frozen = rest.post(f"/v1/accounts/{scene.account}/freeze", json={"reason": "review"})
        envelope.success(frozen)
        refused = rest.post(f"/v1/risk/alerts/{alert['id']}:approve", json={})
        assert 400 <= refused.status_code < 500, refused.text
        assert balances(rest, scene.account)[0] == 10_000
        shown = envelope.success(rest.get(f"/v1/risk/alerts/{alert['id']}"))["alert"]
        assert shown["status"] == "OPEN"
        envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:reject", json={}))
        assert balances(rest, scene.account) == (10_000, 10_000)
        envelope.success(
            rest.post(f"/v1/accounts/{scene.account}/unfreeze", json={"reason": "cleared"})
        )


# -- Velocity under a mixed concurrent burst ----------------------------------------------------
def test_velocity_holds_across_concurrent_batches_transfers_payments_and_external(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: 4 batches of 8, 8 transfers, 4 payments and 4 external transfers
    at once from one account (48 debits): 20 go through, whatever the path."""
    from server.store.sandbox import payee_id as sandbox_payee_id  # noqa: PLC0415
    from tests.common import external as ext  # noqa: PLC0415

    electric = sandbox_payee_id("elec")
    with new_scene(stack, raw_channel, rest) as scene:
        customer = scene.customer.rest
        item = {"fromAccountId": scene.account, "toAccountId": scene.payee, "amount": 1}
        calls: list[tuple[str, Any]] = (
            [("batch", {"requests": [item] * 8})] * 4
            + [("transfer", item)] * 8
            + [("payment", {"fromAccountId": scene.account, "payeeId": electric, "amount": 1})] * 4
            + [("external", None)] * 4
        )
        start = threading.Barrier(len(calls))
        ok: list[int] = []
        lock = threading.Lock()

        def run(kind: str, body: Any) -> None:
            with Rest(stack.http_url) as session:
                session.headers["Authorization"] = customer.headers["Authorization"]
                start.wait()
                if kind == "batch":
                    response = session.post("/v1/transactions/transfers:batchCreate", json=body)
                    results = envelope.success(response)["results"]
                    done = sum(1 for result in results if "transaction" in result)
                elif kind == "external":
                    done = int(ext.send(session, scene.account, 1).status_code == 201)
                else:
                    path = f"/v1/transactions/{kind}"
                    response = session.post(path, json=body)
                    assert response.status_code in (201, 422), response.text
                    done = int(response.status_code == 201)
                with lock:
                    ok.append(done)

        threads = [threading.Thread(target=run, args=call) for call in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(ok) == len(calls)
        assert sum(ok) == 20, ok


# -- Staff persons moving customers' money -------------------------------------------------------
def test_a_tellers_transfers_out_of_a_customers_account_are_screened(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: a staff person's transfers out of a customer's account are
    screened by the velocity rules."""
    teller_id = create_user(rest, "TELLER", "Risk Teller")
    teller = user_caller(stack, raw_channel, "teller", teller_id, "banking.read banking.write")
    try:
        with new_scene(stack, raw_channel, rest) as scene:
            answers = [send(teller.rest, scene.account, scene.payee, 1) for _ in range(25)]
            codes = [answer.status_code for answer in answers]
            assert codes.count(201) == 20 and codes.count(422) == 5, codes
    finally:
        teller.close()


def test_a_rejected_wire_into_the_overdraft_gives_back_exactly_what_it_reserved(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: amount, wire fee and the reserved overdraft fee are released once,
    no more (the available balance is what it was)."""
    from tests.common import external as ext  # noqa: PLC0415
    from tests.common.money import open_account  # noqa: PLC0415

    with (
        new_scene(stack, raw_channel, rest) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
    ):
        owner = str(scene.customer.user_id)
        source = open_account(rest, owner=owner, funded=3_000, overdraft=2_000)
        before = balances(rest, source)
        response = ext.send(
            scene.customer.rest, source, 4_000, beneficiary=ext.ach(accountType=None), rail="WIRE"
        )
        held = envelope.success(response, 202)["transaction"]
        assert held["status"] == "PENDING_REVIEW"
        assert balances(rest, source)[1] < before[1] - 4_000  # amount and fees reserved
        alert = alert_of(rest, held["id"])
        envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:reject", json={}))
        assert balances(rest, source) == before
        _decided(rest, alert["id"], "reject")
        assert balances(rest, source) == before
        assert_ledger_consistent(stack)


# -- Four eyes ------------------------------------------------------------------------------------
def test_an_admin_client_neither_decides_its_own_alert_nor_trusts_itself(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: an untrusted ADMIN service client whose own transfer is held for
    review cannot approve or reject that alert (403 FORBIDDEN, the amount
    still reserved), nor set trust on itself; another staff caller decides."""
    from tests.common.auth import token_over_rest  # noqa: PLC0415

    made = envelope.success(
        rest.post(
            "/v1/clients",
            json={
                "name": "Risk admin app",
                "scopes": ["banking.read", "banking.write", "backoffice.admin"],
                "grantTypes": ["CLIENT_CREDENTIALS"],
            },
        ),
        201,
    )["client"]
    token = token_over_rest(stack.http_url, (made["clientId"], made["clientSecret"]))
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
        Rest(stack.http_url) as app,
    ):
        app.headers["Authorization"] = f"Bearer {token['access_token']}"
        held = envelope.success(send(app, scene.account, scene.payee, 3_500), 202)
        assert held["transaction"]["status"] == "PENDING_REVIEW"
        alert = alert_of(rest, held["transaction"]["id"])
        for action in ("approve", "reject"):
            response = app.post(f"/v1/risk/alerts/{alert['id']}:{action}", json={})
            envelope.error(response, 403, "FORBIDDEN")
        assert balances(rest, scene.account) == (10_000, 6_500)
        path = f"/v1/risk/clients/{made['clientId']}:setTrust"
        envelope.error(app.post(path, json={"trusted": True}), 403, "FORBIDDEN")
        shown = envelope.success(rest.get(f"/v1/risk/clients/{made['clientId']}"))
        assert shown["trusted"] is False
        envelope.success(rest.post(f"/v1/risk/alerts/{alert['id']}:approve", json={}))
        assert balances(rest, scene.account) == (6_500, 6_500)


def test_an_alert_nobody_decides_expires_and_gives_the_reservation_back(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest
) -> None:
    """Held: an alert left OPEN for risk.ALERT_EXPIRY_DAYS is rejected by the
    due-work sweeper (decided by `expiry`): the amount is released, the
    transfer CANCELLED, and a late approval is a 409."""
    with (
        new_scene(stack, raw_channel, rest, funded=10_000) as scene,
        changed(rest, NEW_PAYEE, enabled=True),
    ):
        transaction_id, alert = _held_transfer(scene, rest)
        seconds = risk.ALERT_EXPIRY_DAYS * 86_400 - 3_600
        envelope.success(rest.post("/v1/sandbox/clock:advance", json={"seconds": seconds}))
        assert envelope.success(rest.get(f"/v1/risk/alerts/{alert['id']}"))["alert"]["status"] == (
            "OPEN"
        )
        envelope.success(rest.post("/v1/sandbox/clock:advance", json={"seconds": 7_200}))
        shown = envelope.success(rest.get(f"/v1/risk/alerts/{alert['id']}"))["alert"]
        assert shown["status"] == "REJECTED" and shown["decidedBy"] == "expiry", shown
        assert balances(rest, scene.account) == (10_000, 10_000)
        moved = envelope.success(rest.get(f"/v1/transactions/{transaction_id}"))["transaction"]
        assert moved["status"] == "CANCELLED"
        _decided(rest, alert["id"], "approve")
