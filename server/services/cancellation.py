"""Cancelling a transaction before its money has left the bank.

One database transaction, for every kind alike, built on what the movement
kinds share rather than on any kind's own code:
- a PENDING transaction, and a SCHEDULED one of a kind that reserves, holds
  its amount and fee in the debited account's pending debits: the
  reservation is released;
- a PROCESSING one has posted its debit (customer -> the kind's clearing
  account, fee -> fee income): the mirror of every one of its postings is
  posted under the same transaction, so the cancelled transaction nets to
  zero on every account, as a CANCELLED history line shows it;
- a scheduled internal TRANSFER reserved nothing and posted nothing.
The journal row is locked first and its status changed only from the status
read (correction_rows.move_status): a cancel racing a worker either wins
(the worker then finds the row CANCELLED and moves nothing) or sees the
worker's new status and answers by it; money never moves twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from server.domain import cancellation, errors, external, movements, payments
from server.domain import transaction_states as states
from server.domain.lifecycle import Lifecycle
from server.domain.reversals import reversed_legs
from server.services.context import RequestContext
from server.store import clock, correction_rows, ledger, outbox, tx
from server.store.models import Account, LedgerTransaction
from server.store.movement_rows import event_data

# The kinds that change status after creation declare their legal moves;
# a cancel passes them too (an EXTERNAL_TRANSFER in PROCESSING is with the
# network already and cannot be recalled).
LIFECYCLES: Mapping[str, Lifecycle] = {
    states.EXTERNAL_TRANSFER: external.LIFECYCLE,
    states.PAYMENT: payments.LIFECYCLE,
}


@dataclass(frozen=True)
class CancelInput:
    transaction_id: str
    reason: str | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Cancelled:
    """What CancelTransaction answers."""

    transaction_id: str
    cancelled_at: datetime
    refund_amount_minor: int
    currency: str


def cancel(request: CancelInput, context: RequestContext) -> Cancelled:
    """Cancels the caller's PENDING, SCHEDULED or recent PROCESSING transaction."""
    reason = cancellation.check_reason(request.reason, request.notes)
    principal = context.principal

    def work() -> Cancelled:
        now = clock.now()
        row = correction_rows.lock_transaction(request.transaction_id)
        if row is None:
            raise _not_found(request.transaction_id)
        posted = correction_rows.postings_of(row.id)
        accounts = ledger.lock_accounts(correction_rows.customer_account_ids(_touched(row, posted)))
        _check_caller(row, accounts, context)
        principal.require_write()
        plan = cancellation.plan_cancellation(_cancellable(row, posted), now)
        lifecycle = LIFECYCLES.get(str(row.type))
        if lifecycle is not None:
            lifecycle.move(plan.status_before, states.CANCELLED)
        details = json.loads(row.details or "{}")
        details["cancellation"] = {
            "reason": reason,
            "notes": request.notes,
            "statusBefore": plan.status_before,
            "refundAmountMinor": plan.refund_amount_minor,
            "cancelledBy": principal.user_id or principal.client_id,
        }
        counted = correction_rows.counted_debits(row.id)
        if not correction_rows.move_status(
            row, plan.status_before, states.CANCELLED, details, cancelled_at=now
        ):
            raise errors.TransactionNotCancellable(
                "The transaction changed status while it was being cancelled; read it again",
                metadata={"transaction_id": row.id},
            )
        if plan.pending_debit_released_minor:
            correction_rows.release_pending_debit(
                str(row.from_account_id), plan.pending_debit_released_minor
            )
        if plan.credited_back_minor:
            _credit_back(row, posted, plan.credited_back_minor, now, accounts)
        correction_rows.set_entries_status(row.id, states.CANCELLED)
        correction_rows.uncount(counted)
        outbox.emit(
            "transaction.cancelled",
            row.id,
            event_data(row, str(row.from_account_id or row.to_account_id)),
            now,
        )
        return Cancelled(row.id, now, plan.refund_amount_minor, str(row.currency))

    return tx.write(work)


def _not_found(transaction_id: str) -> errors.NotFound:
    return errors.NotFound(
        "Transaction not found",
        field="transactionId",
        metadata={"transaction_id": transaction_id[:64]},
    )


def _touched(row: LedgerTransaction, posted: list[correction_rows.PostedLeg]) -> list[str]:
    ids = {leg.account_id for leg in posted}
    ids.update(str(value) for value in (row.from_account_id, row.to_account_id) if value)
    return sorted(ids)


def _check_caller(
    row: LedgerTransaction, accounts: dict[str, Account], context: RequestContext
) -> None:
    """404 for a transaction the caller cannot read (another customer's, as
    GetTransaction answers); 403 for one it reads but did not pay (the
    credited side of a transfer): only the debited account's owner, or
    staff, may cancel."""
    principal = context.principal
    owners = [
        accounts[a].owner_id for a in (row.from_account_id, row.to_account_id) if a in accounts
    ]
    if not any(principal.can_see(owner) for owner in owners):
        raise _not_found(row.id)
    debited = accounts.get(str(row.from_account_id))
    if debited is None or not principal.can_see(debited.owner_id):
        raise errors.Forbidden(
            "Only the owner of the debited account or staff may cancel a transaction",
            metadata={"transaction_id": row.id},
        )


def _cancellable(
    row: LedgerTransaction, posted: list[correction_rows.PostedLeg]
) -> cancellation.CancellableTransaction:
    """The rules' view of the row. A transaction enters PROCESSING in the
    database transaction that posts its debit (the kinds' shared
    convention), so its first posting dates the start of the window."""
    since = None
    if row.status == states.PROCESSING:
        since = min((leg.created_at for leg in posted), default=row.created_at)
    return cancellation.CancellableTransaction(
        transaction_id=row.id,
        status=str(row.status),
        amount_minor=int(row.amount_minor),
        fee_minor=int(row.fee_minor),
        processing_since=since,
        type=str(row.type),
        reserved_overdraft_fee_minor=movements.reserved_overdraft_fee(
            json.loads(row.details or "{}")
        ),
    )


def _credit_back(
    row: LedgerTransaction,
    posted: list[correction_rows.PostedLeg],
    credited_back_minor: int,
    now: datetime,
    accounts: dict[str, Account],
) -> None:
    """Posts the mirror of every posting of the PROCESSING transaction.

    The mirror of what was posted, rather than legs rebuilt from the
    amounts, gives back exactly what left each account, through whichever
    clearing account the kind used (its details name it as
    `clearingAccountId`). One leg per account, as the ledger writes them.
    """
    mirrored = reversed_legs(correction_rows.net_legs(posted))
    debited = str(row.from_account_id)
    back = sum(leg.amount_minor for leg in mirrored if leg.account_id == debited)
    assert back == credited_back_minor, (row.id, back, credited_back_minor)
    ledger.post_legs(
        row.id,
        [ledger.Leg(leg.account_id, leg.amount_minor, leg.currency) for leg in mirrored],
        now,
        accounts,
    )
