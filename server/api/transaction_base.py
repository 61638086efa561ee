"""What every TransactionService method group shares: the servicer's settings and
the caller facts a movement keeps as its metadata.

TransactionService is one proto service, but its methods live in one module
per movement kind or capability (`transactions.py`: transfers, deposits,
withdrawals, reads; `transactions_external.py`; `transactions_payments.py`;
`transactions_corrections.py`: cancel, refund requests, reversal;
`transactions_recurring.py`), each a mixin of `TransactionServicer`. A
method not written yet falls through to the generated base and answers
UNIMPLEMENTED (501).
"""

from __future__ import annotations

import grpc

from server.api import call
from server.config import Settings
from server.services.context import RequestContext


def request_context(context: grpc.ServicerContext, *, sandbox: bool = False) -> RequestContext:
    """Caller and client facts kept as the transaction's metadata."""
    metadata = {
        key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)
    }
    info = call.current()
    return RequestContext(
        principal=info.principal,
        ip_address=str(info.client_address) if info.client_address else "",
        device=metadata.get("user-agent", "")[:200],
        location=metadata.get("x-client-location", "")[:100],
        device_id=metadata.get("x-device-id", "")[:200],
        sandbox=sandbox,
    )


class MovementMethods:
    """Base of the TransactionServicer mixins."""

    _settings: Settings

    def _context(self, context: grpc.ServicerContext) -> RequestContext:
        return request_context(context, sandbox=self._settings.sandbox)
