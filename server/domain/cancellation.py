"""Which transactions a customer or staff may cancel, and what cancelling gives back.

Seed 002 section 9 lists the cancellable statuses: PENDING, SCHEDULED and
PROCESSING "within 5 minutes". Everything else is refused: TXN008 for a
COMPLETED transaction (the seed's "already completed"), TXN007 for every
other state (FAILED, CANCELLED, REFUNDED, REVERSED, INITIATED, and PROCESSING
after the window). Both are 409 (API_CONTRACT.md).

The five minutes run from the moment the transaction entered PROCESSING.
They exist because the bank holds a debited payment briefly before handing
it to the payment network, and only then can it still be recalled; a
scheduled payment that started processing at 09:00 is exactly as recallable
at 09:02 as a payment created at 09:00. For a transaction created directly in
PROCESSING (an immediate bill payment) that moment is its creation, which is
what transaction_service.proto says today. The window is half-open: at
exactly five minutes it is over.

What cancelling gives back (CancelTransactionResponse.refund_amount): the
amount plus the transaction's own fee, in every cancellable status: dropped
from pending debits (PENDING, and SCHEDULED kinds that reserve), credited
back by compensating postings (PROCESSING), or never taken (a scheduled
internal TRANSFER, which reserves nothing: it is checked, counted and
reserved on the day it executes). Every other kind reserves its amount and
fee in pending debits from the moment it is PENDING or SCHEDULED (the
convention the movement kinds share). A stand-alone overdraft
FEE the debit may have triggered is a transaction of its own and is not
given back here; the customer may ask for it with a refund request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain import errors
from server.domain import transaction_states as states

PROCESSING_CANCEL_WINDOW = timedelta(minutes=5)
CANCELLABLE_STATUSES = frozenset({states.PENDING, states.SCHEDULED, states.PROCESSING})

# TransactionCancelReasonEnum.TransactionCancelReason; unset is recorded as OTHER.
INCORRECT_AMOUNT = "INCORRECT_AMOUNT"
INCORRECT_RECIPIENT = "INCORRECT_RECIPIENT"
INCORRECT_DATE = "INCORRECT_DATE"
DUPLICATE_TRANSACTION = "DUPLICATE_TRANSACTION"
NO_LONGER_NEEDED = "NO_LONGER_NEEDED"
SUSPECTED_FRAUD = "SUSPECTED_FRAUD"
OTHER = "OTHER"
# Kinds whose SCHEDULED transactions reserve nothing until they execute.
UNRESERVED_SCHEDULED_TYPES = frozenset({states.TRANSFER})
CANCEL_REASONS = frozenset(
    {
        INCORRECT_AMOUNT,
        INCORRECT_RECIPIENT,
        INCORRECT_DATE,
        DUPLICATE_TRANSACTION,
        NO_LONGER_NEEDED,
        SUSPECTED_FRAUD,
        OTHER,
    }
)
NOTES_LENGTH_MAX = 500

# The webhook event a cancellation emits (seed 002, "Webhooks").
EVENT_CANCELLED = "transaction.cancelled"


@dataclass(frozen=True, slots=True)
class CancellableTransaction:
    """What the cancellation rules need to know about a transaction.

    `processing_since` is when it entered PROCESSING (its creation time if it
    was created PROCESSING); None in any other status. Amounts are minor
    units of the transaction's currency. `type` decides whether a SCHEDULED
    transaction reserved its amount (UNRESERVED_SCHEDULED_TYPES);
    `reserved_overdraft_fee_minor` is what a reserving transaction held
    beyond amount and fee (movements.RESERVED_OVERDRAFT_FEE_KEY).
    """

    transaction_id: str
    status: str
    amount_minor: int
    fee_minor: int = 0
    processing_since: datetime | None = None
    type: str = states.TRANSFER
    reserved_overdraft_fee_minor: int = 0


@dataclass(frozen=True, slots=True)
class Cancellation:
    """What the use case must do to cancel, in one database transaction.

    At most one of the two parts is non-zero, by status: a PENDING
    transaction's pending debit is dropped (a SCHEDULED one's too, unless its
    kind reserves nothing), and a PROCESSING one's debit (and fee) is
    credited back. `refund_amount_minor` is what the response reports.
    """

    transaction_id: str
    status_before: str
    cancelled_at: datetime
    refund_amount_minor: int
    pending_debit_released_minor: int
    credited_back_minor: int


def processing_cancel_deadline(processing_since: datetime) -> datetime:
    """The first instant at which a PROCESSING transaction can no longer be cancelled."""
    return processing_since + PROCESSING_CANCEL_WINDOW


def check_cancellable(transaction: CancellableTransaction, now: datetime) -> None:
    """Refuses with TXN008 (COMPLETED) or TXN007 (any other non-cancellable state)."""
    assert transaction.status in states.TRANSACTION_STATUSES, transaction.status
    metadata = {"transaction_id": transaction.transaction_id, "status": transaction.status}
    if transaction.status == states.COMPLETED:
        raise errors.TransactionAlreadyCompleted(metadata=metadata)
    if transaction.status not in CANCELLABLE_STATUSES:
        raise errors.TransactionNotCancellable(
            f"A {transaction.status} transaction cannot be cancelled", metadata=metadata
        )
    if transaction.status == states.PROCESSING:
        assert transaction.processing_since is not None, "PROCESSING needs processing_since"
        deadline = processing_cancel_deadline(transaction.processing_since)
        if now >= deadline:
            raise errors.TransactionNotCancellable(
                "A PROCESSING transaction can be cancelled only within 5 minutes",
                metadata={**metadata, "cancellable_until": deadline.isoformat() + "Z"},
            )


def check_reason(reason: str | None, notes: str) -> str:
    """The recorded reason (unset becomes OTHER) after checking the notes' length."""
    if len(notes) > NOTES_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"notes must be at most {NOTES_LENGTH_MAX} characters",
            field="notes",
            metadata={"length_max": str(NOTES_LENGTH_MAX)},
        )
    if not reason:
        return OTHER
    if reason not in CANCEL_REASONS:
        raise errors.ValidationFailed(
            f"reason must be one of {', '.join(sorted(CANCEL_REASONS))}", field="reason"
        )
    return reason


def plan_cancellation(transaction: CancellableTransaction, now: datetime) -> Cancellation:
    """Checks that `transaction` may be cancelled at `now` and says what it releases."""
    check_cancellable(transaction, now)
    assert transaction.amount_minor > 0 and transaction.fee_minor >= 0
    total = transaction.amount_minor + transaction.fee_minor
    return Cancellation(
        transaction_id=transaction.transaction_id,
        status_before=transaction.status,
        cancelled_at=now,
        refund_amount_minor=total,
        pending_debit_released_minor=(
            total + transaction.reserved_overdraft_fee_minor if _reserved(transaction) else 0
        ),
        credited_back_minor=total if transaction.status == states.PROCESSING else 0,
    )


def _reserved(transaction: CancellableTransaction) -> bool:
    """Whether the transaction holds its amount and fee in pending debits."""
    if transaction.status == states.PENDING:
        return True
    return (
        transaction.status == states.SCHEDULED
        and transaction.type not in UNRESERVED_SCHEDULED_TYPES
    )
