"""Disputes through the real server (REST via Envoy), on both databases: both
timings of the provisional credit, both outcomes, the ledger after each.

After each scenario the ledger must still balance (the `scene` fixture checks
it), and what the bank's disputes account paid must be exactly what the
customer's account gained from the dispute.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from server.run import Stack
from tests.common import envelope
from tests.common.accounts import server_now
from tests.common.disputes import (
    DISPUTES,
    business_days_between,
    count,
    disputes_paid,
    get,
    open_,
    opened,
    postings_of,
    resolve,
    stamp,
)
from tests.common.money import balance, open_account, transfer
from tests.common.principals import CUSTOMER_SCOPES, create_user, user_caller
from tests.common.refunds import Scene, new_scene, paid, transaction
from tests.common.users import outbox_events
from tests.conftest import Rest


@pytest.fixture
def scene(stack: Stack, raw_channel: grpc.Channel, rest: Rest) -> Iterator[Scene]:
    with new_scene(stack, raw_channel, rest) as made:
        yield made


def _advance_days(rest: Rest, days: int) -> None:
    envelope.success(rest.post("/v1/sandbox/clock:advance", json={"days": days}))


def test_unauthorized_is_credited_at_once_and_customer_favor_makes_it_final(
    stack: Stack, rest: Rest, scene: Scene
) -> None:
    original = paid(scene, 150)
    paid_before = disputes_paid(stack)
    response = open_(
        scene.customer.rest,
        original["id"],
        reason="UNAUTHORIZED_TRANSACTION",
        description="I never made this payment",
    )
    dispute = envelope.success(response, 201)["dispute"]
    assert response.json()["message"] == "Dispute opened"
    assert dispute["id"].startswith("dsp_")
    assert (dispute["status"], dispute["reason"]) == ("OPEN", "UNAUTHORIZED_TRANSACTION")
    assert (dispute["transactionId"], dispute["accountId"]) == (original["id"], scene.account)
    assert (dispute["amount"], dispute["currency"]) == (150, "USD")
    assert dispute["description"] == "I never made this payment"
    assert dispute["openedBy"] == scene.customer.user_id
    # Zero liability: the provisional credit posted with the dispute.
    assert dispute["provisionalCreditStatus"] == "CREDITED"
    assert dispute["provisionalCreditAmount"] == 150
    assert dispute["provisionalCreditDue"] == dispute["createdAt"]
    assert dispute["provisionalCreditedAt"] == dispute["createdAt"]
    created = stamp(dispute["createdAt"])
    deadline = stamp(dispute["investigationDeadline"])
    assert business_days_between(created.date(), deadline.date()) == 10
    assert deadline.time() == created.time()
    assert not {"outcome", "resolvedAt", "resolvedBy", "creditReversalTransactionId"} & set(dispute)
    assert balance(rest, scene.account) == 1000
    assert disputes_paid(stack) - paid_before == 150_00
    credit = transaction(scene.customer.rest, dispute["provisionalCreditTransactionId"])
    assert (credit["type"], credit["status"], credit["amount"]) == ("ADJUSTMENT", "COMPLETED", 150)
    assert credit["originalTransactionId"] == original["id"]
    assert credit["description"] == (
        f"Provisional credit for dispute of {original['transactionNumber']}"
    )
    assert credit["toAccount"]["id"] == scene.account and "fromAccount" not in credit
    (event,) = outbox_events(stack, dispute["id"], "dispute.created")
    assert event["data"]["disputeId"] == dispute["id"]
    assert event["data"]["provisionalCreditStatus"] == "CREDITED"
    assert (event["data"]["amount"], event["data"]["status"]) == (150, "OPEN")

    resolution = envelope.success(
        resolve(rest, dispute["id"], "CUSTOMER_FAVOR", note="Card was cloned")
    )
    done = resolution["dispute"]
    assert "transaction" not in resolution  # nothing moves: the credit stays
    assert (done["status"], done["outcome"]) == ("RESOLVED", "CUSTOMER_FAVOR")
    assert (done["provisionalCreditStatus"], done["resolutionNote"]) == ("FINAL", "Card was cloned")
    assert done["resolvedAt"] and "resolvedBy" not in done  # an API client resolved it
    assert balance(rest, scene.account) == 1000
    assert disputes_paid(stack) - paid_before == 150_00
    (event,) = outbox_events(stack, dispute["id"], "dispute.resolved")
    assert (event["data"]["outcome"], event["data"]["status"]) == ("CUSTOMER_FAVOR", "RESOLVED")
    assert event["data"]["resolvedAt"]
    assert get(scene.customer.rest, dispute["id"]) == done
    # Exactly once: a second resolution, either way, is a conflict.
    for outcome in ("CUSTOMER_FAVOR", "MERCHANT_FAVOR"):
        envelope.error(resolve(rest, dispute["id"], outcome), 409, "CONFLICT")
    assert postings_of(stack, dispute["id"]) == [{DISPUTES: -150_00, scene.account: 150_00}]
    # The bank's books show the disputes account with what it paid out.
    books = envelope.success(rest.get("/v1/ledger/trial-balance?currency=USD"))["trialBalance"]
    (line,) = [item for item in books["lines"] if item.get("code") == "DISPUTES"]
    assert line["accountId"] == DISPUTES and line["kind"] == "BANK"
    assert round(abs(line["net"]) * 100) == disputes_paid(stack)


def test_merchant_favor_takes_the_credit_back_even_below_zero(
    stack: Stack, rest: Rest, scene: Scene
) -> None:
    original = paid(scene, 200)
    paid_before = disputes_paid(stack)
    dispute = opened(scene.customer.rest, original["id"], reason="UNAUTHORIZED_TRANSACTION")
    assert balance(rest, scene.account) == 1000
    # The customer spends the credit before the bank decides.
    envelope.success(transfer(scene.customer.rest, scene.account, scene.payee, 1000), 201)
    assert balance(rest, scene.account) == 0
    resolution = envelope.success(resolve(rest, dispute["id"], "MERCHANT_FAVOR"))
    done, clawback = resolution["dispute"], resolution["transaction"]
    assert (done["status"], done["outcome"]) == ("RESOLVED", "MERCHANT_FAVOR")
    assert done["provisionalCreditStatus"] == "REVERSED"
    assert done["creditReversalTransactionId"] == clawback["id"]
    assert (clawback["type"], clawback["status"], clawback["amount"]) == (
        "ADJUSTMENT",
        "COMPLETED",
        200,
    )
    assert clawback["fromAccount"]["id"] == scene.account and "toAccount" not in clawback
    assert clawback["originalTransactionId"] == original["id"]
    assert clawback["description"].startswith("Provisional credit reversed for dispute of")
    # The bank reclaims its own credit: below zero, no TXN001, no overdraft fee.
    assert balance(rest, scene.account) == -200
    assert disputes_paid(stack) == paid_before
    assert postings_of(stack, dispute["id"]) == [
        {DISPUTES: -200_00, scene.account: 200_00},
        {DISPUTES: 200_00, scene.account: -200_00},
    ]
    history = envelope.success(
        scene.customer.rest.get(f"/v1/transactions?accountId={scene.account}&type=FEE")
    )
    assert history["transactions"] == []
    # Put the account right for the ledger check's sake (not needed by it).
    envelope.success(
        rest.post(
            "/v1/transactions/deposit",
            json={"accountId": scene.account, "amount": 200, "method": "CASH"},
        ),
        201,
    )


def test_other_reasons_are_credited_on_the_investigation_deadline(
    stack: Stack, rest: Rest, scene: Scene
) -> None:
    original = paid(scene, 80)
    paid_before = disputes_paid(stack)
    dispute = opened(scene.customer.rest, original["id"], amount=60.5)
    assert dispute["amount"] == 60.5
    assert dispute["provisionalCreditStatus"] == "PENDING"
    assert dispute["provisionalCreditDue"] == dispute["investigationDeadline"]
    assert "provisionalCreditTransactionId" not in dispute
    assert balance(rest, scene.account) == 920
    # A day before the deadline nothing has moved; on it, the sweeper credits.
    due = stamp(dispute["provisionalCreditDue"])
    days_left = (due.date() - server_now(rest).date()).days
    assert days_left >= 10
    _advance_days(rest, days_left - 1)
    assert get(rest, dispute["id"])["provisionalCreditStatus"] == "PENDING"
    assert balance(rest, scene.account) == 920
    _advance_days(rest, 1)
    if server_now(rest) < due:  # the deadline's time of day is still ahead
        envelope.success(rest.post("/v1/sandbox/clock:advance", json={"seconds": 86_399}))
    credited = get(scene.customer.rest, dispute["id"])
    assert credited["provisionalCreditStatus"] == "CREDITED"
    assert credited["status"] == "OPEN"
    assert balance(rest, scene.account) == 980.5
    assert disputes_paid(stack) - paid_before == 60_50
    # The sweeper runs again: nothing is credited twice.
    _advance_days(rest, 1)
    assert balance(rest, scene.account) == 980.5
    done = envelope.success(resolve(rest, credited["id"], "MERCHANT_FAVOR"))["dispute"]
    assert done["provisionalCreditStatus"] == "REVERSED"
    assert balance(rest, scene.account) == 920
    assert disputes_paid(stack) == paid_before


def test_resolved_before_the_credit_is_due(stack: Stack, rest: Rest, scene: Scene) -> None:
    first, second = paid(scene, 30), paid(scene, 45)
    paid_before = disputes_paid(stack)
    lost = opened(scene.customer.rest, first["id"], reason="MERCHANT_ERROR")
    won = opened(scene.customer.rest, second["id"], reason="INCORRECT_AMOUNT", amount=15)
    # MERCHANT_FAVOR before any credit: nothing moves.
    result = envelope.success(resolve(rest, lost["id"], "MERCHANT_FAVOR"))
    assert "transaction" not in result
    assert result["dispute"]["provisionalCreditStatus"] == "NOT_CREDITED"
    assert balance(rest, scene.account) == 925
    # CUSTOMER_FAVOR before any credit: the final credit posts now.
    result = envelope.success(resolve(rest, won["id"], "CUSTOMER_FAVOR"))
    done, credit = result["dispute"], result["transaction"]
    assert done["provisionalCreditStatus"] == "FINAL"
    assert done["provisionalCreditTransactionId"] == credit["id"]
    assert (credit["type"], credit["amount"]) == ("ADJUSTMENT", 15)
    assert credit["description"].startswith("Dispute credit for dispute of")
    assert balance(rest, scene.account) == 940
    assert disputes_paid(stack) - paid_before == 15_00
    # Past both deadlines the sweeper credits neither.
    _advance_days(rest, 20)
    assert balance(rest, scene.account) == 940
    assert postings_of(stack, lost["id"]) == []
    assert get(rest, lost["id"])["provisionalCreditStatus"] == "NOT_CREDITED"


# --- refusals ---------------------------------------------------------------------------------


def test_what_may_not_be_disputed(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest, scene: Scene
) -> None:
    customer = scene.customer.rest
    original = paid(scene, 40)
    envelope.error(
        customer.post(f"/v1/transactions/{original['id']}/disputes", json={}),
        422,
        "VALIDATION_ERROR",
        "reason",
    )
    for body, code, field in (
        ({"description": "x" * 501}, "VALIDATION_ERROR", "description"),
        ({"amount": 0}, "TXN005", "amount"),
        ({"amount": -1}, "TXN005", "amount"),
        ({"amount": 0.001}, "TXN005", "amount"),
        ({"amount": 40.01}, "TXN005", "amount"),
    ):
        envelope.error(open_(customer, original["id"], **body), 422, code, field)
    envelope.error(open_(customer, "txn_doesnotexist0000"), 404, "NOT_FOUND", "transactionId")
    # A deposit, a transfer received and a transfer between own accounts are not
    # debits of the caller's to dispute.
    deposit = envelope.success(
        rest.post(
            "/v1/transactions/deposit",
            json={"accountId": scene.account, "amount": 20, "method": "CASH"},
        ),
        201,
    )["transaction"]
    envelope.error(open_(customer, deposit["id"]), 409, "CONFLICT")
    received = envelope.success(transfer(rest, scene.payee, scene.account, 5), 201)
    envelope.error(open_(customer, received["transaction"]["id"]), 409, "CONFLICT")
    own = open_account(rest, owner=scene.customer.user_id or "")
    moved = envelope.success(transfer(customer, scene.account, own, 10), 201)["transaction"]
    assert (
        "own accounts" in envelope.error(open_(customer, moved["id"]), 409, "CONFLICT")["message"]
    )
    # Another customer's transaction is not found, not forbidden.
    stranger_id = create_user(rest, "CUSTOMER", "Someone Else")
    stranger = user_caller(stack, raw_channel, "stranger", stranger_id, CUSTOMER_SCOPES)
    auditor_id = create_user(rest, "AUDITOR", "Dispute Auditor")
    auditor = user_caller(stack, raw_channel, "auditor", auditor_id, CUSTOMER_SCOPES)
    try:
        envelope.error(open_(stranger.rest, original["id"]), 404, "NOT_FOUND", "transactionId")
        envelope.error(open_(auditor.rest, original["id"]), 403, "FORBIDDEN")
        assert count(stack, original["id"]) == 0  # no refusal stored anything
        # One open dispute per transaction; what it names is no longer disputable.
        first = opened(customer, original["id"], amount=25)
        error = envelope.error(open_(customer, original["id"], amount=5), 409, "CONFLICT")
        assert error["message"] == "The transaction already has an open dispute"
        # The stranger neither reads nor lists it, and cannot resolve it.
        envelope.error(stranger.rest.get(f"/v1/disputes/{first['id']}"), 404, "NOT_FOUND")
        listed = envelope.success(stranger.rest.get("/v1/disputes"))
        assert listed["disputes"] == [] and listed["pagination"]["totalCount"] == 0
        envelope.error(resolve(stranger.rest, first["id"], "CUSTOMER_FAVOR"), 403, "FORBIDDEN")
        envelope.error(resolve(customer, first["id"], "CUSTOMER_FAVOR"), 403, "FORBIDDEN")
        envelope.error(resolve(auditor.rest, first["id"], "CUSTOMER_FAVOR"), 403, "FORBIDDEN")
        assert get(auditor.rest, first["id"])["id"] == first["id"]  # auditors read
    finally:
        stranger.close()
        auditor.close()
    envelope.error(
        rest.post(f"/v1/disputes/{first['id']}:resolve", json={"note": "no outcome"}),
        422,
        "VALIDATION_ERROR",
        "outcome",
    )
    envelope.error(resolve(rest, "dsp_doesnotexist0000", "CUSTOMER_FAVOR"), 404, "NOT_FOUND")
    envelope.error(rest.get("/v1/disputes/dsp_doesnotexist0000"), 404, "NOT_FOUND")
    envelope.success(resolve(rest, first["id"], "MERCHANT_FAVOR"))
    # Decided amounts are not disputed twice: 15.00 of the 40.00 is left.
    envelope.error(open_(customer, original["id"], amount=15.01), 422, "TXN005", "amount")
    # A refund request asked for counts too; staff may open a dispute for the customer.
    envelope.success(
        customer.post(
            f"/v1/transactions/{original['id']}/refund",
            json={"reason": "DUPLICATE_PAYMENT", "amount": 5},
        ),
        201,
    )
    second = opened(rest, original["id"], reason="MERCHANT_ERROR")
    assert second["amount"] == 10 and "openedBy" not in second
    assert count(stack, original["id"]) == 2


def test_past_sixty_days_a_dispute_is_refused(stack: Stack, rest: Rest, scene: Scene) -> None:
    original = paid(scene, 25)
    _advance_days(rest, 60)
    error = envelope.error(
        open_(scene.customer.rest, original["id"]), 422, "VALIDATION_ERROR", "transactionId"
    )
    assert "60 days" in error["message"]
    assert count(stack, original["id"]) == 0


def test_an_idempotency_key_opens_one_dispute(stack: Stack, rest: Rest, scene: Scene) -> None:
    original = paid(scene, 70)
    key = {"Idempotency-Key": f"dispute-{original['id']}"}
    body = {"reason": "UNAUTHORIZED_TRANSACTION", "amount": 30}
    first = open_(scene.customer.rest, original["id"], headers=key, **body)
    again = open_(scene.customer.rest, original["id"], headers=key, **body)
    assert envelope.success(again, 201) == envelope.success(first, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert count(stack, original["id"]) == 1
    assert balance(rest, scene.account) == 960  # credited once
    envelope.error(
        open_(scene.customer.rest, original["id"], headers=key, reason="UNAUTHORIZED_TRANSACTION"),
        409,
        "IDEMPOTENCY_KEY_REUSED",
    )


def test_lists_filter_by_status_and_owner(
    stack: Stack, raw_channel: grpc.Channel, rest: Rest, scene: Scene
) -> None:
    first, second, third = paid(scene, 10), paid(scene, 20), paid(scene, 30)
    a = opened(scene.customer.rest, first["id"])
    b = opened(scene.customer.rest, second["id"])
    c = opened(scene.customer.rest, third["id"])
    envelope.success(resolve(rest, b["id"], "CUSTOMER_FAVOR"))
    mine = envelope.success(scene.customer.rest.get("/v1/disputes?limit=2"))
    assert [d["id"] for d in mine["disputes"]] == [c["id"], b["id"]]
    assert mine["pagination"]["totalCount"] == 3 and mine["pagination"]["hasNext"]
    rest_of = envelope.success(
        scene.customer.rest.get(f"/v1/disputes?limit=2&pageToken={mine['nextPageToken']}")
    )
    assert [d["id"] for d in rest_of["disputes"]] == [a["id"]]
    open_ones = envelope.success(
        rest.get(f"/v1/disputes?status=OPEN&accountId={scene.account}&sortOrder=asc")
    )
    assert [d["id"] for d in open_ones["disputes"]] == [a["id"], c["id"]]
    resolved = envelope.success(rest.get(f"/v1/disputes?status=RESOLVED&accountId={scene.account}"))
    assert [d["id"] for d in resolved["disputes"]] == [b["id"]]
    by_transaction = envelope.success(rest.get(f"/v1/disputes?transactionId={third['id']}"))
    assert [d["id"] for d in by_transaction["disputes"]] == [c["id"]]
    envelope.error(rest.get("/v1/disputes?status=LOST"), 400, "INVALID_REQUEST")


def test_seed_style_paths_open_disputes_too(stack: Stack, rest: Rest, scene: Scene) -> None:
    first, second = paid(scene, 12), paid(scene, 13)
    for prefix, original in (("/api/transactions", first), ("/api/v1/transactions", second)):
        response = scene.customer.rest.post(
            f"{prefix}/{original['id']}/disputes", json={"reason": "DUPLICATE_PAYMENT"}
        )
        dispute = envelope.success(response, 201)["dispute"]
        assert (dispute["transactionId"], dispute["amount"]) == (original["id"], original["amount"])
    # Unknown fields are refused, as on every request.
    envelope.error(
        scene.customer.rest.post(
            f"/v1/transactions/{first['id']}/disputes",
            json={"reason": "DUPLICATE_PAYMENT", "refundAmount": 1},
        ),
        400,
        "INVALID_REQUEST",
    )
