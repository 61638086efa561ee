"""Immediate transfers posted together: one transaction, each item refused on its own."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import peewee
import pytest

from server.domain import errors
from server.domain.principal import ADMIN, Principal
from server.services import transfer_batches, transfer_queue, transfers
from server.services.batcher import Knobs
from server.services.context import Movement, RequestContext
from server.store import transfer_function, tx
from server.store.bootstrap import ensure_internal_accounts
from server.store.db import is_postgres
from server.store.models import Account, LedgerTransaction, Posting
from tests.store import rows

STAFF = RequestContext(principal=Principal(client_id="sandbox-client", role=ADMIN))


def _transfer(source: str, destination: str, amount: float) -> transfers.TransferInput:
    return transfers.TransferInput(from_account_id=source, to_account_id=destination, amount=amount)


def _balance(account_id: str) -> int:
    return int(Account.get_by_id(account_id).balance_minor)


def test_a_refused_item_leaves_its_neighbours_posted(database: peewee.Database) -> None:
    ensure_internal_accounts()
    owner = rows.customer("Batch Owner")
    a, b, c = rows.account(owner, 1_000), rows.account(owner, 0), rows.account(owner, 0)
    results = transfer_batches.post_transfers(
        [
            (_transfer(a, b, 6.00), STAFF),
            (_transfer(a, c, 5.00), STAFF),  # 4.00 left: insufficient funds
            (_transfer(a, "acc_doesnotexist", 1.00), STAFF),
            (_transfer(b, c, 6.00), STAFF),  # spends what the first item brought
            (_transfer(a, a, 1.00), STAFF),  # refused before any read
            (_transfer(a, c, 1.001), STAFF),  # more decimals than USD has
        ]
    )
    assert isinstance(results[0], Movement) and isinstance(results[3], Movement)
    assert [type(result) for result in results[1:3]] == [
        errors.InsufficientFunds,
        errors.AccountNotFound,
    ]
    assert isinstance(results[4], errors.ValidationFailed)
    assert results[4].field == "toAccountId"
    assert isinstance(results[5], errors.BankError) and results[5].reason == "TXN005"
    assert (_balance(a), _balance(b), _balance(c)) == (400, 0, 600)
    assert results[0].from_account is not None
    assert results[0].from_account.balance_after_minor == 400
    assert results[3].to_account is not None and results[3].to_account.balance_after_minor == 600
    posted = LedgerTransaction.select().where(LedgerTransaction.from_account_id << [a, b])
    assert sorted(row.amount_minor for row in posted) == [600, 600]
    for row in posted:
        legs = Posting.select().where(Posting.transaction_id == row.id)
        assert sum(leg.amount_minor for leg in legs) == 0


def test_a_scheduled_transfer_is_refused_in_a_batch(database: peewee.Database) -> None:
    ensure_internal_accounts()
    owner = rows.customer("Batch Scheduler")
    a, b = rows.account(owner, 1_000), rows.account(owner, 0)
    request = transfers.TransferInput(
        from_account_id=a, to_account_id=b, amount=1.0, scheduled=True, scheduled_date="2099-01-01"
    )
    [result] = transfer_batches.post_transfers([(request, STAFF)])
    assert isinstance(result, errors.ValidationFailed) and result.field == "scheduled"
    assert _balance(a) == 1_000


def test_concurrent_single_transfers_share_transactions_and_lose_no_cent(
    database: peewee.Database,
) -> None:
    if not is_postgres():
        pytest.skip("SQLite posts each transfer alone (no batching)")
    ensure_internal_accounts()
    owner = rows.customer("Ring Owner")
    ring = [rows.account(owner, 100_000) for _ in range(6)]
    transfer_queue.configure(Knobs(wait_seconds=0.005, max_items=16, concurrency=1))
    start = threading.Barrier(16)

    def work(worker: int) -> int:
        done = 0
        start.wait()
        with database.connection_context():
            for step in range(15):
                source = ring[(worker + step) % len(ring)]
                destination = ring[(worker + step + 1 + worker % 2) % len(ring)]
                transfers.transfer(_transfer(source, destination, 1.25), STAFF)
                done += 1
        return done

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            assert sum(pool.map(work, range(16))) == 240
        stats = transfer_queue.batcher().stats
    finally:
        transfer_queue.configure(Knobs())
    assert stats.items == 240
    assert stats.largest > 1  # they did share transactions
    assert sum(_balance(account) for account in ring) == 600_000
    postings = Posting.select().where(Posting.account_id << ring)
    assert sum(p.amount_minor for p in postings) == 0
    assert postings.count() == 480


def test_a_refusal_the_domain_does_not_confirm_sends_the_batch_the_python_way(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    if not is_postgres():
        pytest.skip("SQLite has no function to disagree with")
    ensure_internal_accounts()
    owner = rows.customer("Disagreement Owner")
    a, b = rows.account(owner, 1_000), rows.account(owner, 0)

    def disagree(*_: object) -> errors.BankError:
        raise AssertionError("the function refused what the domain would post")

    monkeypatch.setattr(transfer_function, "_error", disagree)
    results = transfer_batches.post_transfers(
        [
            (_transfer(a, b, 2.00), STAFF),
            (_transfer(a, b, 50.00), STAFF),  # refused by the function: no funds
            (_transfer(a, b, 3.00), STAFF),
        ]
    )
    # The Python path's answers, not a failed batch: its neighbours post.
    assert isinstance(results[0], Movement) and isinstance(results[2], Movement)
    assert isinstance(results[1], errors.InsufficientFunds)
    assert (_balance(a), _balance(b)) == (500, 500)
    assert "disagrees with the domain" in caplog.text


class _Undone(Exception):
    pass


def test_a_transfer_inside_a_callers_transaction_is_undone_with_it(
    database: peewee.Database,
) -> None:
    """The generic CreateTransaction claims its Idempotency-Key in a
    transaction and posts the transfer inside it: the transfer must share
    that transaction's fate, never commit apart in a batch of its own."""
    ensure_internal_accounts()
    owner = rows.customer("Enclosed Owner")
    source, destination = rows.account(owner, 10_000), rows.account(owner, 0)
    before = LedgerTransaction.select().count()
    with pytest.raises(_Undone):

        def work() -> None:
            transfers.transfer(_transfer(source, destination, 12.5), STAFF)
            raise _Undone

        tx.write(work)
    assert LedgerTransaction.select().count() == before
    assert (_balance(source), _balance(destination)) == (10_000, 0)
    # Committed with its caller's transaction, it posts once.
    moved = tx.write(lambda: transfers.transfer(_transfer(source, destination, 12.5), STAFF))
    assert moved.transaction.status == "COMPLETED"
    assert (_balance(source), _balance(destination)) == (8_750, 1_250)
