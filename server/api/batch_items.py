"""The items of a BatchCreateTransfers call: their idempotency keys, their results.

An item's `idempotency_key` is the Idempotency-Key of a CreateTransfer from
the same caller: the same table, the same owner (client and person), the
same request hash (the item hashes as the CreateTransferRequest with its
fields) and the same stored outcome (the CreateTransferResponse bytes, or
the refusal). So a transfer retried by either route is answered from the
first outcome and never moves money twice, and a CreateTransfer with a key
a batch item used replays that item's transaction byte for byte.

All of it happens in one database transaction, as the micro-batcher posts
single transfers (server.services.transfer_queue.post): the keyed items'
claims (together, in sorted key order, so two batches never wait for each
other's keys in a cycle), the posting of the items whose key is fresh and
the keys' outcomes. A crash keeps all
or nothing. As for a single request, a refusal that is answered 404, 409 or
422 is stored as the key's outcome; any other (a malformed item) gives the
key up, so the corrected item can use it again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from backoffice.v1 import transaction_service_pb2 as pb
from server.api import call, idempotency, transactions_transfer
from server.api import transaction_views as views
from server.domain import errors, requests
from server.services import transfer_queue
from server.services.context import RequestContext
from server.services.transfers import TransferInput
from server.store import clock, tx
from server.store import idempotency as store

# A key is stored under the method that used it first: a batch item is a CreateTransfer.
CREATE_TRANSFER = "/backoffice.v1.TransactionService/CreateTransfer"
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass
class _Item:
    """One request of the batch and, once known, its result."""

    index: int
    request: pb.BatchTransferItem
    result: pb.BatchTransferResult | None = None
    request_hash: str = ""


def post(
    items: Sequence[pb.BatchTransferItem], context: RequestContext
) -> list[pb.BatchTransferResult]:
    """One result per item, in order: posted, replayed from its key, or refused."""
    batch = [_Item(index, item) for index, item in enumerate(items)]
    for item in batch:
        key = item.request.idempotency_key
        if key and not _KEY_RE.match(key):
            item.result = _refused(
                errors.InvalidRequest(
                    "idempotencyKey must be 1 to 255 printable ASCII characters",
                    field="idempotency_key",
                ),
                item.index,
            )
        elif key:
            item.request_hash = idempotency.hash_of(CREATE_TRANSFER, _as_create(item.request))
    info = call.current()
    owner = store.Owner(info.principal.client_id, info.principal.user_id or "")
    return tx.write(lambda: _post(batch, owner, context))


def _post(
    batch: list[_Item], owner: store.Owner, context: RequestContext
) -> list[pb.BatchTransferResult]:
    """Inside the transaction (run again whole when it is retried)."""
    results = {item.index: item.result for item in batch if item.result is not None}
    fresh = [item for item in batch if item.index not in results]
    outcomes = transfer_queue.post([_queued(item, owner, context) for item in fresh])
    now = clock.now(sandbox=False)
    for item, outcome in zip(fresh, outcomes, strict=True):
        if isinstance(outcome, transfer_queue.Held):
            # Held by a request that has committed (PostgreSQL waited for it)
            # or by this very batch's Idempotency-Key.
            key = item.request.idempotency_key
            results[item.index] = _replayed(store.lookup(owner, key, now), item)
        elif isinstance(outcome, errors.BankError):
            results[item.index] = _refused(outcome, item.index)
        else:
            transaction = views.created_message(outcome.movement)
            results[item.index] = pb.BatchTransferResult(transaction=transaction)
    return [results[item.index] for item in batch]  # type: ignore[misc]


def _queued(item: _Item, owner: store.Owner, context: RequestContext) -> transfer_queue.Item:
    """The item as the queue posts it: its key claimed with the others, in sorted order."""
    use = None
    if item.request_hash:
        claim = store.Claim(owner, item.request.idempotency_key, CREATE_TRANSFER, item.request_hash)
        use = transfer_queue.KeyUse(claim, transactions_transfer.answer_of)
    return transfer_queue.Item(_transfer_input(item.request), context, use)


def _replayed(stored: store.Outcome | None, item: _Item) -> pb.BatchTransferResult:
    """The key's first outcome as this item's result, if the item is that request."""
    if stored is None or stored.request_hash != item.request_hash:
        # Another body, another method, or this batch's own key.
        return _refused(errors.IdempotencyKeyReused(), item.index)
    if stored.error is not None:
        return _refused(stored.error, item.index, replayed=True)
    if stored.response is None:
        return _refused(errors.IdempotencyRequestInProgress(), item.index)
    answer = pb.CreateTransferResponse.FromString(stored.response)
    return pb.BatchTransferResult(transaction=answer.transaction, replayed=True)


def _refused(
    error: errors.BankError, index: int, *, replayed: bool = False
) -> pb.BatchTransferResult:
    # The field is named once, as a path of this request (not as the item's own name).
    metadata = {name: value for name, value in error.metadata.items() if name != "field"}
    refusal = pb.BatchItemError(code=error.reason, message=error.message, metadata=metadata)
    if error.field:
        refusal.field = _field_name(error.field, index)
    return pb.BatchTransferResult(error=refusal, replayed=replayed)


def _field_name(field: str, index: int) -> str:
    """`requests[index].<name>`: on REST the name the client sent (else lowerCamelCase),
    on gRPC the proto name."""
    proto = requests.snake(field)
    names = call.current().field_names
    if names is None:
        return f"requests[{index}].{proto}"
    sent = names.get(f"requests.{proto}")
    name = sent.split(".", 1)[1] if sent else requests.camel(proto)
    return f"requests[{index}].{name}"


def _as_create(item: pb.BatchTransferItem) -> pb.CreateTransferRequest:
    """The CreateTransfer an item is: what its key's request hash is made of."""
    return pb.CreateTransferRequest(
        from_account_id=item.from_account_id,
        to_account_id=item.to_account_id,
        amount=item.amount,
        currency=item.currency,
        description=item.description,
        reference=item.reference,
    )


def _transfer_input(item: pb.BatchTransferItem) -> TransferInput:
    return transactions_transfer.transfer_input(_as_create(item))
