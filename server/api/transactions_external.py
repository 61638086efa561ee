"""TransactionService, external transfers: ACH, domestic and international wires."""

from __future__ import annotations

from server.api.transaction_base import MovementMethods


class ExternalTransferMethods(MovementMethods):
    """CreateExternalTransfer."""
