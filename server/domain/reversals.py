"""Staff reversals: a compensating journal transaction that mirrors the original.

A posted transaction is never edited or deleted (postings are append-only).
A mistake is corrected by a new REVERSAL transaction whose postings are the
original's with every sign flipped, amount and fee legs alike; the original
keeps its postings and only its status moves to REVERSED, with
`reversal_transaction_id` pointing at the correction (transaction_service.proto,
ReverseTransaction).

Decisions where the seeds are silent:
- Only a COMPLETED transaction can be reversed. Anything earlier in its life
  has a cheaper exit (cancel it); a FAILED or CANCELLED one moved nothing.
- A second reversal is refused with CONFLICT (409, FAILED_PRECONDITION), so
  that a retried or doubled staff action can never give the money back twice.
- REVERSAL and REFUND transactions are not reversed: undoing a correction, or
  a refund tied to an approved request, is a new decision that staff record
  as an ADJUSTMENT, not a mechanical mirror.
- A transaction with refunds posted, or with a refund request still under
  review, is not reversed: the mirror would give back money a refund already
  gave back. Staff decide the open request first (RefundService).
- The reversal posts even when it takes the credited account below zero, as a
  bank's back office does: the correction makes the ledger true, and the
  customer's debt to the bank is then collected like any overdraft. Refusing
  it (TXN001) would leave money the customer was never owed spendable. The
  reversal triggers no overdraft fee: the bank does not charge for its own
  correction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.domain import errors
from server.domain import transaction_states as states
from server.domain.postings import Leg, assert_balanced, is_balanced

# TransactionReversalReasonEnum.TransactionReversalReason.
POSTING_ERROR = "POSTING_ERROR"
DUPLICATE_TRANSACTION = "DUPLICATE_TRANSACTION"
INCORRECT_AMOUNT = "INCORRECT_AMOUNT"
INCORRECT_ACCOUNT = "INCORRECT_ACCOUNT"
RETURNED_ITEM = "RETURNED_ITEM"
FRAUD = "FRAUD"
OTHER = "OTHER"
REVERSAL_REASONS = frozenset(
    {
        POSTING_ERROR,
        DUPLICATE_TRANSACTION,
        INCORRECT_AMOUNT,
        INCORRECT_ACCOUNT,
        RETURNED_ITEM,
        FRAUD,
        OTHER,
    }
)
NOTES_LENGTH_MAX = 500

# Corrections and refunds are not mirrored (see the module docstring).
NOT_REVERSIBLE_TYPES = frozenset({states.REVERSAL, states.REFUND})


class ReversalConflict(errors.Conflict):
    """The transaction's state forbids a reversal (409 CONFLICT, gRPC FAILED_PRECONDITION)."""

    grpc_status = "FAILED_PRECONDITION"


@dataclass(frozen=True, slots=True)
class ReversibleTransaction:
    """What the reversal rules need to know about the original transaction.

    `refunded_minor` is the sum of REFUND transactions posted against it;
    `open_refund_request_count` the number of its refund requests still in
    PENDING_REVIEW or APPROVED; `standing_dispute_count` the number of its
    disputes that are OPEN or were resolved for the customer (their credit
    already gave, or will give, the money back).
    """

    transaction_id: str
    type: str
    status: str
    reversal_transaction_id: str | None = None
    refunded_minor: int = 0
    open_refund_request_count: int = 0
    standing_dispute_count: int = 0


def _conflict(original: ReversibleTransaction, message: str) -> ReversalConflict:
    return ReversalConflict(
        message,
        metadata={
            "transaction_id": original.transaction_id,
            "status": original.status,
            "type": original.type,
        },
    )


def check_reversible(original: ReversibleTransaction) -> None:
    """Refuses, with ReversalConflict, every transaction that may not be reversed.

    The already-reversed check comes first so that a repeated reversal always
    answers the same message, whatever else is true of the original.
    """
    assert original.status in states.TRANSACTION_STATUSES, original.status
    assert original.type in states.TRANSACTION_TYPES, original.type
    if original.status == states.REVERSED or original.reversal_transaction_id:
        raise _conflict(original, "The transaction is already reversed")
    if original.type in NOT_REVERSIBLE_TYPES:
        raise _conflict(
            original, f"A {original.type} transaction cannot be reversed; post an ADJUSTMENT"
        )
    if original.status == states.REFUNDED or original.refunded_minor > 0:
        raise _conflict(
            original, "A transaction with refunds cannot be reversed; post an ADJUSTMENT"
        )
    if original.status != states.COMPLETED:
        raise _conflict(original, "Only a COMPLETED transaction can be reversed")
    if original.open_refund_request_count > 0:
        raise _conflict(
            original, "The transaction has a refund request under review; decide it first"
        )
    if original.standing_dispute_count > 0:
        raise _conflict(
            original,
            "The transaction is disputed (open, or resolved for the customer): the dispute "
            "gives the money back; resolve it instead of reversing",
        )


def check_reason(reason: str | None, notes: str) -> str:
    """The reversal reason, required; OTHER also requires notes (the audit trail's why)."""
    if not reason or reason not in REVERSAL_REASONS:
        raise errors.ValidationFailed(
            f"reason must be one of {', '.join(sorted(REVERSAL_REASONS))}", field="reason"
        )
    if len(notes) > NOTES_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"notes must be at most {NOTES_LENGTH_MAX} characters",
            field="notes",
            metadata={"length_max": str(NOTES_LENGTH_MAX)},
        )
    if reason == OTHER and not notes.strip():
        raise errors.ValidationFailed("notes are required when reason is OTHER", field="notes")
    return reason


def reversed_legs(original_legs: Sequence[Leg]) -> tuple[Leg, ...]:
    """The postings of the REVERSAL: every leg of the original with its sign flipped.

    Every leg is mirrored, the fee's included, so the paying account gets the
    fee back and the fee income account gives it up. The original's legs are
    the ledger's own and must balance; a mirror of balanced legs balances too,
    which is asserted anyway, because a reversal that does not balance would
    corrupt the ledger however it came about.
    """
    assert is_balanced(original_legs), f"the original does not balance: {original_legs!r}"
    mirrored = tuple(Leg(leg.account_id, -leg.amount_minor, leg.currency) for leg in original_legs)
    assert_balanced(mirrored)
    return mirrored


def plan_reversal(original: ReversibleTransaction, original_legs: Sequence[Leg]) -> tuple[Leg, ...]:
    """Checks that `original` may be reversed and returns the REVERSAL's postings."""
    check_reversible(original)
    return reversed_legs(original_legs)
