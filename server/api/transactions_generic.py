"""The generic POST /transactions, the staff-only types: REVERSAL, REFUND,
FEE, INTEREST and ADJUSTMENT.

REVERSAL goes to the same use case as ReverseTransaction; its fields are
named for the generic request (`original_transaction_id`, `reversal_reason`),
so a refusal names them.

Step-up verification (server.api.step_up): a person's TRANSFER, PAYMENT or
EXTERNAL_TRANSFER at or above the threshold answers 202 with its challenge
(`held`), after the generic request's fields were checked against its type;
once answered, the generic request runs through the specific RPC's path
(the same field names), which answers the same Transaction.
"""

from __future__ import annotations

import grpc

from backoffice.v1 import transaction_pb2 as tpb
from backoffice.v1 import transaction_service_pb2 as pb
from server.api import step_up
from server.api.transactions_corrections import enum_word
from server.config import Settings
from server.domain import errors
from server.services import adjustments, reversals
from server.services.context import Movement, RequestContext

# The use case's field -> the generic request's field.
_REVERSAL_FIELDS = {"transaction_id": "original_transaction_id", "reason": "reversal_reason"}
CREATE_TRANSACTION = "/backoffice.v1.TransactionService/CreateTransaction"
STEP_UP_KINDS = frozenset({"TRANSFER", "PAYMENT", "EXTERNAL_TRANSFER"})


def held(
    settings: Settings,
    kind: str,
    request: pb.CreateTransactionRequest,
    context: grpc.ServicerContext,
) -> pb.CreateTransactionResponse | None:
    """The 202 answer when this movement waits for step-up verification."""
    if kind not in STEP_UP_KINDS:
        return None
    pending = step_up.hold(
        settings,
        CREATE_TRANSACTION,
        request,
        context,
        from_account_id=request.from_account_id,
        amount=request.amount,
        currency=request.currency,
    )
    return None if pending is None else pb.CreateTransactionResponse(challenge=pending.challenge())


def kind_of(request: pb.CreateTransactionRequest) -> str:
    """TRANSFER, PAYMENT or EXTERNAL_TRANSFER: the type of a held generic request."""
    return tpb.TransactionTypeEnum.TransactionType.Name(request.type)


def staff_only(
    kind: str, request: pb.CreateTransactionRequest, context: RequestContext
) -> tuple[Movement, str]:
    """REVERSAL, REFUND, FEE, INTEREST or ADJUSTMENT."""
    if kind == "REVERSAL":
        return reverse(request, context)
    if kind == "REFUND":
        amount = request.amount or None  # 0 (unset): all that is left
        result = adjustments.refund(
            adjustments.DirectRefundInput(request.original_transaction_id, amount), context
        )
        return result, "Refund posted successfully"
    return staff_posting(kind, request, context)


def reverse(request: pb.CreateTransactionRequest, context: RequestContext) -> tuple[Movement, str]:
    """REVERSAL: what ReverseTransaction does; answers the new REVERSAL."""
    try:
        result = reversals.reverse(
            reversals.ReverseInput(
                transaction_id=request.original_transaction_id,
                reason=enum_word(
                    tpb.TransactionReversalReasonEnum.TransactionReversalReason,
                    request.reversal_reason,
                ),
                notes=request.notes,
            ),
            context,
        )
    except errors.ValidationFailed as error:
        _rename_field(error)
        raise
    return result.reversal, "Transaction reversed successfully"


def staff_posting(
    kind: str, request: pb.CreateTransactionRequest, context: RequestContext
) -> tuple[Movement, str]:
    """FEE, INTEREST or ADJUSTMENT on a customer account."""
    direction = (
        enum_word(tpb.TransactionDirectionEnum.TransactionDirection, request.direction)
        if request.HasField("direction")
        else None
    )
    result = adjustments.post(
        adjustments.PostingInput(
            kind=kind,
            account_id=request.account_id,
            amount=request.amount,
            description=request.description,
            direction=direction,
            currency=request.currency,
        ),
        context,
    )
    return result, f"{kind.capitalize()} posted successfully"


def _rename_field(error: errors.BankError) -> None:
    renamed = _REVERSAL_FIELDS.get(error.field or "")
    if renamed:
        error.field = renamed
        error.metadata["field"] = renamed
