"""TransactionService, corrections of a movement.

CancelTransaction, RefundTransaction (a customer's refund request) and
ReverseTransaction (staff).
"""

from __future__ import annotations

from typing import Any

import grpc

from backoffice.v1 import refund_pb2
from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from server.api import call
from server.api import transaction_views as views
from server.api.convert import timestamp
from server.api.refunds import refund_message
from server.api.transaction_base import MovementMethods
from server.domain.money import to_major
from server.services import cancellation, refunds, reversals


class CorrectionMethods(MovementMethods):
    """Cancel, refund request and reversal."""

    def CancelTransaction(
        self, request: pb.CancelTransactionRequest, context: grpc.ServicerContext
    ) -> pb.CancelTransactionResponse:
        cancelled = cancellation.cancel(
            cancellation.CancelInput(
                transaction_id=request.transaction_id,
                reason=enum_word(
                    tpb.TransactionCancelReasonEnum.TransactionCancelReason, request.reason
                ),
                notes=request.notes,
            ),
            self._context(context),
        )
        call.current().ok("Transaction cancelled successfully")
        return pb.CancelTransactionResponse(
            transaction_id=cancelled.transaction_id,
            status=tpb.TransactionStatusEnum.CANCELLED,
            cancelled_at=timestamp(cancelled.cancelled_at),
            refund_amount=to_major(cancelled.refund_amount_minor, cancelled.currency),
        )

    def ReverseTransaction(
        self, request: pb.ReverseTransactionRequest, context: grpc.ServicerContext
    ) -> pb.ReverseTransactionResponse:
        result = reversals.reverse(
            reversals.ReverseInput(
                transaction_id=request.transaction_id,
                reason=enum_word(
                    tpb.TransactionReversalReasonEnum.TransactionReversalReason, request.reason
                ),
                notes=request.notes,
            ),
            self._context(context),
        )
        call.current().created("Transaction reversed successfully")
        return pb.ReverseTransactionResponse(
            transaction=views.created_message(result.reversal),
            original_transaction=views.view_message(result.original, call.current().principal),
        )

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


def enum_word(enum: Any, value: int) -> str | None:
    """An enum's documented word; None when unset (the rules refuse an undefined number)."""
    if not value:
        return None
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)
