"""TransactionService: CreateTransfer.

An immediate transfer on PostgreSQL is posted by the micro-batcher with
concurrent ones (server.services.transfer_queue); with an Idempotency-Key
the key is claimed, and its answer stored, in that batch's transaction
(`idempotency.run_queued`). Otherwise (SQLite, a scheduled transfer) the
key goes through `idempotency.run` as every other POST's does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import grpc

from backoffice.v1 import transaction_service_pb2 as pb
from server.api import audit_interceptor, idempotency, step_up
from server.api import transaction_views as views
from server.api.transaction_base import MovementMethods
from server.domain.principal import Principal
from server.services import transfer_queue, transfers
from server.services.context import Movement, RequestContext

CREATE_TRANSFER = "/backoffice.v1.TransactionService/CreateTransfer"


class TransferMethods(MovementMethods):
    """CreateTransfer."""

    def CreateTransfer(
        self, request: pb.CreateTransferRequest, context: grpc.ServicerContext
    ) -> Any:
        transfer, movement_context = transfer_input(request), self._context(context)
        key = idempotency.key_from(context)

        pending = step_up.hold_movement(self._settings, CREATE_TRANSFER, request, context)
        if pending is not None:

            def challenge() -> pb.CreateTransferResponse:
                return pb.CreateTransferResponse(challenge=pending.challenge())

            if key is not None:
                return idempotency.run(CREATE_TRANSFER, key, request, challenge, _serialize)
            return challenge()
        queued = transfer_queue.takes(transfer)
        if queued:
            # Posted by a micro-batch: its audit event commits with it.
            audit = audit_interceptor.draft(CREATE_TRANSFER, request)
            movement_context = dataclasses.replace(movement_context, audit=audit)
        if key is not None and queued:
            return idempotency.run_queued(
                CREATE_TRANSFER,
                key,
                request,
                lambda use: transfer_queue.Item(transfer, movement_context, use),
                answer_of,
            )

        def create() -> pb.CreateTransferResponse:
            result = transfers.transfer(transfer, movement_context)
            views.announce_created(result, transfer_message(result))
            return pb.CreateTransferResponse(transaction=views.created_message(result))

        if key is not None:
            return idempotency.run(CREATE_TRANSFER, key, request, create, _serialize)
        return create()


def _serialize(response: pb.CreateTransferResponse) -> bytes:
    return response.SerializeToString()


def verified(request: pb.CreateTransferRequest, context: RequestContext) -> tuple[Any, str]:
    """A held transfer, its challenge answered: posted inside the caller's write
    transaction (never the micro-batch, whose transaction is another), so the
    challenge's claim and the movement commit together. The Transaction and
    the answer's message."""
    result = transfers.transfer_here(transfer_input(request), context)
    return views.created_message(result), transfer_message(result)


def answer_of(result: Movement, creator: Principal) -> transfer_queue.Answer:
    """A batched keyed transfer's answer, as its key keeps it: made in the batch,
    which may run on another call's thread, so for `creator`, not that call's caller."""
    response = pb.CreateTransferResponse(transaction=views.created_message(result, creator))
    return transfer_queue.Answer(
        response.SerializeToString(),
        views.created_status(result),
        transfer_message(result),
        response,
    )


def transfer_input(request: Any) -> transfers.TransferInput:
    """From CreateTransferRequest or the generic CreateTransactionRequest."""
    return transfers.TransferInput(
        from_account_id=request.from_account_id,
        to_account_id=request.to_account_id,
        amount=request.amount,
        currency=request.currency,
        description=request.description,
        reference=request.reference,
        scheduled=request.scheduled,
        scheduled_date=request.scheduled_date if request.HasField("scheduled_date") else None,
    )


def transfer_message(result: Movement) -> str:
    if result.transaction.status == "SCHEDULED":
        return "Transfer scheduled successfully"
    if result.transaction.status == views.HELD_FOR_REVIEW:
        return "Transfer held for review"
    return "Transfer completed successfully"
