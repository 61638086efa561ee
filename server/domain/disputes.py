"""Disputes: who may open one, for how much, when the provisional credit is
due, and the resolution's state machine (seed 002, "Dispute Resolution").

Decisions where the seed is silent (dispute.proto and dispute_service.proto
say the same to clients):
- Disputable originals are the debits a refund may name (domain/refunds.py):
  a COMPLETED TRANSFER (not between two accounts of one customer),
  EXTERNAL_TRANSFER, WITHDRAWAL, PAYMENT or FEE of a customer account.
- The window is 60 days from the original's completion, half-open (refunds
  use the same window): at exactly 60 days it is closed.
- What may be disputed: the original amount (fee excluded) less refunds
  posted, less open refund requests, less every other dispute of it whatever
  its outcome (a decided amount is not disputed twice; the rest may be).
  One OPEN dispute per transaction at a time.
- The investigation deadline is 10 business days (Federal Reserve calendar)
  after the opening day, at the opening's time of day.
- Provisional credit: at once for UNAUTHORIZED_TRANSACTION (zero liability);
  otherwise due at the investigation deadline if the dispute is still open
  then (Regulation E's promise: an investigation longer than 10 business
  days runs with the customer's money back).
- Resolution, once: CUSTOMER_FAVOR makes the credit final (posting it if it
  had not posted); MERCHANT_FAVOR takes a posted credit back with a debit of
  the same amount, whatever the balance then (the bank reclaims its own
  credit: no TXN001, no overdraft fee); a credit that never posted is
  NOT_CREDITED and nothing moves.

Life cycle: OPEN -> RESOLVED (outcome CUSTOMER_FAVOR or MERCHANT_FAVOR);
credit PENDING -> CREDITED -> FINAL | REVERSED, or PENDING -> FINAL |
NOT_CREDITED. Any other move is CONFLICT (409, gRPC FAILED_PRECONDITION).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from server.domain import errors, refunds
from server.domain import transaction_states as states
from server.domain.calendar import add_business_days
from server.domain.ids import stable_id
from server.domain.limits import format_major
from server.domain.money import to_major
from server.domain.postings import Leg, assert_balanced

# DisputeStatusEnum.DisputeStatus.
OPEN = "OPEN"
RESOLVED = "RESOLVED"
# DisputeOutcomeEnum.DisputeOutcome.
CUSTOMER_FAVOR = "CUSTOMER_FAVOR"
MERCHANT_FAVOR = "MERCHANT_FAVOR"
OUTCOMES = frozenset({CUSTOMER_FAVOR, MERCHANT_FAVOR})
# ProvisionalCreditStatusEnum.ProvisionalCreditStatus.
PENDING = "PENDING"
CREDITED = "CREDITED"
FINAL = "FINAL"
REVERSED = "REVERSED"
NOT_CREDITED = "NOT_CREDITED"

# DisputeReasonEnum.DisputeReason: the words of RefundReasonEnum.
UNAUTHORIZED_TRANSACTION = refunds.UNAUTHORIZED_TRANSACTION
DISPUTE_REASONS = refunds.REFUND_REASONS
DISPUTABLE_TYPES = refunds.REFUNDABLE_TYPES

DISPUTE_WINDOW = timedelta(days=60)
INVESTIGATION_BUSINESS_DAYS = 10
TEXT_LENGTH_MAX = 500  # description and resolution note

# The general-ledger account (m0031) credits are paid from and claw-backs return to.
DISPUTES_ACCOUNT_CODE = "DISPUTES"
# details.dispute_posting of the ADJUSTMENTs a dispute posts.
PROVISIONAL_CREDIT = "PROVISIONAL_CREDIT"
FINAL_CREDIT = "FINAL_CREDIT"
CREDIT_REVERSAL = "PROVISIONAL_CREDIT_REVERSAL"

EVENT_CREATED = "dispute.created"
EVENT_RESOLVED = "dispute.resolved"


class DisputeConflict(errors.Conflict):
    """The dispute's or the original's state forbids the step (409, FAILED_PRECONDITION)."""

    grpc_status = "FAILED_PRECONDITION"


def disputes_account_id(currency: str) -> str:
    """The DISPUTES account of `currency` (the id scheme of store/bootstrap.py)."""
    return stable_id("acc", f"internal:{DISPUTES_ACCOUNT_CODE}:{currency}")


@dataclass(frozen=True, slots=True)
class DisputableTransaction:
    """The original as the dispute rules see it, amounts in minor units.

    `refunded_minor` and `open_refund_minor`: refunds posted and asked for
    in open refund requests; `disputed_minor`: the amounts of its other
    disputes (any status); `open_dispute_id`: its OPEN dispute, if any.
    """

    transaction_id: str
    type: str
    status: str
    amount_minor: int
    currency: str
    completed_at: datetime | None
    refunded_minor: int = 0
    open_refund_minor: int = 0
    disputed_minor: int = 0
    open_dispute_id: str | None = None
    to_same_owner: bool = False

    @property
    def disputable_minor(self) -> int:
        """What a new dispute may still name: never negative."""
        rest = self.amount_minor - self.refunded_minor - self.open_refund_minor
        return max(0, rest - self.disputed_minor)


@dataclass(frozen=True, slots=True)
class Dispute:
    """A dispute's rule-relevant state; the use case stores the rest beside it."""

    dispute_id: str
    transaction_id: str
    status: str
    reason: str
    amount_minor: int
    currency: str
    created_at: datetime
    investigation_deadline: datetime
    credit_status: str
    credit_due: datetime
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving: the dispute after it, and what must post (if anything)."""

    dispute: Dispute
    posting: str | None  # FINAL_CREDIT (credit), CREDIT_REVERSAL (debit) or None


def _check_text(value: str, field: str) -> str:
    if len(value) > TEXT_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"{field} must be at most {TEXT_LENGTH_MAX} characters",
            field=field,
            metadata={"length_max": str(TEXT_LENGTH_MAX)},
        )
    return value


def check_disputable(original: DisputableTransaction, now: datetime) -> None:
    """Refuses an original no dispute may name: CONFLICT, or VALIDATION_ERROR past 60 days."""
    metadata = {
        "transaction_id": original.transaction_id,
        "status": original.status,
        "type": original.type,
    }
    if original.type not in DISPUTABLE_TYPES:
        raise DisputeConflict(
            f"A {original.type} transaction cannot be disputed", metadata=metadata
        )
    if original.type == states.TRANSFER and original.to_same_owner:
        raise DisputeConflict(
            "A transfer between your own accounts cannot be disputed; transfer it back",
            metadata=metadata,
        )
    if original.status != states.COMPLETED:
        raise DisputeConflict(
            f"Only a COMPLETED transaction can be disputed, not {original.status}",
            metadata=metadata,
        )
    if original.open_dispute_id is not None:
        raise DisputeConflict(
            "The transaction already has an open dispute",
            metadata={**metadata, "dispute_id": original.open_dispute_id},
        )
    assert original.completed_at is not None, "a COMPLETED transaction has completed_at"
    if now >= original.completed_at + DISPUTE_WINDOW:
        raise errors.ValidationFailed(
            "Disputes can be opened within 60 days of the transaction",
            field="transactionId",
            metadata={**metadata, "window_days": str(DISPUTE_WINDOW.days)},
        )


def disputed_amount(original: DisputableTransaction, amount_minor: int | None) -> int:
    """The amount of a new dispute: the whole disputable rest by default; TXN005 above it."""
    if amount_minor is not None and amount_minor <= 0:
        raise errors.InvalidAmount("Amount must be greater than zero", field="amount")
    available = original.disputable_minor
    wanted = available if amount_minor is None else amount_minor
    if available == 0 or wanted > available:
        raise errors.InvalidAmount(
            "The amount exceeds what can still be disputed",
            field="amount",
            metadata={"disputable": format_major(available, original.currency)},
        )
    return wanted


def investigation_deadline(created_at: datetime) -> datetime:
    """The opening's time of day, 10 business days after the opening day."""
    day = add_business_days(created_at.date(), INVESTIGATION_BUSINESS_DAYS)
    return datetime.combine(day, created_at.time())


def credit_due(reason: str, created_at: datetime) -> datetime:
    """At once for an unauthorized transaction; else at the investigation deadline."""
    if reason == UNAUTHORIZED_TRANSACTION:
        return created_at
    return investigation_deadline(created_at)


def check_reason(reason: str | None) -> str:
    if not reason or reason not in DISPUTE_REASONS:
        raise errors.ValidationFailed(
            f"reason must be one of {', '.join(sorted(DISPUTE_REASONS))}", field="reason"
        )
    return reason


def open_dispute(
    dispute_id: str,
    original: DisputableTransaction,
    *,
    reason: str | None,
    amount_minor: int | None,
    description: str,
    now: datetime,
) -> Dispute:
    """An OPEN dispute after every check a customer's dispute must pass."""
    word = check_reason(reason)
    _check_text(description, "description")
    check_disputable(original, now)
    amount = disputed_amount(original, amount_minor)
    return Dispute(
        dispute_id=dispute_id,
        transaction_id=original.transaction_id,
        status=OPEN,
        reason=word,
        amount_minor=amount,
        currency=original.currency,
        created_at=now,
        investigation_deadline=investigation_deadline(now),
        credit_status=PENDING,
        credit_due=credit_due(word, now),
    )


def credit_is_due(dispute: Dispute, now: datetime) -> bool:
    """An OPEN dispute whose provisional credit has not posted and is due by `now`."""
    return dispute.status == OPEN and dispute.credit_status == PENDING and now >= dispute.credit_due


def credit(dispute: Dispute) -> Dispute:
    """PENDING -> CREDITED: the provisional credit posted."""
    if dispute.status != OPEN or dispute.credit_status != PENDING:
        raise DisputeConflict(
            "The provisional credit was already posted or the dispute is resolved",
            metadata={"dispute_id": dispute.dispute_id, "status": dispute.status},
        )
    return replace(dispute, credit_status=CREDITED)


def check_outcome(outcome: str | None) -> str:
    if not outcome or outcome not in OUTCOMES:
        raise errors.ValidationFailed(
            f"outcome must be one of {', '.join(sorted(OUTCOMES))}", field="outcome"
        )
    return outcome


def resolve(dispute: Dispute, outcome: str | None, note: str = "") -> Resolution:
    """OPEN -> RESOLVED once; says which posting (if any) the resolution makes."""
    word = check_outcome(outcome)
    _check_text(note, "note")
    if dispute.status != OPEN:
        raise DisputeConflict(
            "The dispute is already resolved",
            metadata={"dispute_id": dispute.dispute_id, "outcome": dispute.outcome or ""},
        )
    credited = dispute.credit_status == CREDITED
    if word == CUSTOMER_FAVOR:
        posting, after = (None if credited else FINAL_CREDIT), FINAL
    else:
        posting, after = (
            (CREDIT_REVERSAL if credited else None),
            (REVERSED if credited else NOT_CREDITED),
        )
    return Resolution(
        dispute=replace(dispute, status=RESOLVED, outcome=word, credit_status=after),
        posting=posting,
    )


def posting_legs(
    disputes_account: str, account_id: str, amount_minor: int, currency: str, posting: str
) -> tuple[Leg, Leg]:
    """A credit (PROVISIONAL_CREDIT, FINAL_CREDIT: disputes account -> customer)
    or the claw-back (CREDIT_REVERSAL: customer -> disputes account)."""
    assert amount_minor > 0 and disputes_account != account_id
    signed = -amount_minor if posting == CREDIT_REVERSAL else amount_minor
    legs = (Leg(disputes_account, -signed, currency), Leg(account_id, signed, currency))
    assert_balanced(legs)
    return legs


def posting_description(posting: str, original_number: str) -> str:
    """The history line of a dispute's ADJUSTMENT."""
    label = {
        PROVISIONAL_CREDIT: "Provisional credit",
        FINAL_CREDIT: "Dispute credit",
        CREDIT_REVERSAL: "Provisional credit reversed",
    }[posting]
    return f"{label} for dispute of {original_number}"


def event_data(
    dispute: Dispute,
    *,
    account_id: str,
    resolved_at: datetime | None = None,
) -> dict[str, object]:
    """`data` of dispute.created and dispute.resolved (outcome and resolvedAt on the latter)."""
    data: dict[str, object] = {
        "disputeId": dispute.dispute_id,
        "transactionId": dispute.transaction_id,
        "accountId": account_id,
        "amount": to_major(dispute.amount_minor, dispute.currency),
        "currency": dispute.currency,
        "reason": dispute.reason,
        "status": dispute.status,
        "provisionalCreditStatus": dispute.credit_status,
        "investigationDeadline": dispute.investigation_deadline.isoformat() + "Z",
        "provisionalCreditDue": dispute.credit_due.isoformat() + "Z",
    }
    if dispute.outcome is not None:
        data["outcome"] = dispute.outcome
    if resolved_at is not None:
        data["resolvedAt"] = resolved_at.isoformat() + "Z"
    return data
