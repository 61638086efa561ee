"""Refund requests: who may ask, for how much, and the review's state machine.

A customer asks for money back on a COMPLETED debit of their own (seed 002
section 10); staff review the request (RefundService). Approval posts a
REFUND transaction from the bank's refunds account to the account the
original debited; nothing moves before that.

Decisions where the seeds are silent (refund.proto and
transaction_service.proto say the same):
- Refundable types are the debits a customer can dispute: TRANSFER,
  EXTERNAL_TRANSFER, WITHDRAWAL (an ATM that did not dispense, a card
  payment), PAYMENT and FEE. A TRANSFER between two accounts of the same
  customer is not refundable: the money never left the customer, who moves
  it back with another transfer. Deposits, interest, refunds, reversals and
  adjustments are not debits a customer disputes.
- The request must come within 60 days of the original's completion (seed
  002's dispute window); the window is half-open.
- What may be asked is the original amount, fee excluded, less refunds
  already posted and less what other open requests ask for: two requests
  under review at once can never together exceed the original. Asking more
  is TXN005 on `amount`, as for any amount that breaks a limit.
- `expectedResolution` is the creation time plus 3 business days (Federal
  Reserve calendar), the short end of the seed's "3-5 business days": it is
  the date the bank commits to decide by, so it names the earliest promise
  the bank keeps. The time of day of the request is kept.
- Staff approve the whole request or less of it (a partial approval), never
  more than the request, and never more than the original less refunds
  posted and other open requests. The original becomes REFUNDED when its
  refunds reach its amount; until then it stays COMPLETED with a larger
  `refundedAmount`.
- A request whose original is no longer COMPLETED (reversed, say) cannot be
  approved: CONFLICT; staff reject it.

Life cycle: PENDING_REVIEW -> APPROVED -> COMPLETED, or PENDING_REVIEW ->
REJECTED. Any other move is CONFLICT (409, gRPC FAILED_PRECONDITION).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from server.domain import errors
from server.domain import transaction_states as states
from server.domain.calendar import add_business_days
from server.domain.limits import format_major
from server.domain.postings import Leg, assert_balanced

# RefundRequestStatusEnum.RefundRequestStatus.
PENDING_REVIEW = "PENDING_REVIEW"
APPROVED = "APPROVED"
REJECTED = "REJECTED"
COMPLETED = "COMPLETED"
OPEN_STATUSES = frozenset({PENDING_REVIEW, APPROVED})

# RefundReasonEnum.RefundReason (seed 002's five reasons).
DUPLICATE_PAYMENT = "DUPLICATE_PAYMENT"
SERVICE_NOT_RECEIVED = "SERVICE_NOT_RECEIVED"
INCORRECT_AMOUNT = "INCORRECT_AMOUNT"
UNAUTHORIZED_TRANSACTION = "UNAUTHORIZED_TRANSACTION"
MERCHANT_ERROR = "MERCHANT_ERROR"
REFUND_REASONS = frozenset(
    {
        DUPLICATE_PAYMENT,
        SERVICE_NOT_RECEIVED,
        INCORRECT_AMOUNT,
        UNAUTHORIZED_TRANSACTION,
        MERCHANT_ERROR,
    }
)

REFUNDABLE_TYPES = frozenset(
    {states.TRANSFER, states.EXTERNAL_TRANSFER, states.WITHDRAWAL, states.PAYMENT, states.FEE}
)
REFUND_WINDOW = timedelta(days=60)
EXPECTED_RESOLUTION_BUSINESS_DAYS = 3
TEXT_LENGTH_MAX = 500  # description, review notes and rejection reason
# The internal account (store/bootstrap.py code) REFUND transactions are paid from.
REFUNDS_ACCOUNT_CODE = "REFUNDS"
EVENT_REFUNDED = "transaction.refunded"


class RefundConflict(errors.Conflict):
    """The request's or the original's state forbids the step (409, FAILED_PRECONDITION)."""

    grpc_status = "FAILED_PRECONDITION"


@dataclass(frozen=True, slots=True)
class RefundableTransaction:
    """The original transaction as the refund rules see it, amounts in minor units.

    `refunded_minor`: REFUND transactions posted against it. `open_requested_minor`:
    the amounts of its other requests in PENDING_REVIEW or APPROVED (an
    APPROVED one's REFUND is not final yet, so it is not in refunded_minor).
    `to_same_owner`: a TRANSFER whose credited account belongs to the owner
    of the debited one.
    """

    transaction_id: str
    type: str
    status: str
    amount_minor: int
    currency: str
    completed_at: datetime | None
    refunded_minor: int = 0
    open_requested_minor: int = 0
    to_same_owner: bool = False
    # Disputes of it that are OPEN or were resolved for the customer: their
    # credit gives (or gave) that money back, so it is not refundable again.
    disputed_minor: int = 0

    @property
    def refundable_minor(self) -> int:
        """What a new request may still ask for: never negative."""
        rest = self.amount_minor - self.refunded_minor - self.open_requested_minor
        return max(0, rest - self.disputed_minor)


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """A request's rule-relevant state; the use case stores the rest beside it."""

    request_id: str
    transaction_id: str
    status: str
    amount_minor: int
    currency: str
    approved_minor: int | None = None


@dataclass(frozen=True, slots=True)
class Approval:
    """The outcome of approving: the request, the REFUND's amount, the original after it."""

    request: RefundRequest
    refund_minor: int
    original_refunded_minor: int
    original_status: str


def _conflict(message: str, **metadata: str) -> RefundConflict:
    return RefundConflict(message, metadata=metadata)


def _check_text(value: str, field: str) -> str:
    if len(value) > TEXT_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"{field} must be at most {TEXT_LENGTH_MAX} characters",
            field=field,
            metadata={"length_max": str(TEXT_LENGTH_MAX)},
        )
    return value


def check_refundable(original: RefundableTransaction, now: datetime) -> None:
    """Refuses an original that no request may name: CONFLICT, or VALIDATION_ERROR past 60 days."""
    metadata = {
        "transaction_id": original.transaction_id,
        "status": original.status,
        "type": original.type,
    }
    if original.type not in REFUNDABLE_TYPES:
        raise RefundConflict(f"A {original.type} transaction cannot be refunded", metadata=metadata)
    if original.type == states.TRANSFER and original.to_same_owner:
        raise RefundConflict(
            "A transfer between your own accounts cannot be refunded; transfer it back",
            metadata=metadata,
        )
    if original.status != states.COMPLETED:
        raise RefundConflict(
            f"Only a COMPLETED transaction can be refunded, not {original.status}",
            metadata=metadata,
        )
    assert original.completed_at is not None, "a COMPLETED transaction has completed_at"
    if now >= original.completed_at + REFUND_WINDOW:
        raise errors.ValidationFailed(
            "Refunds can be requested within 60 days of the transaction",
            field="transactionId",
            metadata={**metadata, "window_days": str(REFUND_WINDOW.days)},
        )


def requested_amount(original: RefundableTransaction, amount_minor: int | None) -> int:
    """The amount of a new request: the whole refundable rest by default; TXN005 above it."""
    if amount_minor is not None and amount_minor <= 0:
        raise errors.InvalidAmount("Amount must be greater than zero", field="amount")
    available = original.refundable_minor
    wanted = available if amount_minor is None else amount_minor
    if available == 0 or wanted > available:
        raise errors.InvalidAmount(
            "The amount exceeds what can still be refunded",
            field="amount",
            metadata={"refundable": format_major(available, original.currency)},
        )
    return wanted


def expected_resolution(created_at: datetime) -> datetime:
    """The creation time of day, 3 business days after the creation date."""
    day = add_business_days(created_at.date(), EXPECTED_RESOLUTION_BUSINESS_DAYS)
    return datetime.combine(day, created_at.time())


def new_request(
    request_id: str,
    original: RefundableTransaction,
    *,
    reason: str | None,
    amount_minor: int | None,
    description: str,
    now: datetime,
) -> RefundRequest:
    """A PENDING_REVIEW request after every check a customer's request must pass."""
    if not reason or reason not in REFUND_REASONS:
        raise errors.ValidationFailed(
            f"reason must be one of {', '.join(sorted(REFUND_REASONS))}", field="reason"
        )
    _check_text(description, "description")
    check_refundable(original, now)
    amount = requested_amount(original, amount_minor)
    return RefundRequest(
        request_id=request_id,
        transaction_id=original.transaction_id,
        status=PENDING_REVIEW,
        amount_minor=amount,
        currency=original.currency,
    )


def approve(
    request: RefundRequest,
    original: RefundableTransaction,
    *,
    notes: str = "",
    approved_minor: int | None = None,
) -> Approval:
    """Approves the request (for its amount, or less); says what the original becomes.

    `original.open_requested_minor` must count the *other* open requests
    only, not this one.
    """
    _check_text(notes, "notes")
    if request.status != PENDING_REVIEW:
        raise _conflict(
            f"A {request.status} refund request cannot be approved",
            refund_request_id=request.request_id,
            status=request.status,
        )
    assert request.transaction_id == original.transaction_id
    if original.status != states.COMPLETED:
        raise _conflict(
            f"The original transaction is {original.status}; reject the request",
            refund_request_id=request.request_id,
            transaction_id=original.transaction_id,
            status=original.status,
        )
    amount = request.amount_minor if approved_minor is None else approved_minor
    ceiling = min(request.amount_minor, original.refundable_minor)
    if not 0 < amount <= ceiling:
        raise errors.InvalidAmount(
            "The approved amount must be above zero and at most the refundable amount",
            field="amount",
            metadata={"refundable": format_major(ceiling, original.currency)},
        )
    refunded = original.refunded_minor + amount
    return Approval(
        request=replace(request, status=APPROVED, approved_minor=amount),
        refund_minor=amount,
        original_refunded_minor=refunded,
        original_status=states.REFUNDED if refunded == original.amount_minor else states.COMPLETED,
    )


@dataclass(frozen=True, slots=True)
class DirectRefund:
    """A staff (goodwill) refund without a request: its amount, the original after it."""

    refund_minor: int
    original_refunded_minor: int
    original_status: str


def direct_refund(
    original: RefundableTransaction, amount_minor: int | None, now: datetime
) -> DirectRefund:
    """Staff refund a debit at once: the same originals and bounds as a request
    (never more than the original less its refunds and open requests; by
    default all that is left)."""
    check_refundable(original, now)
    amount = requested_amount(original, amount_minor)
    refunded = original.refunded_minor + amount
    return DirectRefund(
        refund_minor=amount,
        original_refunded_minor=refunded,
        original_status=states.REFUNDED if refunded == original.amount_minor else states.COMPLETED,
    )


def complete(request: RefundRequest) -> RefundRequest:
    """APPROVED -> COMPLETED once the REFUND transaction is final."""
    if request.status != APPROVED:
        raise _conflict(
            f"A {request.status} refund request cannot complete",
            refund_request_id=request.request_id,
            status=request.status,
        )
    return replace(request, status=COMPLETED)


def reject(request: RefundRequest, reason: str) -> RefundRequest:
    """PENDING_REVIEW -> REJECTED; the reason (1-500 characters) is shown to the customer."""
    if not reason.strip():
        raise errors.ValidationFailed("reason is required", field="reason")
    _check_text(reason, "reason")
    if request.status != PENDING_REVIEW:
        raise _conflict(
            f"A {request.status} refund request cannot be rejected",
            refund_request_id=request.request_id,
            status=request.status,
        )
    return replace(request, status=REJECTED)


def refund_legs(
    refunds_account_id: str, account_id: str, amount_minor: int, currency: str
) -> tuple[Leg, Leg]:
    """The REFUND transaction's postings: from the bank's refunds account to the customer."""
    assert amount_minor > 0 and refunds_account_id != account_id
    legs = (
        Leg(refunds_account_id, -amount_minor, currency),
        Leg(account_id, amount_minor, currency),
    )
    assert_balanced(legs)
    return legs
