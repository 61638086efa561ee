"""The money of a dispute: its credits and claw-back, and the sweeper's step
that posts provisional credits when they fall due.

Each posting is a COMPLETED ADJUSTMENT between the customer's account and the
bank's DISPUTES account of its currency (m0031), with the history line of the
customer's side and the transaction.created / completed events. Rules:
server.domain.disputes; rows: server.store.dispute_rows.
"""

from __future__ import annotations

import logging
from datetime import datetime

from server.crypto.fields import FieldSealer
from server.domain import disputes, errors, limits, movements
from server.domain import notifications as notes
from server.domain import transaction_states as states
from server.domain.ids import new_id
from server.services import dispute_notices, steps
from server.services.context import Posted, RequestContext
from server.store import dispute_rows, ledger, movement_rows, outbox, refund_rows, tx
from server.store.dispute_rows import DisputeRecord

log = logging.getLogger(__name__)
DUE_BATCH_MAX = 100


def post(
    record: DisputeRecord,
    posting: str,
    original_number: str,
    now: datetime,
    context: RequestContext | None = None,
) -> Posted:
    """The ADJUSTMENT of `posting` (PROVISIONAL_CREDIT, FINAL_CREDIT or
    CREDIT_REVERSAL) for the dispute's amount, on its account.

    A credit reaches a frozen account (it takes nothing from it); a
    claw-back is taken even past the overdraft line (the bank reclaims its
    own credit). A CLOSED account is TXN003 either way.
    """
    locks, number = steps.lock_numbered([record.account_id], now)
    account = locks[record.account_id]
    if account.status == "CLOSED":
        movements.require_active(account.id, account.status, "accountId")
    debit = posting == disputes.CREDIT_REVERSAL
    details: dict[str, object] = {"dispute_id": record.id, "dispute_posting": posting}
    if context is not None:
        details["posted_by"] = context.principal.user_id or context.principal.client_id
        details["metadata"] = context.metadata()
    balances: dict[str, int] = {}
    legs = disputes.posting_legs(
        disputes.disputes_account_id(record.currency),
        account.id,
        record.amount_minor,
        record.currency,
        posting,
    )
    description = disputes.posting_description(posting, original_number)
    row = ledger.post(
        balances_after=balances,
        transaction_id=new_id("txn"),
        number=number,
        type_=states.ADJUSTMENT,
        status=states.COMPLETED,
        currency=record.currency,
        amount_minor=record.amount_minor,
        legs=[ledger.Leg(leg.account_id, leg.amount_minor, leg.currency) for leg in legs],
        now=now,
        description=description,
        details=details,
        columns={
            ("from_account_id" if debit else "to_account_id"): account.id,
            "original_transaction_id": record.transaction_id,
            "client_id": context.principal.client_id if context is not None else None,
        },
        locked=locks,
    )
    movement_rows.write_entries(
        movement_rows.entry(
            row,
            account,
            direction="DEBIT" if debit else "CREDIT",
            amount_minor=record.amount_minor,
            fee_minor=0,
            balance_after=balances[account.id],
            limit_class=limits.CLASS_NONE,
            counterparty="Dispute",
            now=now,
        )
    )
    steps.emit_completed(row, account.id, now)
    return Posted(row, details, {account.id: account}, balances)


def credit_now(record: DisputeRecord, original_number: str, now: datetime) -> str:
    """Posts the provisional credit of an OPEN dispute whose credit is PENDING
    and records it; returns the ADJUSTMENT's id. Runs in the caller's transaction,
    after the dispute's row is locked."""
    disputes.credit(record.rules())
    posted = post(record, disputes.PROVISIONAL_CREDIT, original_number, now)
    transaction_id = str(posted.transaction.id)
    if not dispute_rows.mark_credited(record.id, transaction_id, now):
        raise disputes.DisputeConflict(
            "The dispute changed meanwhile; nothing was credited",
            metadata={"dispute_id": record.id},
        )
    return transaction_id


def _credit_one(dispute_id: str, now: datetime, sealer: FieldSealer | None) -> bool:
    """One due dispute in its own transaction; False if it was no longer due."""

    def work() -> bool:
        first = dispute_rows.get(dispute_id)
        if first is None:
            return False
        original = refund_rows.lock_original(first.transaction_id)
        found = dispute_rows.get(dispute_id, lock=True)
        if original is None or found is None or not disputes.credit_is_due(found.rules(), now):
            return False  # resolved or credited by someone else meanwhile
        credit_now(found, original.number, now)
        credited = dispute_rows.get(dispute_id)
        assert credited is not None
        dispute_notices.tell(sealer, credited, notes.DISPUTE_CREDITED, original.number)
        return True

    return tx.write(work)


def credit_due(now: datetime, sealer: FieldSealer | None = None) -> int:
    """Posts every provisional credit due by `now` (the sweeper's step); returns
    how many posted. A dispute whose account is closed is skipped and logged
    (staff resolve it); the others go on."""
    posted = 0
    skipped: set[str] = set()
    while True:
        batch = [
            i for i in dispute_rows.due_ids(now, DUE_BATCH_MAX + len(skipped)) if i not in skipped
        ]
        if not batch:
            return posted
        for dispute_id in batch:
            try:
                if _credit_one(dispute_id, now, sealer):
                    posted += 1
                    continue
            except errors.BankError as exc:
                log.warning(
                    "provisional credit not posted",
                    extra={"dispute_id": dispute_id, "reason": exc.reason},
                )
            skipped.add(dispute_id)  # never looked at twice in one sweep


def emit(event_type: str, record: DisputeRecord, now: datetime) -> None:
    """dispute.created or dispute.resolved, with the dispute as it is now."""
    rules = record.rules()
    data = disputes.event_data(rules, account_id=record.account_id, resolved_at=record.resolved_at)
    outbox.emit(event_type, record.id, data, now)
