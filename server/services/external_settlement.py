"""An external transfer's later steps: submission, settlement, a network return.

Called by the worker (server.workers.external) with a transfer it claimed,
inside the worker's database transaction. The source account is locked and
the row read again under the lock; each step is a conditional status change
(server.store.external_rows.move_status) written with its money, so a step
another process (or a cancel) already took is never taken twice.

- PENDING -> PROCESSING at `submission_at`: the reservation is released and
  the debit posts (amount to the rail's clearing account, fee to fee income)
  without any check: the money was reserved at acceptance, and refusing now
  would strand it. A balance taken below zero costs the overdraft fee.
- PROCESSING -> COMPLETED at `estimated_completion`: nothing posts; the
  amount stays in the clearing account as the bank's position against the
  network, which operations settle in bulk outside this API.
- PROCESSING -> FAILED at `estimated_completion` when the network returned
  the transfer (in the sandbox, by the beneficiary's account number): the
  clearing account and fee income give amount and fee back on the same
  journal transaction, the limits count it no more, and R01 costs the
  returned-item fee as a FEE transaction of its own.
"""

from __future__ import annotations

import json
from datetime import datetime

from server.domain import external, movements
from server.services import steps
from server.store import external_rows, ledger, movement_rows, outbox
from server.store.bootstrap import internal_account_id
from server.store.models import Account, LedgerTransaction

CLEARING_ACCOUNT = {
    external.ACH: "ACH_CLEARING",
    external.WIRE: "WIRE_CLEARING",
    external.INTERNATIONAL_WIRE: "WIRE_CLEARING",
}


def step(claimed: LedgerTransaction, now: datetime) -> str:
    """Takes the transfer's next due step; returns its status after it."""
    from_id = str(claimed.from_account_id)
    source = ledger.lock_accounts([from_id])[from_id]
    row = external_rows.reread(claimed.id)  # under the lock
    if row.status == "PENDING":
        _submit(row, source, now)
    elif row.status == "PROCESSING":
        facts = external_rows.facts(row.id)
        assert facts is not None, row.id
        if facts.network_return_code:
            _fail(row, source, facts.network_return_code, now)
        else:
            _complete(row, now)
    return str(row.status)


def _submit(row: LedgerTransaction, source: Account, now: datetime) -> None:
    details = json.loads(row.details or "{}")
    rail = str(details.get("rail") or external.DEFAULT_RAIL)
    clearing = internal_account_id(CLEARING_ACCOUNT[rail], row.currency)
    details["clearingAccountId"] = clearing
    facts = external_rows.facts(row.id)
    assert facts is not None, row.id
    row.status = external.move("PENDING", "PROCESSING")
    external_rows.move_status(row, "PENDING", details=details, next_due=facts.estimated_completion)
    debit_minor = row.amount_minor + row.fee_minor
    reserved_minor = debit_minor + movements.reserved_overdraft_fee(details)
    external_rows.reserve(source.id, -reserved_minor)
    source.pending_debits_minor -= reserved_minor
    legs = [
        ledger.Leg(source.id, -debit_minor, row.currency),
        ledger.Leg(clearing, row.amount_minor, row.currency),
    ]
    if row.fee_minor:
        legs.append(
            ledger.Leg(internal_account_id("FEE_INCOME", row.currency), row.fee_minor, row.currency)
        )
    balances = ledger.post_legs(row.id, legs, now, {source.id: source})
    external_rows.update_entry(row, source.id, balance_after=balances[source.id])
    if balances[source.id] < 0 and source.type in movements.OVERDRAFT_ACCOUNT_TYPES:
        steps.charge_overdraft_fee(source, now, row)


def _complete(row: LedgerTransaction, now: datetime) -> None:
    details = json.loads(row.details or "{}")
    row.status = external.move("PROCESSING", "COMPLETED")
    row.completed_at = now
    external_rows.move_status(row, "PROCESSING", details=details, completed_at=now)
    external_rows.update_entry(row, str(row.from_account_id))
    outbox.emit(
        "transaction.completed",
        row.id,
        movement_rows.event_data(row, str(row.from_account_id)),
        now,
    )


def _fail(row: LedgerTransaction, source: Account, code: str, now: datetime) -> None:
    network_return = next(r for r in external.SANDBOX_RETURNS.values() if r.code == code)
    details = json.loads(row.details or "{}")
    details["failure_code"] = code
    clearing = str(details["clearingAccountId"])
    row.status = external.move("PROCESSING", "FAILED")
    external_rows.move_status(
        row, "PROCESSING", details=details, failure_reason=network_return.reason
    )
    row.failure_reason = network_return.reason
    legs = [
        ledger.Leg(source.id, row.amount_minor + row.fee_minor, row.currency),
        ledger.Leg(clearing, -row.amount_minor, row.currency),
    ]
    if row.fee_minor:
        legs.append(
            ledger.Leg(
                internal_account_id("FEE_INCOME", row.currency), -row.fee_minor, row.currency
            )
        )
    ledger.post_legs(row.id, legs, now, {source.id: source})
    external_rows.fail_entry(row, source.id)
    external_rows.give_back_limits(
        source.id, row.amount_minor, external_rows.entry_created_at(row.id, source.id)
    )
    data = movement_rows.event_data(row, source.id)
    data["failureCode"], data["failureReason"] = code, network_return.reason
    outbox.emit("transaction.failed", row.id, data, now)
    fee_minor = external.returned_item_fee_minor(network_return, row.currency)
    if fee_minor:
        steps.charge_fee(
            source, now, row, fee_minor, kind="RETURNED_ITEM", label="Returned item fee"
        )
