"""The dispute rules without a database: window, amounts, deadlines, resolution."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from server.domain import disputes, errors
from server.domain.postings import is_balanced

COMPLETED_AT = datetime(2026, 3, 2, 15, 30)  # a Monday
ORIGINAL = disputes.DisputableTransaction(
    transaction_id="txn_original",
    type="PAYMENT",
    status="COMPLETED",
    amount_minor=100_00,
    currency="USD",
    completed_at=COMPLETED_AT,
)


def _open(original: disputes.DisputableTransaction = ORIGINAL, **kw: object) -> disputes.Dispute:
    values: dict[str, object] = {
        "reason": "SERVICE_NOT_RECEIVED",
        "amount_minor": None,
        "description": "",
        "now": COMPLETED_AT + timedelta(days=1),
    }
    values.update(kw)
    return disputes.open_dispute("dsp_1", original, **values)  # type: ignore[arg-type]


def test_the_window_is_sixty_days_half_open() -> None:
    last = COMPLETED_AT + timedelta(days=60) - timedelta(microseconds=1)
    assert _open(now=last).status == disputes.OPEN
    with pytest.raises(errors.ValidationFailed) as caught:
        _open(now=COMPLETED_AT + timedelta(days=60))
    assert caught.value.field == "transactionId" and "60 days" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"type": "DEPOSIT"}, "DEPOSIT transaction cannot be disputed"),
        ({"type": "REFUND"}, "REFUND transaction cannot be disputed"),
        ({"type": "TRANSFER", "to_same_owner": True}, "your own accounts"),
        ({"status": "SCHEDULED"}, "Only a COMPLETED transaction"),
        ({"status": "REVERSED"}, "Only a COMPLETED transaction"),
        ({"status": "REFUNDED"}, "Only a COMPLETED transaction"),
        ({"open_dispute_id": "dsp_other"}, "already has an open dispute"),
    ],
)
def test_what_cannot_be_disputed_is_a_conflict(change: dict[str, object], words: str) -> None:
    with pytest.raises(disputes.DisputeConflict) as caught:
        _open(replace(ORIGINAL, **change))  # type: ignore[arg-type]
    assert words in str(caught.value)
    assert caught.value.reason == "CONFLICT" and caught.value.grpc_status == "FAILED_PRECONDITION"


def test_every_debit_type_a_refund_may_name_may_be_disputed() -> None:
    for kind in ("TRANSFER", "EXTERNAL_TRANSFER", "WITHDRAWAL", "PAYMENT", "FEE"):
        assert _open(replace(ORIGINAL, type=kind)).amount_minor == 100_00


def test_the_amount_is_what_refunds_and_other_disputes_leave() -> None:
    partly = replace(ORIGINAL, refunded_minor=20_00, open_refund_minor=10_00, disputed_minor=30_00)
    assert partly.disputable_minor == 40_00
    assert _open(partly).amount_minor == 40_00  # by default, all that is left
    assert _open(partly, amount_minor=40_00).amount_minor == 40_00
    for wanted in (40_01, 0, -1):
        with pytest.raises(errors.InvalidAmount) as caught:
            _open(partly, amount_minor=wanted)
        assert caught.value.reason == "TXN005" and caught.value.field == "amount"
    spent = replace(ORIGINAL, disputed_minor=100_00)
    with pytest.raises(errors.InvalidAmount):
        _open(spent)
    assert replace(ORIGINAL, refunded_minor=90_00, disputed_minor=30_00).disputable_minor == 0


def test_reason_and_description_are_checked() -> None:
    for reason in (None, "", "CHANGED_MY_MIND", "4"):
        with pytest.raises(errors.ValidationFailed) as caught:
            _open(reason=reason)
        assert caught.value.field == "reason"
    for reason in sorted(disputes.DISPUTE_REASONS):
        assert _open(reason=reason).reason == reason
    assert _open(description="x" * 500).status == disputes.OPEN
    with pytest.raises(errors.ValidationFailed) as caught:
        _open(description="x" * 501)
    assert caught.value.field == "description"


def test_the_investigation_deadline_is_ten_business_days() -> None:
    # Monday 2026-03-02 15:30 -> two weeks later, Monday 2026-03-16 15:30.
    assert disputes.investigation_deadline(COMPLETED_AT) == datetime(2026, 3, 16, 15, 30)
    # Over Thanksgiving (Thu 2026-11-26): Friday 11-20 -> Monday 12-07.
    assert disputes.investigation_deadline(datetime(2026, 11, 20, 9)).date() == date(2026, 12, 7)
    # Opened on a Saturday: counted from the next business day (Monday).
    assert disputes.investigation_deadline(datetime(2026, 3, 7, 8)).date() == date(2026, 3, 23)


def test_the_credit_is_due_at_once_for_unauthorized_and_at_the_deadline_otherwise() -> None:
    now = COMPLETED_AT + timedelta(days=1)
    unauthorized = _open(reason="UNAUTHORIZED_TRANSACTION", now=now)
    assert unauthorized.credit_due == now and disputes.credit_is_due(unauthorized, now)
    other = _open(reason="DUPLICATE_PAYMENT", now=now)
    assert other.credit_due == other.investigation_deadline
    assert other.credit_status == disputes.PENDING
    assert not disputes.credit_is_due(other, other.credit_due - timedelta(microseconds=1))
    assert disputes.credit_is_due(other, other.credit_due)
    credited = disputes.credit(other)
    assert credited.credit_status == disputes.CREDITED
    assert not disputes.credit_is_due(credited, other.credit_due)
    with pytest.raises(disputes.DisputeConflict):
        disputes.credit(credited)


@pytest.mark.parametrize(
    ("credited", "outcome", "posting", "after"),
    [
        (True, "CUSTOMER_FAVOR", None, disputes.FINAL),
        (False, "CUSTOMER_FAVOR", disputes.FINAL_CREDIT, disputes.FINAL),
        (True, "MERCHANT_FAVOR", disputes.CREDIT_REVERSAL, disputes.REVERSED),
        (False, "MERCHANT_FAVOR", None, disputes.NOT_CREDITED),
    ],
)
def test_resolution_says_what_posts(
    credited: bool, outcome: str, posting: str | None, after: str
) -> None:
    dispute = _open()
    if credited:
        dispute = disputes.credit(dispute)
    resolution = disputes.resolve(dispute, outcome, "note")
    assert resolution.posting == posting
    assert resolution.dispute.status == disputes.RESOLVED
    assert (resolution.dispute.outcome, resolution.dispute.credit_status) == (outcome, after)
    # Exactly once: a resolved dispute is never resolved again, nor credited.
    with pytest.raises(disputes.DisputeConflict):
        disputes.resolve(resolution.dispute, outcome)
    with pytest.raises(disputes.DisputeConflict):
        disputes.credit(resolution.dispute)
    assert not disputes.credit_is_due(resolution.dispute, datetime(2100, 1, 1))


def test_resolution_checks_outcome_and_note() -> None:
    for outcome in (None, "", "SPLIT"):
        with pytest.raises(errors.ValidationFailed) as caught:
            disputes.resolve(_open(), outcome)
        assert caught.value.field == "outcome"
    with pytest.raises(errors.ValidationFailed) as caught:
        disputes.resolve(_open(), "CUSTOMER_FAVOR", "x" * 501)
    assert caught.value.field == "note"


def test_postings_balance_and_point_the_right_way() -> None:
    bank, customer = disputes.disputes_account_id("USD"), "acc_customer"
    for posting, sign in (
        (disputes.PROVISIONAL_CREDIT, 1),
        (disputes.FINAL_CREDIT, 1),
        (disputes.CREDIT_REVERSAL, -1),
    ):
        legs = disputes.posting_legs(bank, customer, 12_34, "USD", posting)
        assert is_balanced(legs)
        assert {leg.account_id: leg.amount_minor for leg in legs} == {
            bank: -sign * 12_34,
            customer: sign * 12_34,
        }
    assert disputes.disputes_account_id("EUR") != bank
    assert disputes.posting_description(disputes.CREDIT_REVERSAL, "TXN1") == (
        "Provisional credit reversed for dispute of TXN1"
    )


def test_event_data() -> None:
    dispute = _open(amount_minor=12_50)
    data = disputes.event_data(dispute, account_id="acc_customer")
    assert data["amount"] == 12.5 and data["status"] == "OPEN"
    assert data["provisionalCreditStatus"] == "PENDING"
    assert str(data["investigationDeadline"]).endswith("Z") and "outcome" not in data
    resolved = disputes.resolve(dispute, "MERCHANT_FAVOR").dispute
    at = datetime(2026, 3, 5, 10)
    data = disputes.event_data(resolved, account_id="acc_customer", resolved_at=at)
    assert (data["outcome"], data["resolvedAt"]) == ("MERCHANT_FAVOR", "2026-03-05T10:00:00Z")
