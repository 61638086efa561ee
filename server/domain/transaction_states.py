"""The words of a transaction's life cycle and kinds, as transaction.proto spells them.

The rules of cancellation, refunds and reversals compare stored statuses and
types with these names; keeping them in one place means a typo is a NameError
at import time instead of a rule that silently never matches.
"""

from __future__ import annotations

# TransactionStatusEnum.TransactionStatus.
INITIATED = "INITIATED"
PENDING = "PENDING"
SCHEDULED = "SCHEDULED"
PROCESSING = "PROCESSING"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
REFUNDED = "REFUNDED"
REVERSED = "REVERSED"
# Held by fraud screening until staff decide (risk.proto); never cancellable,
# refundable or reversible.
PENDING_REVIEW = "PENDING_REVIEW"
TRANSACTION_STATUSES = frozenset(
    {
        INITIATED,
        PENDING,
        SCHEDULED,
        PROCESSING,
        COMPLETED,
        FAILED,
        CANCELLED,
        REFUNDED,
        REVERSED,
        PENDING_REVIEW,
    }
)

# TransactionTypeEnum.TransactionType.
TRANSFER = "TRANSFER"
EXTERNAL_TRANSFER = "EXTERNAL_TRANSFER"
DEPOSIT = "DEPOSIT"
WITHDRAWAL = "WITHDRAWAL"
PAYMENT = "PAYMENT"
REFUND = "REFUND"
FEE = "FEE"
INTEREST = "INTEREST"
REVERSAL = "REVERSAL"
ADJUSTMENT = "ADJUSTMENT"
TRANSACTION_TYPES = frozenset(
    {
        TRANSFER,
        EXTERNAL_TRANSFER,
        DEPOSIT,
        WITHDRAWAL,
        PAYMENT,
        REFUND,
        FEE,
        INTEREST,
        REVERSAL,
        ADJUSTMENT,
    }
)
