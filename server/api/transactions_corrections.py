"""TransactionService, corrections of a movement.

CancelTransaction, RefundTransaction (a customer's refund request) and
ReverseTransaction (staff).
"""

from __future__ import annotations

from server.api.transaction_base import MovementMethods


class CorrectionMethods(MovementMethods):
    """Cancel, refund request and reversal."""
