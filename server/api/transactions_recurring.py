"""TransactionService, recurring transfers and payments: create, list, get, cancel."""

from __future__ import annotations

from server.api.transaction_base import MovementMethods


class RecurringMethods(MovementMethods):
    """Recurring transfers and payments: create, list, get, cancel."""
