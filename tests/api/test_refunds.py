"""Asking for a refund through the real server (REST via Envoy), on both databases:
the whole life of a request, partial requests, and what a request may name.

After each scenario the ledger must still balance (the `scene` fixture checks
it) and the bank's refunds account must have paid exactly what was approved.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import grpc
import pytest

from server.domain.calendar import is_business_day
from server.run import Stack
from tests.common import envelope
from tests.common.accounts import server_now
from tests.common.money import balance, open_account, query, transfer
from tests.common.principals import CUSTOMER_SCOPES, create_user, user_caller
from tests.common.refunds import (
    Scene,
    approve,
    ask,
    asked,
    new_scene,
    paid,
    refunds_paid,
    stamp,
    transaction,
)
from tests.common.users import outbox_events
from tests.conftest import Rest


@pytest.fixture
def scene(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Scene]:
    with new_scene(stack, raw_channel, rest) as made:
        yield made


# --- the whole life of a request ------------------------------------------------------------


def test_request_then_full_approval_refunds_the_original(
    stack: Stack, rest: Rest, scene: Scene
) -> None:
    original = paid(scene, 150)
    paid_before = refunds_paid(stack)
    response = ask(
        scene.customer.rest,
        original["id"],
        description="Accidental duplicate payment",
    )
    request = envelope.success(response, 201)["refundRequest"]
    assert response.json()["message"] == "Refund request submitted"
    assert request["id"].startswith("ref_")
    assert request["originalTransaction"] == original["id"]
    assert (request["amount"], request["currency"]) == (150, "USD")
    assert (request["status"], request["reason"]) == ("PENDING_REVIEW", "DUPLICATE_PAYMENT")
    assert request["accountId"] == scene.account
    assert request["requestedBy"] == scene.customer.user_id
    assert request["description"] == "Accidental duplicate payment"
    created = stamp(request["createdAt"])
    resolution = stamp(request["expectedResolution"])
    # Three business days: exactly three Fed business days after the day the
    # request counts as received (the creation day, or the next business day
    # when it is a weekend or holiday, as for deposits), the last of them the
    # resolution day. A weekend or a holiday such as Christmas, which the
    # sandbox clock may be on, stretches the calendar days.
    days = [created.date() + timedelta(days=n) for n in range(15)]
    received = next(day for day in days if is_business_day(day))
    business = [day for day in days if received < day <= resolution.date() and is_business_day(day)]
    assert len(business) == 3 and business[-1] == resolution.date()
    assert resolution.time() == created.time()
    assert not {"reviewedBy", "refundTransactionId", "approvedAmount", "rejectionReason"} & set(
        request
    )
    # Nothing moves while the request is under review.
    assert balance(rest, scene.account) == 850 and refunds_paid(stack) == paid_before

    approval = envelope.success(approve(rest, request["id"], notes="Duplicate confirmed"))
    done, refund = approval["refundRequest"], approval["transaction"]
    assert (done["status"], done["approvedAmount"]) == ("COMPLETED", 150)
    assert done["reviewNotes"] == "Duplicate confirmed" and done["completedAt"]
    assert done["refundTransactionId"] == refund["id"]
    assert (refund["type"], refund["status"], refund["amount"]) == ("REFUND", "COMPLETED", 150)
    assert refund["originalTransactionId"] == original["id"]
    assert refund["description"] == f"Refund of {original['transactionNumber']} (duplicate payment)"
    assert refund["refundRequestId"] == request["id"]
    assert refund["toAccount"]["id"] == scene.account and "fromAccount" not in refund
    assert refund["toAccount"]["balance"] == 1000 and refund["balanceAfter"] == 1000

    assert balance(rest, scene.account) == 1000 and balance(rest, scene.payee) == 150
    assert refunds_paid(stack) - paid_before == 150_00
    got = transaction(scene.customer.rest, original["id"])
    assert (got["status"], got["refundedAmount"]) == ("REFUNDED", 150)
    assert transaction(scene.customer.rest, refund["id"])["refundRequestId"] == request["id"]
    history = envelope.success(
        scene.customer.rest.get(f"/v1/transactions?accountId={scene.account}")
    )
    statuses = {item["id"]: item["status"] for item in history["transactions"]}
    assert statuses[original["id"]] == "REFUNDED" and statuses[refund["id"]] == "COMPLETED"
    (event,) = outbox_events(stack, original["id"], "transaction.refunded")
    assert event["data"]["status"] == "REFUNDED"
    assert (event["data"]["refundAmount"], event["data"]["refundedAmount"]) == (150, 150)
    assert event["data"]["refundTransactionId"] == refund["id"]
    assert event["data"]["refundRequestId"] == request["id"]
    assert [
        e["data"]["status"] for e in outbox_events(stack, refund["id"], "transaction.completed")
    ] == ["COMPLETED"]
    # The customer follows it; a refunded transaction cannot be asked again.
    seen = envelope.success(scene.customer.rest.get(f"/v1/refund-requests/{request['id']}"))
    assert seen["refundRequest"] == done
    envelope.error(ask(scene.customer.rest, original["id"]), 409, "CONFLICT")


def test_two_partial_requests_and_what_remains(stack: Stack, rest: Rest, scene: Scene) -> None:
    original = paid(scene, 100)
    paid_before = refunds_paid(stack)
    first = asked(scene.customer.rest, original["id"], amount=30)
    second = asked(scene.customer.rest, original["id"], amount=50.25, reason="INCORRECT_AMOUNT")
    assert (first["amount"], second["amount"]) == (30, 50.25)
    # Open requests count: 19.75 is all that may still be asked.
    error = envelope.error(
        ask(scene.customer.rest, original["id"], amount=19.76), 422, "TXN005", "amount"
    )
    assert error["message"] == "The amount exceeds what can still be refunded"
    envelope.success(approve(rest, first["id"]))
    got = transaction(rest, original["id"])
    assert (got["status"], got["refundedAmount"]) == ("COMPLETED", 30)
    # A partial approval: staff give back 40.25 of the 50.25 asked.
    envelope.error(approve(rest, second["id"], amount=50.26), 422, "TXN005", "amount")
    done = envelope.success(approve(rest, second["id"], amount=40.25))["refundRequest"]
    assert (done["amount"], done["approvedAmount"]) == (50.25, 40.25)
    got = transaction(rest, original["id"])
    assert (got["status"], got["refundedAmount"]) == ("COMPLETED", 70.25)
    # Without an amount, a request asks for the whole rest.
    last = asked(scene.customer.rest, original["id"])
    assert last["amount"] == 29.75
    envelope.error(ask(scene.customer.rest, original["id"], amount=0.01), 422, "TXN005", "amount")
    envelope.success(approve(rest, last["id"]))
    got = transaction(rest, original["id"])
    assert (got["status"], got["refundedAmount"]) == ("REFUNDED", 100)
    assert balance(rest, scene.account) == 1000
    assert refunds_paid(stack) - paid_before == 100_00
    events = outbox_events(stack, original["id"], "transaction.refunded")
    assert [e["data"]["refundedAmount"] for e in events] == [30, 70.25, 100]


# --- what a request may name ----------------------------------------------------------------


def test_requests_on_what_is_not_a_refundable_debit_are_conflicts(rest: Rest, scene: Scene) -> None:
    customer = scene.customer.rest
    deposit = envelope.success(
        rest.post(
            "/v1/transactions/deposit",
            json={"accountId": scene.account, "amount": 20, "method": "CASH"},
        ),
        201,
    )["transaction"]
    envelope.error(ask(customer, deposit["id"]), 409, "CONFLICT")
    # A transfer between two accounts of the same customer.
    own = open_account(rest, owner=scene.customer.user_id or "")
    moved = envelope.success(transfer(customer, scene.account, own, 10), 201)["transaction"]
    envelope.success(transfer(customer, scene.account, scene.payee, 5), 201)
    error = envelope.error(ask(customer, moved["id"]), 409, "CONFLICT")
    assert "own accounts" in error["message"]
    # Not COMPLETED: a transfer scheduled for later.
    later = (server_now(rest).date() + timedelta(days=30)).isoformat()
    scheduled = envelope.success(
        transfer(customer, scene.account, scene.payee, 10, scheduled=True, scheduledDate=later),
        201,
    )["transaction"]
    assert scheduled["status"] == "SCHEDULED"
    error = envelope.error(ask(customer, scheduled["id"]), 409, "CONFLICT")
    assert "COMPLETED" in error["message"]
    # A transfer the customer received is not a debit of theirs.
    received = envelope.success(transfer(rest, scene.payee, scene.account, 5), 201)
    envelope.error(ask(customer, received["transaction"]["id"]), 409, "CONFLICT")


def test_request_checks_reason_amount_text_and_who_asks(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest, scene: Scene
) -> None:
    original = paid(scene, 40)
    customer = scene.customer.rest
    envelope.error(
        customer.post(f"/v1/transactions/{original['id']}/refund", json={}),
        422,
        "VALIDATION_ERROR",
        "reason",
    )
    for amount in (0, -1, 0.001):
        envelope.error(ask(customer, original["id"], amount=amount), 422, "TXN005", "amount")
    envelope.error(ask(customer, original["id"], amount=40.01), 422, "TXN005", "amount")
    envelope.error(
        ask(customer, original["id"], description="x" * 501),
        422,
        "VALIDATION_ERROR",
        "description",
    )
    envelope.error(ask(customer, "txn_doesnotexist0000"), 404, "NOT_FOUND", "transactionId")
    # Another customer's transaction is not found, not forbidden.
    stranger_id = create_user(rest, "CUSTOMER", "Someone Else")
    stranger = user_caller(stack, raw_channel, "stranger", stranger_id, CUSTOMER_SCOPES)
    try:
        envelope.error(ask(stranger.rest, original["id"]), 404, "NOT_FOUND", "transactionId")
    finally:
        stranger.close()
    # Staff may ask for the customer; nothing was stored by the refusals above.
    request = asked(rest, original["id"], reason="MERCHANT_ERROR")
    assert request["amount"] == 40 and "requestedBy" not in request
    count = query(
        stack, "SELECT COUNT(*) FROM refund_requests WHERE transaction_id = %s", (original["id"],)
    )[0][0]
    assert count == 1


def test_past_sixty_days_a_request_is_refused(stack: Stack, rest: Rest, scene: Scene) -> None:
    original = paid(scene, 25)
    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": 60}))
    error = envelope.error(
        ask(scene.customer.rest, original["id"]), 422, "VALIDATION_ERROR", "transactionId"
    )
    assert "60 days" in error["message"]
    assert (
        query(
            stack,
            "SELECT COUNT(*) FROM refund_requests WHERE transaction_id = %s",
            (original["id"],),
        )[0][0]
        == 0
    )


def test_an_auditor_cannot_ask(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest, scene: Scene
) -> None:
    original = paid(scene, 15)
    auditor_id = create_user(rest, "AUDITOR", "Refund Auditor")
    auditor = user_caller(stack, raw_channel, "auditor", auditor_id, CUSTOMER_SCOPES)
    try:
        envelope.error(ask(auditor.rest, original["id"]), 403, "FORBIDDEN")
        # Auditors read every request, but decide none.
        request = asked(scene.customer.rest, original["id"])
        seen = envelope.success(auditor.rest.get(f"/v1/refund-requests/{request['id']}"))
        assert seen["refundRequest"]["id"] == request["id"]
    finally:
        auditor.close()
