"""TransactionService, bill payments to payees: CreatePayment."""

from __future__ import annotations

from server.api.transaction_base import MovementMethods


class PaymentMethods(MovementMethods):
    """Bill payments to payees: CreatePayment."""
