"""A live legacy idempotency key ('*' owner, m0013) replays for a
BatchCreateTransfers item as it does for a single request: the money never
moves a second time."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import peewee

from backoffice.v1 import transaction_service_pb2 as pb
from server.api import batch_items, call, idempotency
from server.domain.principal import ADMIN, Principal
from server.services.context import RequestContext
from server.store import idempotency as keys
from server.store.bootstrap import ensure_internal_accounts
from server.store.models import Account, IdempotencyKey
from tests.store import rows

CREATE = "/backoffice.v1.TransactionService/CreateTransfer"
BATCH = "/backoffice.v1.TransactionService/BatchCreateTransfers"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def test_batch_item_with_a_live_legacy_key_replays(database: peewee.Database) -> None:
    idempotency.configure(os.urandom(32))
    ensure_internal_accounts()
    owner = rows.customer("Legacy Owner")
    a, b = rows.account(owner, 10_000), rows.account(owner, 0)
    principal = Principal(client_id="legacy-client", role=ADMIN)
    item = pb.BatchTransferItem(
        from_account_id=a, to_account_id=b, amount=1.0, idempotency_key="k-legacy"
    )
    request_hash = idempotency.hash_of(CREATE, batch_items._as_create(item))
    # The first request, answered before m0013 recorded owners: a live legacy row.
    IdempotencyKey.insert(
        client_id="legacy-client",
        user_id=keys.LEGACY_OWNER,
        key="k-legacy",
        method=CREATE,
        request_hash=request_hash,
        response=pb.CreateTransferResponse().SerializeToString(),
        http_status=201,
        message="Transfer completed successfully",
        created_at=_now(),
        expires_at=_now() + timedelta(hours=1),
    ).execute()
    # A single request (run / run_queued) is answered from it: lookup finds it.
    assert keys.lookup(keys.Owner("legacy-client", ""), "k-legacy", _now()) is not None
    token = call.begin(BATCH, "req-legacy")
    try:
        call.current().principal = principal
        [result] = batch_items.post([item], RequestContext(principal=principal))
    finally:
        call.end(token)
    # The retry must be answered from the stored outcome and move nothing.
    assert result.replayed, result
    assert int(Account.get_by_id(b).balance_minor) == 0
