"""Refund requests: eligibility, amounts, the review's state machine, postings."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from server.domain import errors, refunds
from server.domain import transaction_states as states
from server.domain.postings import is_balanced
from server.domain.refunds import RefundableTransaction, RefundConflict, RefundRequest

COMPLETED_AT = datetime(2027, 3, 1, 10, 0)
NOW = datetime(2027, 3, 3, 12, 30)  # a Wednesday


def payment(**changes: object) -> RefundableTransaction:
    base = RefundableTransaction(
        transaction_id="txn_pay",
        type=states.PAYMENT,
        status=states.COMPLETED,
        amount_minor=150_00,
        currency="USD",
        completed_at=COMPLETED_AT,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def ask(
    original: RefundableTransaction, amount: int | None, request_id: str = "ref_1"
) -> RefundRequest:
    return refunds.new_request(
        request_id,
        original,
        reason=refunds.DUPLICATE_PAYMENT,
        amount_minor=amount,
        description="Accidental duplicate payment",
        now=NOW,
    )


# --- who may ask --------------------------------------------------------------------


def test_a_request_is_pending_review_for_the_whole_amount_by_default() -> None:
    request = ask(payment(), None)
    assert request.status == refunds.PENDING_REVIEW
    assert request.amount_minor == 150_00 and request.currency == "USD"


@pytest.mark.parametrize("kind", sorted(refunds.REFUNDABLE_TYPES))
def test_debits_a_customer_can_dispute_are_refundable(kind: str) -> None:
    assert ask(payment(type=kind), 10_00).amount_minor == 10_00


@pytest.mark.parametrize(
    "kind",
    [states.DEPOSIT, states.INTEREST, states.REFUND, states.REVERSAL, states.ADJUSTMENT],
)
def test_credits_and_corrections_are_not_refundable(kind: str) -> None:
    with pytest.raises(RefundConflict) as raised:
        ask(payment(type=kind), None)
    assert raised.value.reason == "CONFLICT" and raised.value.http_status == 409


def test_a_transfer_between_own_accounts_is_not_refundable() -> None:
    with pytest.raises(RefundConflict):
        ask(payment(type=states.TRANSFER, to_same_owner=True), None)
    assert ask(payment(type=states.TRANSFER, to_same_owner=False), None).amount_minor == 150_00


@pytest.mark.parametrize("status", sorted(states.TRANSACTION_STATUSES - {states.COMPLETED}))
def test_only_completed_transactions_are_refundable(status: str) -> None:
    with pytest.raises(RefundConflict) as raised:
        ask(payment(status=status), None)
    assert raised.value.metadata["status"] == status


def test_the_60_day_window_is_half_open() -> None:
    original = payment()
    deadline = COMPLETED_AT + refunds.REFUND_WINDOW
    refunds.check_refundable(original, deadline - timedelta(microseconds=1))
    with pytest.raises(errors.ValidationFailed) as raised:
        refunds.check_refundable(original, deadline)
    assert raised.value.reason == "VALIDATION_ERROR"


def test_reason_and_description_are_checked() -> None:
    with pytest.raises(errors.ValidationFailed) as raised:
        refunds.new_request(
            "ref_1", payment(), reason=None, amount_minor=None, description="", now=NOW
        )
    assert raised.value.field == "reason"
    with pytest.raises(errors.ValidationFailed) as raised:
        refunds.new_request(
            "ref_1",
            payment(),
            reason=refunds.MERCHANT_ERROR,
            amount_minor=None,
            description="x" * 501,
            now=NOW,
        )
    assert raised.value.field == "description"


# --- how much ----------------------------------------------------------------------


def test_over_refund_is_txn005_with_what_is_left() -> None:
    with pytest.raises(errors.InvalidAmount) as raised:
        ask(payment(refunded_minor=100_00), 50_01)
    assert raised.value.reason == "TXN005" and raised.value.field == "amount"
    assert raised.value.metadata["refundable"] == "50.00"
    assert ask(payment(refunded_minor=100_00), 50_00).amount_minor == 50_00


def test_open_requests_count_against_a_new_one() -> None:
    # Two requests under review at once can never together exceed the original.
    first = ask(payment(), 100_00)
    with_first_open = payment(open_requested_minor=first.amount_minor)
    with pytest.raises(errors.InvalidAmount):
        ask(with_first_open, 60_00, "ref_2")
    assert ask(with_first_open, None, "ref_2").amount_minor == 50_00


def test_nothing_left_to_refund_is_refused_even_without_an_amount() -> None:
    with pytest.raises(errors.InvalidAmount):
        ask(payment(refunded_minor=50_00, open_requested_minor=100_00), None)


@pytest.mark.parametrize("amount", [0, -1])
def test_a_zero_or_negative_amount_is_txn005(amount: int) -> None:
    with pytest.raises(errors.InvalidAmount):
        ask(payment(), amount)


# --- review ---------------------------------------------------------------------------


def test_partial_then_full_refund_moves_the_original_to_refunded() -> None:
    original = payment()
    first = refunds.approve(ask(original, 50_00), original)
    assert first.refund_minor == 50_00
    assert first.original_refunded_minor == 50_00
    assert first.original_status == states.COMPLETED
    assert first.request.status == refunds.APPROVED
    assert refunds.complete(first.request).status == refunds.COMPLETED

    after_first = payment(refunded_minor=first.original_refunded_minor)
    second = refunds.approve(ask(after_first, None, "ref_2"), after_first)
    assert second.refund_minor == 100_00
    assert second.original_refunded_minor == 150_00
    assert second.original_status == states.REFUNDED


def test_staff_may_approve_less_than_asked_but_never_more() -> None:
    original = payment()
    request = ask(original, 100_00)
    partial = refunds.approve(request, original, approved_minor=40_00)
    assert partial.refund_minor == 40_00 and partial.request.approved_minor == 40_00
    assert partial.original_status == states.COMPLETED
    for too_much in (100_01, 0):
        with pytest.raises(errors.InvalidAmount):
            refunds.approve(request, original, approved_minor=too_much)


def test_approval_never_exceeds_the_original_less_refunds_and_other_open_requests() -> None:
    request = ask(payment(), 100_00)
    # Since the request was made, another refund posted and another request opened.
    now_original = payment(refunded_minor=50_00, open_requested_minor=20_00)
    with pytest.raises(errors.InvalidAmount) as raised:
        refunds.approve(request, now_original)
    assert raised.value.metadata["refundable"] == "80.00"


def test_a_reversed_original_cannot_be_refunded_on_approval() -> None:
    request = ask(payment(), None)
    with pytest.raises(RefundConflict):
        refunds.approve(request, payment(status=states.REVERSED))


def test_reject_needs_a_reason_and_is_final() -> None:
    request = ask(payment(), None)
    with pytest.raises(errors.ValidationFailed):
        refunds.reject(request, "  ")
    rejected = refunds.reject(request, "The payee confirmed delivery")
    assert rejected.status == refunds.REJECTED
    with pytest.raises(RefundConflict):
        refunds.approve(rejected, payment())
    with pytest.raises(RefundConflict):
        refunds.reject(rejected, "again")


def test_illegal_review_steps_are_conflicts() -> None:
    request = ask(payment(), None)
    with pytest.raises(RefundConflict):
        refunds.complete(request)  # not approved yet
    approved = refunds.approve(request, payment()).request
    with pytest.raises(RefundConflict):
        refunds.approve(approved, payment())
    with pytest.raises(RefundConflict):
        refunds.reject(approved, "too late")
    completed = refunds.complete(approved)
    with pytest.raises(RefundConflict) as raised:
        refunds.complete(completed)
    assert raised.value.grpc_status == "FAILED_PRECONDITION"


# --- dates and postings -------------------------------------------------------------------


def test_expected_resolution_is_three_business_days_later_at_the_same_time() -> None:
    # Wednesday 2027-03-03 12:30 -> Monday 2027-03-08 12:30 (the weekend does not count).
    assert refunds.expected_resolution(NOW) == datetime(2027, 3, 8, 12, 30)
    # Around a Fed holiday: Friday 2027-05-28, Memorial Day Monday 05-31 -> Thursday 06-03.
    assert refunds.expected_resolution(datetime(2027, 5, 28, 9)) == datetime(2027, 6, 3, 9)


def test_the_refund_posts_from_the_refunds_account_to_the_customer() -> None:
    legs = refunds.refund_legs("acc_refunds", "acc_alice", 50_00, "USD")
    assert is_balanced(legs)
    assert {(leg.account_id, leg.amount_minor) for leg in legs} == {
        ("acc_refunds", -50_00),
        ("acc_alice", 50_00),
    }


def test_a_direct_refund_takes_what_is_left_by_default_and_never_more() -> None:
    original = payment(refunded_minor=20_00, open_requested_minor=30_00)
    rest = original.amount_minor - 50_00
    whole = refunds.direct_refund(original, None, NOW)
    assert whole.refund_minor == rest
    assert whole.original_refunded_minor == original.amount_minor - 30_00
    assert whole.original_status == states.COMPLETED  # the open request may still pay
    part = refunds.direct_refund(payment(), 10_00, NOW)
    assert part.refund_minor == 10_00 and part.original_status == states.COMPLETED
    full = refunds.direct_refund(payment(refunded_minor=10_00), None, NOW)
    assert full.original_status == states.REFUNDED
    with pytest.raises(errors.InvalidAmount):
        refunds.direct_refund(original, rest + 1, NOW)
    with pytest.raises(RefundConflict):
        refunds.direct_refund(payment(status=states.REVERSED), None, NOW)
