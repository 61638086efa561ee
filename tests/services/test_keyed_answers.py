"""A keyed CreateTransfer batched behind another caller's lead is answered (and its
key keeps the answer) as its own caller sees the transaction, never as the call
that happens to lead the batch: a customer led by a staff caller is not shown the
other customer's balance, and still sees their own."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import peewee
import pytest

from backoffice.v1 import transaction_service_pb2 as pb
from server.api import call, idempotency, transactions_transfer
from server.domain.principal import ADMIN, CUSTOMER, Principal
from server.services import transfer_queue
from server.services.batcher import Knobs
from server.services.context import RequestContext
from server.services.transfers import TransferInput
from server.store import idempotency as keys
from server.store.bootstrap import ensure_internal_accounts
from server.store.db import is_postgres
from tests.store import rows

CREATE = "/backoffice.v1.TransactionService/CreateTransfer"
STAFF = Principal(client_id="app", role=ADMIN)


def _in_call(principal: Principal, work: Callable[[], object], out: dict[str, object]) -> None:
    token = call.begin(CREATE, f"req-{principal.role}")
    call.current().principal = principal
    try:
        with peewee.Database.connection_context(_db[0]):
            out["value"] = work()
    except BaseException as exc:
        out["error"] = exc
    finally:
        call.end(token)


_db: list[peewee.Database] = []


def _wait(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_a_batched_keyed_answer_is_rendered_for_its_own_caller(
    database: peewee.Database,
) -> None:
    if not is_postgres():
        pytest.skip("the micro-batcher runs on PostgreSQL only")
    _db[:] = [database]
    idempotency.configure(os.urandom(32))
    ensure_internal_accounts()
    alice, bob, carol = rows.customer("Alice"), rows.customer("Bob"), rows.customer("Carol")
    a_acc, b_acc = rows.account(alice, 10_000), rows.account(bob, 777_700)
    s1, s2 = rows.account(carol, 10_000), rows.account(carol, 0)
    x1, x2 = rows.account(carol, 10_000), rows.account(carol, 0)
    transfer_queue.configure(Knobs(wait_seconds=5.0, max_items=2, concurrency=1))
    batcher = transfer_queue.batcher()
    locked, release = threading.Event(), threading.Event()

    def blocker() -> None:
        with peewee.Database.connection_context(database), database.atomic():
            database.execute_sql("SELECT 1 FROM accounts WHERE id = %s FOR UPDATE", (x1,))
            locked.set()
            release.wait(20)

    def staff_transfer(source: str, target: str) -> Callable[[], object]:
        request = TransferInput(from_account_id=source, to_account_id=target, amount=1.0)
        return lambda: transfer_queue.submit(
            transfer_queue.Item(request, RequestContext(principal=STAFF))
        )

    alice_principal = Principal(client_id="app", role=CUSTOMER, user_id=alice)
    alice_request = pb.CreateTransferRequest(from_account_id=a_acc, to_account_id=b_acc, amount=1.0)

    def alice_transfer() -> object:
        transfer = transactions_transfer.transfer_input(alice_request)
        return idempotency.run_queued(
            CREATE,
            "k-alice",
            alice_request,
            lambda use: transfer_queue.Item(
                transfer, RequestContext(principal=alice_principal), use
            ),
            transactions_transfer.answer_of,
        )

    outs: dict[str, dict[str, object]] = {"x": {}, "a": {}, "s": {}}
    hold = threading.Thread(target=blocker)
    tx = threading.Thread(target=_in_call, args=(STAFF, staff_transfer(x1, x2), outs["x"]))
    hold.start()
    locked.wait(10)
    try:
        tx.start()
        _wait(lambda: batcher._running == 1)  # X's batch runs (blocked on the lock)
        ta = threading.Thread(target=_in_call, args=(alice_principal, alice_transfer, outs["a"]))
        ta.start()
        _wait(lambda: len(batcher._queue) == 1)  # Alice queues
        ts = threading.Thread(target=_in_call, args=(STAFF, staff_transfer(s1, s2), outs["s"]))
        ts.start()  # fills the queue: the staff caller leads [Alice, staff]
        ta.join(20)
        ts.join(20)
    finally:
        release.set()
        hold.join(20)
        tx.join(20)
        transfer_queue.configure(Knobs())
    assert "error" not in outs["a"], outs["a"]
    response = outs["a"]["value"]
    assert isinstance(response, pb.CreateTransferResponse)
    stored = keys.lookup(keys.Owner("app", alice), "k-alice", _now())
    assert stored is not None and stored.response is not None
    # Alice may not see Bob's balance, neither now nor in the stored replay.
    assert not response.transaction.to_account.HasField("balance"), response
    replay = pb.CreateTransferResponse.FromString(stored.response)
    assert not replay.transaction.to_account.HasField("balance"), replay


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
