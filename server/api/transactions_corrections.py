"""TransactionService, corrections of a movement.

CancelTransaction, RefundTransaction (a customer's refund request) and
ReverseTransaction (staff).
"""

from __future__ import annotations

import grpc

from backoffice.v1 import refund_pb2
from backoffice.v1 import transaction_service_pb2 as pb
from server.api import call
from server.api.refunds import refund_message
from server.api.transaction_base import MovementMethods
from server.services import refunds


class CorrectionMethods(MovementMethods):
    """Cancel, refund request and reversal."""

    def RefundTransaction(
        self, request: pb.RefundTransactionRequest, context: grpc.ServicerContext
    ) -> pb.RefundTransactionResponse:
        reason = request.reason
        record = refunds.request_refund(
            refunds.RefundInput(
                transaction_id=request.transaction_id,
                reason=_refund_reason_word(reason) if reason else "",
                amount=request.amount if request.HasField("amount") else None,
                description=request.description,
            ),
            self._context(context),
        )
        call.current().created("Refund request submitted")
        return pb.RefundTransactionResponse(refund_request=refund_message(record))


def _refund_reason_word(value: int) -> str:
    """The reason's documented word (an undefined number is refused by the rules)."""
    try:
        return str(refund_pb2.RefundReasonEnum.RefundReason.Name(value))
    except ValueError:
        return str(value)
