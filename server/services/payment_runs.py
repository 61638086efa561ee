"""A bill payment's due steps, run by the worker (server.workers.payments).

- SCHEDULED, at 09:00 UTC on its payment date: the reservation is released
  and the payment debited to BILL_PAY_CLEARING (PROCESSING), with funds, the
  account's status and that day's bill-payment limit checked then; a refusal
  makes it FAILED with why (TXN001, TXN003, TXN004), the reservation
  released, nothing posted.
- PROCESSING, at 09:00 UTC on its estimated delivery date: COMPLETED. No
  money moves: it stays in BILL_PAY_CLEARING as the network's counterpart
  (server.services.payments). Or FAILED when the payee refused it
  (domain.payments.payee_return; in sandbox mode only): its postings are
  mirrored from BILL_PAY_CLEARING back to the account under the same
  transaction, its history row shows FAILED without a balance, and the
  day's bill-payment limit counts it no more.

Each step is one conditional status change in the caller's transaction,
together with its money: when a cancel (or another process) moved the
payment first, the step does nothing. The worker's claim has locked the
journal row; the step locks the account, then writes `bill_payments` (the
lock order of server.store.ledger, which a cancel follows too).
"""

from __future__ import annotations

import json
from datetime import datetime

from server.domain import errors, movements
from server.domain import payments as rules
from server.domain.reversals import reversed_legs
from server.domain.scheduling import execution_time
from server.domain.transaction_states import COMPLETED, FAILED, PROCESSING, SCHEDULED
from server.services import steps
from server.services.payments import clearing_account_id
from server.store import correction_rows, ledger, movement_rows, outbox, payment_rows, tx
from server.store.models import Account, LedgerTransaction
from server.store.payment_rows import PaymentRecord


def run_step(payment: PaymentRecord, now: datetime, sandbox: bool = False) -> str:
    """Runs the claimed payment's due step; returns its status afterwards.

    A payment no longer SCHEDULED or PROCESSING (cancelled meanwhile) has no
    step left: it is taken off the worker's list.
    """
    row = payment_rows.transaction_row(payment.id)
    if row.status == SCHEDULED:
        return _debit_scheduled(row, payment, now)
    if row.status == PROCESSING:
        refusal = rules.payee_return(payment.payee_account_last4, sandbox)
        if refusal is not None:
            return _returned(row, payment, refusal, now)
        return _deliver(row, payment, now)
    payment_rows.set_due(payment.id, None)
    return str(row.status)


def _debit_scheduled(row: LedgerTransaction, payment: PaymentRecord, now: datetime) -> str:
    from_id = str(row.from_account_id)
    source = ledger.lock_accounts([from_id])[from_id]
    row = payment_rows.transaction_row(row.id)  # under the lock
    if row.status != SCHEDULED:
        payment_rows.set_due(payment.id, None)
        return str(row.status)
    rules.move(SCHEDULED, PROCESSING)
    try:
        # A savepoint: a refusal undoes only this attempt.
        tx.write(lambda: _debit(row, payment, source, now))
    except errors.Conflict:
        # Moved by someone else meanwhile: the next claim takes it off the list.
        return str(payment_rows.transaction_row(row.id).status)
    except errors.BankError as refusal:
        _fail(row, payment, refusal, now)
        return FAILED
    return PROCESSING


def _debit(row: LedgerTransaction, payment: PaymentRecord, source: Account, now: datetime) -> None:
    """Releases the reservation and posts the debit; refuses before writing anything."""
    movements.require_active(source.id, source.status, "fromAccountId")
    effective = steps.effective_limits(source)
    rules.check_amount(row.amount_minor, effective, row.currency)
    usage = steps.check_limits(source, rules.BILL_PAYMENT_LIMITS, effective, row.amount_minor, now)
    source = steps.holds_released(source, now)
    # The payment's own reservation is part of what it may spend.
    source.pending_debits_minor -= row.amount_minor
    overdraft_fee = movements.debit_fees(steps.funds(source), source.type, row.amount_minor)
    clearing = clearing_account_id(row.currency)
    details = json.loads(row.details or "{}")
    details["clearingAccountId"] = clearing
    if not payment_rows.move_status(
        row.id, SCHEDULED, PROCESSING, details=json.dumps(details, sort_keys=True)
    ):
        raise errors.Conflict("The payment changed status meanwhile")
    payment_rows.move_pending_debits(source.id, -row.amount_minor)
    balances = ledger.post_legs(
        row.id,
        [
            ledger.Leg(source.id, -row.amount_minor, row.currency),
            ledger.Leg(clearing, row.amount_minor, row.currency),
        ],
        now,
        {source.id: source},
    )
    payment_rows.debited_entry(row.id, source.id, balances[source.id], row.amount_minor, now)
    payment_rows.set_due(payment.id, execution_time(payment.estimated_delivery))
    steps.warn_if_approaching(source, row.amount_minor, usage, now)
    if overdraft_fee:
        steps.charge_overdraft_fee(source, now, row)


def _fail(
    row: LedgerTransaction, payment: PaymentRecord, refusal: errors.BankError, now: datetime
) -> None:
    """A scheduled payment refused when it came due: FAILED, its reservation released."""
    rules.move(SCHEDULED, FAILED)
    details = json.loads(row.details or "{}")
    details["failure_code"] = refusal.reason
    if not payment_rows.move_status(
        row.id,
        SCHEDULED,
        FAILED,
        failure_reason=refusal.message,
        details=json.dumps(details, sort_keys=True),
    ):
        raise errors.Conflict("The payment changed status meanwhile")
    payment_rows.move_pending_debits(str(row.from_account_id), -row.amount_minor)
    payment_rows.entries_status(row.id, FAILED)
    payment_rows.set_due(payment.id, None)
    row.status = FAILED
    data = movement_rows.event_data(row, str(row.from_account_id))
    data["failureCode"], data["failureReason"] = refusal.reason, refusal.message
    outbox.emit("transaction.failed", row.id, data, now)


def _deliver(row: LedgerTransaction, payment: PaymentRecord, now: datetime) -> str:
    """The payee has the money: COMPLETED (it stays in BILL_PAY_CLEARING)."""
    rules.move(PROCESSING, COMPLETED)
    if not payment_rows.move_status(row.id, PROCESSING, COMPLETED, completed_at=now):
        # A cancel got there first; its transaction did what was left to do.
        return str(payment_rows.transaction_row(row.id).status)
    payment_rows.entries_status(row.id, COMPLETED)
    payment_rows.set_due(payment.id, None)
    row.status = COMPLETED
    outbox.emit(
        "transaction.completed",
        row.id,
        movement_rows.event_data(row, str(row.from_account_id)),
        now,
    )
    return COMPLETED


def _returned(
    row: LedgerTransaction, payment: PaymentRecord, refusal: rules.PayeeReturn, now: datetime
) -> str:
    """The payee sent the payment back: FAILED, the debit mirrored back to the account."""
    rules.move(PROCESSING, FAILED)
    from_id = str(row.from_account_id)
    source = ledger.lock_accounts([from_id])[from_id]
    counted = correction_rows.counted_debits(row.id)
    details = json.loads(row.details or "{}")
    details["failure_code"] = refusal.code
    if not payment_rows.move_status(
        row.id,
        PROCESSING,
        FAILED,
        failure_reason=refusal.reason,
        details=json.dumps(details, sort_keys=True),
    ):
        # A cancel got there first; its transaction gave the money back.
        return str(payment_rows.transaction_row(row.id).status)
    mirrored = reversed_legs(correction_rows.net_legs(correction_rows.postings_of(row.id)))
    ledger.post_legs(
        row.id,
        [ledger.Leg(leg.account_id, leg.amount_minor, leg.currency) for leg in mirrored],
        now,
        {source.id: source},
    )
    payment_rows.failed_entry(row.id, source.id)
    correction_rows.uncount(counted)
    payment_rows.set_due(payment.id, None)
    row.status, row.failure_reason = FAILED, refusal.reason
    data = movement_rows.event_data(row, from_id)
    data["failureCode"], data["failureReason"] = refusal.code, refusal.reason
    outbox.emit("transaction.failed", row.id, data, now)
    return FAILED
