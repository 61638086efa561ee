"""TransactionService, the batch API: BatchCreateTransfers.

The call checks the batch as a whole (1 to 1,000 requests, no key shared by
two items); each item is then checked and posted like a CreateTransfer, on
its own (server.api.batch_items). The answer is 200 with one result per
request, whatever the items' outcomes.
"""

from __future__ import annotations

import grpc

from backoffice.v1 import transaction_service_pb2 as pb
from server.api import batch_items, call
from server.api.transaction_base import MovementMethods
from server.domain import errors
from server.services.transfer_batches import BATCH_ITEMS_MAX


class BatchTransferMethods(MovementMethods):
    """BatchCreateTransfers."""

    def BatchCreateTransfers(
        self, request: pb.BatchCreateTransfersRequest, context: grpc.ServicerContext
    ) -> pb.BatchCreateTransfersResponse:
        check_batch(request)
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
