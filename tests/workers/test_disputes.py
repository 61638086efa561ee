"""The sweeper's provisional credits: due at the investigation deadline, posted
once, never after a resolution, and a resolution racing the sweeper on both
databases."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import peewee

from server.domain import disputes as rules
from server.domain.principal import ADMIN, Principal
from server.services import disputes, transfers
from server.services.context import RequestContext
from server.store import dispute_rows
from server.store.db import per_use_connection
from server.store.models import Account, LedgerTransaction, Posting
from server.workers import disputes as worker
from server.workers import due_work
from tests.store import rows

STAFF = RequestContext(principal=Principal(client_id="sandbox-client", role=ADMIN))
DISPUTES = rules.disputes_account_id("USD")


def _paid(amount: float) -> tuple[str, str]:
    """(a COMPLETED transfer of `amount` from a fresh customer account, that account)."""
    source = rows.account(rows.customer("Disputing Customer"), 1_000_00)
    target = rows.account(rows.customer("Merchant"), 0)
    movement = transfers.transfer(
        transfers.TransferInput(from_account_id=source, to_account_id=target, amount=amount),
        STAFF,
    )
    return movement.transaction.id, source


def _open(transaction_id: str, reason: str = "SERVICE_NOT_RECEIVED") -> dispute_rows.DisputeRecord:
    return disputes.open_dispute(disputes.DisputeInput(transaction_id, reason, None), STAFF)


def _balance(account_id: str) -> int:
    return int(Account.get_by_id(account_id).balance_minor)


def _postings(dispute_id: str) -> list[int]:
    """The customer-side amounts of the dispute's ADJUSTMENTs, each checked to balance."""
    found = []
    query = LedgerTransaction.select().where(
        (LedgerTransaction.type == "ADJUSTMENT")
        & LedgerTransaction.details.contains(f'"dispute_id": "{dispute_id}"')
    )
    for row in query.order_by(LedgerTransaction.created_at, LedgerTransaction.number):
        legs = {
            p.account_id: p.amount_minor
            for p in Posting.select().where(Posting.transaction == row.id)
        }
        assert sum(legs.values()) == 0 and DISPUTES in legs and len(legs) == 2
        found.append(next(amount for account, amount in legs.items() if account != DISPUTES))
    return found


def test_credits_post_at_the_deadline_once(database: peewee.Database) -> None:
    transaction_id, account = _paid(40)
    dispute = _open(transaction_id)
    other_id, other_account = _paid(25)
    unauthorized = _open(other_id, "UNAUTHORIZED_TRANSACTION")
    assert unauthorized.credit_status == rules.CREDITED  # at once, not by the sweeper
    assert dispute.credit_status == rules.PENDING
    due = dispute.credit_due
    assert due == dispute.investigation_deadline
    before = _balance(DISPUTES)
    assert worker.run_due(due - timedelta(seconds=1)) == 0
    assert _balance(account) == 960_00
    assert due_work.run(due)["dispute_credits_posted"] == 1
    assert _balance(account) == 1_000_00 and _balance(DISPUTES) == before - 40_00
    credited = dispute_rows.get(dispute.id)
    assert credited is not None and credited.credit_status == rules.CREDITED
    assert credited.credited_at == due and credited.credit_transaction_id
    assert worker.run_due(due + timedelta(days=30)) == 0  # nothing twice
    assert _postings(dispute.id) == [40_00]
    assert _postings(unauthorized.id) == [25_00] and _balance(other_account) == 1_000_00


def test_a_resolved_dispute_is_never_credited(database: peewee.Database) -> None:
    transaction_id, account = _paid(30)
    dispute = _open(transaction_id)
    disputes.resolve(STAFF.principal, dispute.id, outcome="MERCHANT_FAVOR", note="", context=STAFF)
    assert worker.run_due(dispute.credit_due + timedelta(days=1)) == 0
    assert _postings(dispute.id) == [] and _balance(account) == 970_00
    stored = dispute_rows.get(dispute.id)
    assert stored is not None and stored.credit_status == rules.NOT_CREDITED


def test_a_closed_account_is_skipped_and_the_others_credited(database: peewee.Database) -> None:
    first_id, closed = _paid(10)
    second_id, open_account = _paid(20)
    first, second = _open(first_id), _open(second_id)
    Account.update(status="CLOSED").where(Account.id == closed).execute()
    due = max(first.credit_due, second.credit_due)
    assert worker.run_due(due) == 1
    assert _postings(first.id) == [] and _postings(second.id) == [20_00]
    assert _balance(open_account) == 1_000_00
    Account.update(status="ACTIVE").where(Account.id == closed).execute()
    disputes.resolve(STAFF.principal, first.id, outcome="MERCHANT_FAVOR", note="", context=STAFF)


def _together(*works: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(len(works))
    results: list[Any] = [None] * len(works)

    def run(i: int) -> None:
        barrier.wait()
        try:
            with per_use_connection():  # PostgreSQL: back to the pool when the thread ends
                results[i] = works[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_the_sweeper_racing_a_resolution(database: peewee.Database) -> None:
    for _ in range(4):
        transaction_id, account = _paid(50)
        dispute = _open(transaction_id)
        swept, resolved = _together(
            lambda due=dispute.credit_due: worker.run_due(due),
            lambda dispute_id=dispute.id: disputes.resolve(
                STAFF.principal, dispute_id, outcome="MERCHANT_FAVOR", note="", context=STAFF
            ),
        )
        assert isinstance(swept, int), swept
        assert isinstance(resolved, disputes.Resolved), resolved
        stored = dispute_rows.get(dispute.id)
        assert stored is not None and stored.status == rules.RESOLVED
        if stored.credit_status == rules.REVERSED:  # credited first, then taken back
            assert sorted(_postings(dispute.id)) == [-50_00, 50_00]  # worker: `now` ahead
            assert resolved.movement is not None
        else:  # resolved first: never credited
            assert stored.credit_status == rules.NOT_CREDITED
            assert _postings(dispute.id) == [] and resolved.movement is None
        assert _balance(account) == 950_00
