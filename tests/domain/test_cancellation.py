"""Which transactions may be cancelled, and what cancelling gives back."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from server.domain import cancellation, errors
from server.domain import transaction_states as states
from server.domain.cancellation import CancellableTransaction

NOW = datetime(2027, 3, 1, 12, 0)


def txn(status: str, *, since: datetime | None = None, fee: int = 0) -> CancellableTransaction:
    processing_since = since if status == states.PROCESSING else None
    return CancellableTransaction("txn_1", status, 150_00, fee, processing_since)


def test_pending_drops_the_pending_debit_amount_and_fee() -> None:
    plan = cancellation.plan_cancellation(txn(states.PENDING, fee=1_00), NOW)
    assert plan.refund_amount_minor == 151_00
    assert plan.pending_debit_released_minor == 151_00
    assert plan.credited_back_minor == 0
    assert plan.cancelled_at == NOW and plan.status_before == states.PENDING


def test_scheduled_reserved_nothing_but_reports_what_no_longer_leaves() -> None:
    plan = cancellation.plan_cancellation(txn(states.SCHEDULED), NOW)
    assert plan.refund_amount_minor == 150_00
    assert plan.pending_debit_released_minor == 0
    assert plan.credited_back_minor == 0


def test_a_scheduled_payment_releases_what_it_reserved() -> None:
    # Scheduled payments reserve amount and fee in pending debits from the
    # day they are made; only scheduled internal transfers reserve nothing.
    scheduled_payment = CancellableTransaction(
        "txn_2", states.SCHEDULED, 150_00, 2_00, None, states.PAYMENT
    )
    plan = cancellation.plan_cancellation(scheduled_payment, NOW)
    assert plan.pending_debit_released_minor == 152_00
    assert plan.refund_amount_minor == 152_00
    assert plan.credited_back_minor == 0


def test_processing_within_the_window_credits_the_debit_back() -> None:
    plan = cancellation.plan_cancellation(
        txn(states.PROCESSING, since=NOW - timedelta(minutes=4), fee=25_00), NOW
    )
    assert plan.credited_back_minor == 175_00
    assert plan.refund_amount_minor == 175_00
    assert plan.pending_debit_released_minor == 0


def test_the_five_minute_window_is_half_open() -> None:
    since = NOW - cancellation.PROCESSING_CANCEL_WINDOW
    # One microsecond before five minutes: still cancellable.
    cancellation.check_cancellable(
        txn(states.PROCESSING, since=since + timedelta(microseconds=1)), NOW
    )
    # At exactly five minutes: too late.
    with pytest.raises(errors.TransactionNotCancellable) as raised:
        cancellation.check_cancellable(txn(states.PROCESSING, since=since), NOW)
    assert raised.value.reason == "TXN007" and raised.value.http_status == 409
    assert raised.value.metadata["cancellable_until"] == "2027-03-01T12:00:00Z"


def test_the_window_runs_from_entering_processing_not_from_creation() -> None:
    # A payment scheduled days ago that started processing at 09:00 today.
    started = datetime(2027, 3, 1, 9, 0)
    cancellation.check_cancellable(
        txn(states.PROCESSING, since=started), started + timedelta(minutes=2)
    )


def test_completed_is_txn008() -> None:
    with pytest.raises(errors.TransactionAlreadyCompleted) as raised:
        cancellation.check_cancellable(txn(states.COMPLETED), NOW)
    assert raised.value.reason == "TXN008" and raised.value.http_status == 409


@pytest.mark.parametrize(
    "status",
    [states.INITIATED, states.FAILED, states.CANCELLED, states.REFUNDED, states.REVERSED],
)
def test_every_other_final_or_early_status_is_txn007(status: str) -> None:
    with pytest.raises(errors.TransactionNotCancellable) as raised:
        cancellation.plan_cancellation(txn(status), NOW)
    assert raised.value.reason == "TXN007"
    assert raised.value.metadata == {"transaction_id": "txn_1", "status": status}


def test_every_status_is_either_cancellable_or_refused() -> None:
    for status in sorted(states.TRANSACTION_STATUSES):
        candidate = txn(status, since=NOW)
        if status in cancellation.CANCELLABLE_STATUSES:
            cancellation.check_cancellable(candidate, NOW)
        else:
            with pytest.raises(errors.Conflict):
                cancellation.check_cancellable(candidate, NOW)


def test_an_unset_reason_is_recorded_as_other_and_notes_are_bounded() -> None:
    assert cancellation.check_reason(None, "") == cancellation.OTHER
    assert cancellation.check_reason("INCORRECT_AMOUNT", "resend") == "INCORRECT_AMOUNT"
    with pytest.raises(errors.ValidationFailed) as raised:
        cancellation.check_reason("CHANGED_MIND", "")
    assert raised.value.field == "reason"
    with pytest.raises(errors.ValidationFailed) as raised:
        cancellation.check_reason(None, "x" * 501)
    assert raised.value.field == "notes"
