"""TransactionService, the batch API: BatchCreateTransfers.

The call checks the batch as a whole (1 to 1,000 requests, no key shared by
two items); each item is then checked and posted like a CreateTransfer, on
its own (server.api.batch_items). The answer is 200 with one result per
request, whatever the items' outcomes.

Step-up verification: a batch made with a person's token that holds a
transfer at or above the step-up threshold (server.api.step_up) is refused
whole, 422 STEP_UP_REQUIRED naming the first such item's amount, and nothing
is posted: a batch is not challenged, its large transfers go one by one
through CreateTransfer, which challenges them. Service clients' batches are
never refused so.
"""

from __future__ import annotations

import grpc

from backoffice.v1 import transaction_service_pb2 as pb
from server.api import batch_items, call, step_up
from server.api.transaction_base import MovementMethods
from server.config import Settings
from server.domain import errors
from server.domain.challenges import is_person
from server.services import challenges
from server.services.transfer_batches import BATCH_ITEMS_MAX


class BatchTransferMethods(MovementMethods):
    """BatchCreateTransfers."""

    def BatchCreateTransfers(
        self, request: pb.BatchCreateTransfersRequest, context: grpc.ServicerContext
    ) -> pb.BatchCreateTransfersResponse:
        check_batch(request)
        check_step_up(request, self._settings)
        results = batch_items.post(request.requests, self._context(context))
        call.current().ok("Batch processed")
        return pb.BatchCreateTransfersResponse(results=results)


def check_batch(request: pb.BatchCreateTransfersRequest) -> None:
    """Refuses the whole batch: its size, or a key two items share."""
    count = len(request.requests)
    if not 1 <= count <= BATCH_ITEMS_MAX:
        raise errors.ValidationFailed(
            f"requests must hold 1 to {BATCH_ITEMS_MAX:,} transfers",
            field="requests",
            metadata={"count": str(count), "max": str(BATCH_ITEMS_MAX)},
        )
    first_of: dict[str, int] = {}
    for index, item in enumerate(request.requests):
        key = item.idempotency_key
        if not key:
            continue
        if key in first_of:
            raise errors.ValidationFailed(
                f"requests[{index}] uses the idempotencyKey of requests[{first_of[key]}]",
                field=f"requests[{index}].idempotency_key",
                metadata={"index": str(index), "first_index": str(first_of[key])},
            )
        first_of[key] = index


def check_step_up(request: pb.BatchCreateTransfersRequest, settings: Settings) -> None:
    """Refuses a person's batch holding a transfer that needs step-up verification."""
    principal = call.current().principal
    if not is_person(principal):
        return
    thresholds = step_up.of(settings).thresholds
    for index, item in enumerate(request.requests):
        held = challenges.Held(
            method="",
            request=b"",
            idempotency_key=None,
            from_account_id=item.from_account_id,
            amount=item.amount,
            currency=item.currency,
        )
        decision = challenges.needs_hold(principal, held, thresholds)
        if decision is not None:
            raise errors.StepUpRequired(
                f"requests[{index}] needs step-up verification: send it with CreateTransfer",
                field=f"requests[{index}].amount",
                metadata={"index": str(index)},
            )
