"""Staff reversals: a REVERSAL transaction mirroring a COMPLETED original.

One database transaction: the original's journal row is locked (before its
accounts, as everywhere), checked (domain.reversals), its postings read
back from the ledger and mirrored leg by leg (amount and fee alike) into a
new COMPLETED REVERSAL transaction that points at the original; the
original moves COMPLETED -> REVERSED only from the status read, and records
the reversal's id. Its history rows follow (REVERSED); each customer
account the reversal moves gets a history row of its own. No funds check
and no overdraft fee: the correction posts even when it overdraws
(domain.reversals). A held deposit's PENDING hold is VOIDED in the same
transaction: the money leaves with the reversal, not once more as a hold.

Limit usage is left as it was: the reversed debit still counts in the day
and month it left the account (a REVERSED history row counts, as m0012
sums it), and the reversal's own rows count toward no limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from server.domain import errors, limits, reversals
from server.domain import transaction_states as states
from server.domain.ids import new_id
from server.domain.postings import Leg
from server.services import steps
from server.services.context import Movement, Posted, RequestContext
from server.store import (
    clock,
    correction_rows,
    dispute_rows,
    holds,
    ledger,
    movement_rows,
    outbox,
    refund_rows,
    transactions,
    tx,
)
from server.store.models import Account, LedgerTransaction
from server.store.transactions import TransactionView


@dataclass(frozen=True)
class ReverseInput:
    transaction_id: str
    reason: str | None = None
    notes: str = ""


@dataclass(frozen=True)
class Reversed:
    """What ReverseTransaction answers: the new REVERSAL, and the original as it is now."""

    reversal: Movement
    original: TransactionView


def reverse(request: ReverseInput, context: RequestContext) -> Reversed:
    """Reverses a COMPLETED transaction; staff only."""
    principal = context.principal
    principal.require_staff(write=True)
    # ReverseTransaction declares the scope; the generic CreateTransaction
    # (banking.write) reaches here too.
    principal.require_scope("backoffice.admin")
    reason = reversals.check_reason(request.reason, request.notes)
    if not request.transaction_id:
        raise errors.ValidationFailed("transaction_id is required", field="transaction_id")

    def work() -> Posted:
        now = clock.now()
        original = correction_rows.lock_transaction(request.transaction_id)
        if original is None:
            raise errors.NotFound(
                "Transaction not found",
                field="transactionId",
                metadata={"transaction_id": request.transaction_id[:64]},
            )
        details = json.loads(original.details or "{}")
        legs = correction_rows.net_legs(correction_rows.postings_of(original.id))
        refunded, open_minor = refund_rows.sums(original.id)
        mirrored = reversals.plan_reversal(
            reversals.ReversibleTransaction(
                transaction_id=original.id,
                type=str(original.type),
                status=str(original.status),
                reversal_transaction_id=details.get("reversal_transaction_id") or None,
                refunded_minor=max(refunded, correction_rows.refunded_minor(original.id)),
                # Only "any open request" matters to the rules.
                open_refund_request_count=1 if open_minor else 0,
                standing_dispute_count=dispute_rows.standing(original.id)[0],
            ),
            legs,
        )
        customers = correction_rows.customer_account_ids([leg.account_id for leg in mirrored])
        locked = ledger.lock_accounts_with_owners(customers, "CUSTOMER")
        for account_id, amount_minor in holds.void_for_transaction(original.id, now).items():
            if account_id in locked.accounts:
                locked.accounts[account_id].held_minor -= amount_minor
        holders = {
            account_id: movement_rows.holder(account, locked.owners[account_id])
            for account_id, account in locked.accounts.items()
        }
        reversal_id = new_id("txn")
        details["reversal_transaction_id"] = reversal_id
        if not correction_rows.move_status(original, states.COMPLETED, states.REVERSED, details):
            raise reversals.ReversalConflict(
                "The transaction changed status while it was being reversed; read it again",
                metadata={"transaction_id": original.id},
            )
        correction_rows.set_entries_status(original.id, states.REVERSED)
        balances: dict[str, int] = {}
        reversal = ledger.post(
            balances_after=balances,
            transaction_id=reversal_id,
            number=steps.next_number(now),
            type_=states.REVERSAL,
            status=states.COMPLETED,
            currency=str(original.currency),
            amount_minor=int(original.amount_minor),
            fee_minor=int(original.fee_minor),
            legs=[ledger.Leg(leg.account_id, leg.amount_minor, leg.currency) for leg in mirrored],
            now=now,
            description=f"Reversal of {original.number}",
            details={
                "reversal": {
                    "reason": reason,
                    "notes": request.notes,
                    "reversedBy": principal.user_id or principal.client_id,
                },
                "metadata": context.metadata(),
            },
            columns={
                # The mirror of the original's sides: money goes back from
                # whoever received it to whoever paid.
                "from_account_id": original.to_account_id,
                "to_account_id": original.from_account_id,
                "original_transaction_id": original.id,
                "client_id": principal.client_id,
            },
            locked=locked.accounts,
        )
        _write_entries(reversal, mirrored, locked.accounts, holders, balances, now)
        affected = str(original.from_account_id or original.to_account_id)
        data = movement_rows.event_data(reversal, affected)
        outbox.emit_many(
            [
                ("transaction.created", reversal.id, data),
                ("transaction.completed", reversal.id, data),
            ],
            now,
        )
        return Posted(
            reversal, json.loads(reversal.details), locked.accounts, balances, holders=holders
        )

    posted = tx.write(work)
    return Reversed(
        reversal=posted.movement(),
        original=transactions.get(request.transaction_id, principal),
    )


def _write_entries(  # noqa: PLR0917 (one call site, every argument a different thing)
    reversal: LedgerTransaction,
    mirrored: tuple[Leg, ...],
    accounts: dict[str, Account],
    holders: dict[str, str],
    balances: dict[str, int],
    now: datetime,
) -> None:
    """One history row per customer account the reversal moves: what moved
    on that account (fee included), toward no limit."""
    entries = []
    for leg in mirrored:
        account = accounts.get(leg.account_id)
        if account is None:
            continue
        others = [holders[other] for other in accounts if other != account.id]
        entries.append(
            movement_rows.entry(
                reversal,
                account,
                direction="CREDIT" if leg.amount_minor > 0 else "DEBIT",
                amount_minor=abs(leg.amount_minor),
                fee_minor=0,
                balance_after=balances[account.id],
                limit_class=limits.CLASS_NONE,
                counterparty=others[0] if others else reversal.description,
                now=now,
            )
        )
    if entries:
        movement_rows.write_entries(*entries)
